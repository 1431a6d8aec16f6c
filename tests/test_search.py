"""Hybrid retrieval over the sample corpus: modes, metadata boosts, clause coverage."""

from __future__ import annotations

import dataclasses

import pytest

from index.config import SearchConfig
from index.search import HybridSearcher
from index.store import IndexReader


@pytest.fixture(scope="module")
def reader(sample_index) -> IndexReader:
    return IndexReader(sample_index)


def _paths(searcher: HybridSearcher, question: str, k: int = 3) -> list[str]:
    return [h.sources[0].path[:3] for h in searcher.search(question, k).hits]


@pytest.mark.parametrize("mode", ["dense", "lexical", "hybrid"])
def test_every_mode_finds_the_sanctions_passage(reader, real_embedder, mode):
    searcher = HybridSearcher(reader, real_embedder, SearchConfig(mode=mode))
    hits = searcher.search("Why was Li Shangfu sanctioned by the US?", 3).hits
    assert any("sanctioned by the US in 2018" in h.text for h in hits)


def test_naming_an_outlet_favours_its_articles(reader, real_embedder):
    plain = HybridSearcher(reader, real_embedder, SearchConfig(outlet_boost=0.0))
    boosted = HybridSearcher(reader, real_embedder, SearchConfig(outlet_boost=1.0))
    question = "What did the Associated Press report about military relations?"
    assert _paths(boosted, question, 1) == ["001"]
    before = {h.passage_id: h.score for h in plain.search(question, 30).hits}
    after = {h.passage_id: h.score for h in boosted.search(question, 30).hits}
    for passage_id in before.keys() & after.keys():
        is_ap = reader.article_outlets[reader.passage_article[passage_id]] == "Associated Press"
        assert after[passage_id] - before[passage_id] == pytest.approx(1.0 if is_ap else 0.0)


def test_naming_a_date_favours_articles_published_then(reader, real_embedder):
    searcher = HybridSearcher(reader, real_embedder, SearchConfig(date_boost=1.0))
    question = "What did the Chinese defence ministry say on October 29, 2020?"
    assert _paths(searcher, question, 1) == ["002"]


def test_each_clause_gets_a_passage_near_the_top(reader, real_embedder):
    config = SearchConfig(clauses=True)
    searcher = HybridSearcher(reader, real_embedder, config)
    question = (
        "Why was Li Shangfu sanctioned by the US, and when did the US disinvite China "
        "from the RIMPAC naval drills?"
    )
    top = [h.text for h in searcher.search(question, 2).hits]
    assert any("sanctioned by the US in 2018" in t for t in top)
    assert any("RIMPAC" in t for t in top)
    flat = HybridSearcher(reader, real_embedder, dataclasses.replace(config, clauses=False))
    assert len(flat.search(question, 2).hits) == 2


def test_best_similarity_is_reported_even_when_filtered_out(reader, real_embedder):
    searcher = HybridSearcher(reader, real_embedder, SearchConfig())
    found = searcher.search("Taiwan", 3)
    assert found.best_similarity is not None
    assert found.best_similarity >= max(h.similarity for h in found.hits)
