"""The embedding cache: a rebuild embeds only passages whose text is new."""

from __future__ import annotations

import numpy as np

from index.build import build_index, cached
from index.cache import CACHE_FILE, CachingEmbedder, EmbeddingCache
from index.store import IndexReader
from tests.fakes import HashingEmbedder


def test_a_rebuild_embeds_only_changed_articles(tmp_path, corpus_copy, config):
    root = tmp_path / "index"
    inner = HashingEmbedder()
    first = build_index(corpus_copy, root, config, cached(inner, root))
    assert inner.embedded == first.passages
    build_index(corpus_copy, root, config, cached(inner, root))
    assert inner.embedded == first.passages  # nothing new to embed
    story = next(corpus_copy.glob("002_*.txt"))
    added = "\n\nA new closing paragraph was added to this story on Friday, the ministry said.\n"
    story.write_text(story.read_text("utf-8") + added, "utf-8")
    build_index(corpus_copy, root, config, cached(inner, root))
    assert 1 <= inner.embedded - first.passages <= 2  # only the changed tail of one article


def test_cached_vectors_equal_fresh_ones(tmp_path):
    inner = HashingEmbedder()
    embedder = CachingEmbedder(inner, EmbeddingCache(tmp_path / CACHE_FILE))
    texts = ["alpha beta", "gamma delta", "alpha beta"]
    first = embedder.embed_passages(texts)
    again = embedder.embed_passages(texts)
    assert np.array_equal(first, again)
    assert np.array_equal(first, inner.embed_passages(texts))
    assert (embedder.hits, embedder.misses) == (3, 3)


def test_index_built_through_the_cache_answers(tmp_path, corpus_copy, config):
    root = tmp_path / "index"
    inner = HashingEmbedder()
    build_index(corpus_copy, root, config, cached(inner, root))
    assert IndexReader(root).manifest.model == inner.name
