"""Syndicated copies are grouped; rewrites and different stories are not."""

from __future__ import annotations

import itertools

import numpy as np

from index.chunk import chunk_article
from index.config import ChunkConfig
from index.dedup import group_passages, shingles
from index.ingest import read_corpus
from tests.fakes import HashingEmbedder


def _seed_passages(sample_corpus):
    read = read_corpus(sample_corpus)
    return [(a.path[:3], p) for a in read.articles for p in chunk_article(a, ChunkConfig())]


def test_wire_copies_group_and_rewrites_do_not(sample_corpus):
    passages = _seed_passages(sample_corpus)
    texts = [p.text for _, p in passages]
    groups = group_passages(texts, HashingEmbedder().embed_passages(texts))
    by_group: dict[int, set[str]] = {}
    for (seed, _), group in zip(passages, groups.tolist(), strict=True):
        by_group.setdefault(group, set()).add(seed)
    shared = [seeds for seeds in by_group.values() if len(seeds) > 1]
    copies_of_000 = sum(1 for seed, _ in passages if seed == "000")
    assert shared == [{"000", "001"}] * copies_of_000
    assert len(by_group) == len(passages) - copies_of_000


def test_group_id_is_the_smallest_member():
    texts = ["alpha beta gamma delta epsilon zeta eta theta"] * 3 + ["something else entirely"]
    vectors = np.eye(4, dtype=np.float32)[[0, 0, 0, 1]]
    assert group_passages(texts, vectors).tolist() == [0, 0, 0, 3]


def test_low_embedding_similarity_blocks_a_merge():
    texts = ["alpha beta gamma delta epsilon zeta eta theta"] * 2
    vectors = np.eye(2, dtype=np.float32)
    assert group_passages(texts, vectors).tolist() == [0, 1]


def test_answers_cite_every_copy_once(sample_index, real_embedder, sample_corpus):
    from index.answer import Answerer
    from index.config import AnswerConfig
    from index.store import IndexReader

    answerer = Answerer(IndexReader(sample_index), real_embedder, AnswerConfig())
    answer = answerer.ask("When did the US disinvite China from RIMPAC?", top_k=5)
    top = answer.passages[0]
    assert "RIMPAC" in top.text
    assert sorted(s.path[:3] for s in top.sources) == ["000", "001"]
    for source in top.sources:
        original = (sample_corpus / source.path).read_bytes().decode("utf-8")
        copy = original[source.start : source.end]
        assert "RIMPAC naval drills in 2018" in copy
    assert (
        top.text
        == (sample_corpus / top.sources[0].path)
        .read_bytes()
        .decode("utf-8")[top.sources[0].start : top.sources[0].end]
    )
    for question in ("Taiwan", "military relations new historical starting point", "Wu Qian"):
        quoted = answerer.ask(question, top_k=8).passages
        for a, b in itertools.combinations(quoted, 2):
            sa, sb = shingles(a.text), shingles(b.text)
            assert len(sa & sb) / len(sa | sb) < 0.5
