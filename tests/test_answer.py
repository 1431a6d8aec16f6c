"""Retrieval over the sample corpus with the real model and real FAISS."""

from __future__ import annotations

import pytest

from index.answer import Answerer, check_question
from index.config import AnswerConfig
from index.errors import QuestionError
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
    assert answer.passages[0].score == answer.best_score


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
