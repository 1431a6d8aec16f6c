"""Retrieval over the sample corpus with the real model and real FAISS."""

from __future__ import annotations

import pytest

from index.answer import Answerer, check_question, unknown_names
from index.config import AnswerConfig
from index.errors import QuestionError
from index.models import Filters
from index.store import IndexReader


@pytest.fixture(scope="module")
def answerer(sample_index, real_embedder) -> Answerer:
    return Answerer(IndexReader(sample_index), real_embedder, AnswerConfig())


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What did Liu Zhenli say about Taiwan?", "issue of Taiwan"),
        ("Why was Li Shangfu sanctioned?", "sanctioned by the US in 2018"),
        ("When did the US disinvite China from RIMPAC?", "RIMPAC naval drills in 2018"),
        ("What did Mark Esper tell China about drone strikes?", "drone strike"),
        ("Who spoke by video with General Charles Q. Brown?", "Liu"),
    ],
)
def test_answers_quote_the_passage_that_answers(answerer, question, expected):
    answer = answerer.ask(question)
    assert answer.answered
    assert any(expected in p.text for p in answer.passages), [p.text for p in answer.passages]
    assert answer.best_score is not None and answer.best_score >= AnswerConfig().min_score


@pytest.mark.parametrize(
    "question",
    [
        "Which chef won the baking contest?",
        "What is the best recipe for banana bread?",
        "Who scored the winning goal in the football final?",
    ],
)
def test_off_topic_questions_are_not_answered(answerer, question):
    answer = answerer.ask(question)
    assert not answer.answered
    assert answer.passages == ()
    assert answer.best_score is not None and answer.best_score < AnswerConfig().min_score


def test_highlight_is_a_sentence_of_the_passage(answerer):
    answer = answerer.ask("Why was Li Shangfu sanctioned?", top_k=5)
    for passage in answer.passages:
        assert passage.highlight in passage.text
    assert any("sanctioned" in p.highlight for p in answer.passages)


def test_index_info_is_reported(answerer):
    info = answerer.ask("Taiwan").index
    assert (info.articles, info.passages) == (5, answerer.reader.manifest.passages)


@pytest.mark.parametrize("question", ["", "   \n\t"])
def test_empty_questions_are_refused(question):
    with pytest.raises(QuestionError, match="empty"):
        check_question(question)


def test_long_questions_are_refused():
    with pytest.raises(QuestionError, match="keep it under"):
        check_question("why " * 500)


def test_filters_apply_inside_retrieval(answerer):
    ap_only = Filters(outlet="associated press")
    answer = answerer.ask("What did Liu Zhenli say about Taiwan?", top_k=5, filters=ap_only)
    assert answer.passages
    assert {s.outlet for p in answer.passages for s in p.sources} == {"Associated Press"}
    dated = answerer.ask("military talks", top_k=10, filters=Filters(until="2020-12-31"))
    assert {s.published for p in dated.passages for s in p.sources} == {"2020-10-29"}
    nothing = answerer.ask("military talks", filters=Filters(since="2030-01-01"))
    assert not nothing.answered and nothing.best_score is None


def test_bad_filters_are_refused(answerer):
    with pytest.raises(QuestionError, match="since: 'soon' is not a date"):
        answerer.ask("Taiwan", filters=Filters(since="soon"))
    with pytest.raises(QuestionError, match="is after until"):
        answerer.ask("Taiwan", filters=Filters(since="2022-01-01", until="2021-01-01"))


def test_offset_returns_the_next_passages(answerer):
    question = "What did Liu Zhenli say about Taiwan?"
    first = answerer.ask(question, top_k=2)
    more = answerer.ask(question, top_k=2, offset=2)
    both = answerer.ask(question, top_k=4)
    assert [p.text for p in first.passages + more.passages] == [p.text for p in both.passages]


def test_unanswered_questions_name_the_closest_topics(answerer):
    answer = answerer.ask("Which chef won the baking contest?")
    assert not answer.answered
    assert 1 <= len(answer.related) <= 3


def test_corpus_stats(answerer):
    stats = answerer.reader.stats()
    assert stats.articles == 5
    assert stats.outlets == (("Associated Press", 1),)
    assert (stats.first_published, stats.last_published) == ("2020-10-29", "2021-01-28")


def test_a_question_about_someone_the_corpus_never_mentions_is_declined(answerer):
    question = "What did General Zbigniew Kowalczyk say about Taiwan?"
    assert unknown_names(question, answerer.reader.lexical_passages) == ["Zbigniew", "Kowalczyk"]
    assert not answerer.ask(question).answered
    lenient = Answerer(
        answerer.reader, answerer.embedder, AnswerConfig(decline_unknown_names=False)
    )
    assert lenient.ask(question).answered


def test_known_names_and_sentence_starts_are_not_unknown(answerer):
    lexical = answerer.reader.lexical_passages
    assert unknown_names("Who is Wu Qian? Did Liu Zhenli meet Brown?", lexical) == []
    assert unknown_names("Considering the report, what did Brown say?", lexical) == []


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("  Who\tmet\nGeneral Brown?  ", "Who met General Brown?"),
        ("\x00Who met\x07 General\u202e Brown?\u2066", "Who met General Brown?"),
        ("Who\u200bmet\ufeffGeneral Brown?", "Who met General Brown?"),  # zero-width = a break
        ("Wh\u200do met General Brown?", "Who met General Brown?"),  # joiners vanish
    ],
)
def test_questions_lose_invisible_characters(raw, cleaned):
    assert check_question(raw) == cleaned


@pytest.mark.parametrize("raw", ["", "   ", "\u200b\u2060", "\x00\x1b\u202e\u2069"])
def test_an_invisible_question_is_empty(raw):
    with pytest.raises(QuestionError, match="the question is empty"):
        check_question(raw)
