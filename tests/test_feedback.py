"""Feedback votes: stored with question and passages, user ids only as salted hashes."""

from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor

from index.feedback import FeedbackStore
from index.models import Answer, IndexInfo, QuotedPassage, Source

SOURCE = Source("d1", "a.txt", "Title", "AP", "2021-01-28", None, 10, 40)
ANSWER = Answer(
    question="What did Liu say?",
    answered=True,
    passages=(
        QuotedPassage("Liu spoke about Taiwan.", "Liu spoke about Taiwan.", 0.71, (SOURCE,)),
    ),
    index=IndexInfo("2026-01-01T00:00:00Z", 5, 32),
)
USER_ID = 123456789012345678


def test_a_vote_keeps_question_passages_and_no_raw_user_id(tmp_path):
    store = FeedbackStore(tmp_path / "feedback.sqlite")
    store.record("k1", USER_ID, True, ANSWER)
    [vote] = store.votes()
    assert (vote.answer_id, vote.helpful, vote.question) == ("k1", True, "What did Liu say?")
    assert vote.passages[0]["text"] == "Liu spoke about Taiwan."
    assert vote.passages[0]["sources"] == [
        {"doc_id": "d1", "path": "a.txt", "line": None, "start": 10, "end": 40}
    ]
    assert vote.index_built_at == "2026-01-01T00:00:00Z"
    assert vote.user_hash == store.hash_user(USER_ID) != str(USER_ID)
    raw = (tmp_path / "feedback.sqlite").read_bytes()
    assert str(USER_ID).encode() not in raw


def test_a_second_vote_by_the_same_user_replaces_the_first(tmp_path):
    store = FeedbackStore(tmp_path / "feedback.sqlite")
    store.record("k1", USER_ID, True, ANSWER)
    store.record("k1", USER_ID, False, ANSWER)
    store.record("k1", 42, True, ANSWER)
    store.record("k2", USER_ID, True, ANSWER)
    votes = {(v.answer_id, v.user_hash): v.helpful for v in store.votes()}
    assert votes == {
        ("k1", store.hash_user(USER_ID)): False,
        ("k1", store.hash_user(42)): True,
        ("k2", store.hash_user(USER_ID)): True,
    }


def test_the_salt_is_per_file_and_survives_reopening(tmp_path):
    first = FeedbackStore(tmp_path / "a.sqlite")
    again = FeedbackStore(tmp_path / "a.sqlite")
    other = FeedbackStore(tmp_path / "b.sqlite")
    assert first.hash_user(USER_ID) == again.hash_user(USER_ID)
    assert first.hash_user(USER_ID) != other.hash_user(USER_ID)


def test_votes_from_many_threads_are_all_kept(tmp_path):
    store = FeedbackStore(tmp_path / "feedback.sqlite")
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda n: store.record(f"k{n}", n, n % 2 == 0, ANSWER), range(50)))
    assert len(store.votes()) == 50
    with sqlite3.connect(tmp_path / "feedback.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM votes WHERE helpful = 1").fetchone() == (25,)
