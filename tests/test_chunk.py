"""Passages are whole sentences with exact offsets, on the seeds and on random text."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from index.chunk import chunk_article, sentence_spans
from index.clean import clean_text
from index.config import ChunkConfig
from index.ingest import read_corpus
from index.models import Article, Span


def _article(text: str) -> Article:
    cleaned = clean_text(text)
    return Article("doc", "doc.txt", text, tuple(cleaned.body), "txt")


def test_every_seed_passage_round_trips(sample_corpus):
    read = read_corpus(sample_corpus)
    assert len(read.articles) == 5
    for article in read.articles:
        original = (sample_corpus / article.path).read_bytes().decode("utf-8")
        passages = chunk_article(article, ChunkConfig())
        assert passages
        for passage in passages:
            assert original[passage.start : passage.end] == passage.text


def test_seed_passages_stay_near_the_target_size(sample_corpus):
    config = ChunkConfig()
    sizes = [
        len(p.text.split())
        for a in read_corpus(sample_corpus).articles
        for p in chunk_article(a, config)
    ]
    assert max(sizes) <= config.max_words
    assert 40 <= sum(sizes) / len(sizes) <= config.max_words


def test_sentences_respect_abbreviations_and_initials():
    text = (
        "Col. Wu Qian spoke to the U.S. military on Thursday. Gen. Charles Q. Brown replied. "
        "Did it work? “Yes,” he said."
    )
    assert [text[s.start : s.end] for s in sentence_spans(text)] == [
        "Col. Wu Qian spoke to the U.S. military on Thursday.",
        "Gen. Charles Q. Brown replied.",
        "Did it work?",
        "“Yes,” he said.",
    ]


def test_passages_never_cross_dropped_lines():
    text = (
        "The first paragraph talks about the budget vote held on Tuesday evening.\n\n"
        "READ MORE: Something else entirely\n\n"
        "The second paragraph explains what the budget pays for over two years.\n"
    )
    passages = chunk_article(_article(text), ChunkConfig(target_words=90))
    assert [p.text for p in passages] == [
        "The first paragraph talks about the budget vote held on Tuesday evening.",
        "The second paragraph explains what the budget pays for over two years.",
    ]


def test_run_on_text_is_cut_between_words():
    text = " ".join(["word"] * 1000) + "."
    article = Article("doc", "doc.txt", text, (Span(0, len(text)),), "txt")
    passages = chunk_article(article, ChunkConfig(target_words=50, max_words=80, min_words=10))
    assert all(len(p.text.split()) <= 80 for p in passages)
    assert sum(len(p.text.split()) for p in passages) == 1000


_alphabet = st.sampled_from([*list("abcdefgh XYZ.,!?\n\n“”'’—-"), "U.S.", "Col.", "\r\n", "\xa0"])


@settings(max_examples=300, deadline=None)
@given(st.lists(_alphabet, max_size=400).map("".join), st.integers(10, 60))
def test_offsets_round_trip_on_random_text(text, target):
    config = ChunkConfig(target_words=target, max_words=target * 2, min_words=target // 3)
    article = _article(text)
    passages = chunk_article(article, config)
    previous_end = 0
    for passage in passages:
        assert text[passage.start : passage.end] == passage.text
        assert passage.text == passage.text.strip()
        assert passage.start >= previous_end
        assert any(s.start <= passage.start and passage.end <= s.end for s in _groups(article))
        previous_end = passage.end


def _groups(article: Article) -> list[Span]:
    """Spans of runs of adjacent body paragraphs, which passages must stay inside."""
    groups: list[Span] = []
    for span in article.body:
        if groups and not article.text[groups[-1].end : span.start].strip():
            groups[-1] = Span(groups[-1].start, span.end)
        else:
            groups.append(span)
    return groups
