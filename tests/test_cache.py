"""The caches of an index root: vectors by model and text, build work by file."""

from __future__ import annotations

import contextlib
import sqlite3

import numpy as np

from index.cache import CACHE_FILE, FILES_FILE, CachingEmbedder, EmbeddingCache, FileCache
from tests.fakes import HashingEmbedder


def test_cached_vectors_equal_fresh_ones(tmp_path):
    inner = HashingEmbedder()
    embedder = CachingEmbedder(inner, EmbeddingCache(tmp_path / CACHE_FILE))
    texts = ["alpha beta", "gamma delta", "alpha beta"]
    first = embedder.embed_passages(texts)
    again = embedder.embed_passages(texts)
    assert np.array_equal(first, again)
    assert np.array_equal(first, inner.embed_passages(texts))
    assert (embedder.hits, embedder.misses) == (3, 3)


def test_refresh_embeds_everything_and_stores_it(tmp_path):
    cache = EmbeddingCache(tmp_path / CACHE_FILE)
    inner = HashingEmbedder()
    CachingEmbedder(inner, cache).embed_passages(["alpha beta"])
    refreshing = CachingEmbedder(inner, cache, refresh=True)
    refreshing.embed_passages(["alpha beta", "gamma"])
    assert (refreshing.hits, refreshing.misses, inner.embedded) == (0, 2, 3)
    reading = CachingEmbedder(inner, cache)
    reading.embed_passages(["alpha beta", "gamma"])
    assert reading.hits == 2


def test_vectors_of_another_model_are_not_reused(tmp_path):
    cache = EmbeddingCache(tmp_path / CACHE_FILE)
    CachingEmbedder(HashingEmbedder(), cache).embed_passages(["alpha beta"])
    other = CachingEmbedder(HashingEmbedder(name="other-model"), cache)
    other.embed_passages(["alpha beta"])
    assert (other.hits, other.misses) == (0, 1)


def test_file_cache_round_trips_and_retains_only_the_given_keys(tmp_path):
    files = FileCache(tmp_path / FILES_FILE)
    files.put({b"a": {"articles": [1, 2]}, b"b": "two"})
    assert files.get([b"a", b"b", b"c"]) == {b"a": {"articles": [1, 2]}, b"b": "two"}
    files.retain([b"b"])
    assert files.get([b"a", b"b"]) == {b"b": "two"}


def test_an_unreadable_file_cache_entry_is_a_miss(tmp_path):
    files = FileCache(tmp_path / FILES_FILE)
    files.put({b"good": 1})
    with contextlib.closing(sqlite3.connect(tmp_path / FILES_FILE)) as db, db:
        db.execute("INSERT INTO files VALUES (?, ?)", (b"bad", b"\x80\x05not a pickle"))
    assert files.get([b"good", b"bad"]) == {b"good": 1}
