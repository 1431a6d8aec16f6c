"""Caches in the index root that make a rebuild incremental: vectors keyed by model and
text, so rebuilds embed only new text, and per-file build work keyed by path and content.

Both live in the index root (``embeddings.sqlite``, ``files.sqlite``), outside the
versioned builds, so they survive rebuilds; a build that fails half-way still leaves
the vectors it computed for the next attempt. ``CachingEmbedder`` wraps any Embedder.
"""

from __future__ import annotations

import contextlib
import hashlib
import pickle
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from index.embed import Embedder

CACHE_FILE = "embeddings.sqlite"
_BATCH = 2048  # texts looked up and stored per SQLite statement batch


def text_key(model: str, text: str) -> bytes:
    return hashlib.blake2b(f"{model}\x00{text}".encode(), digest_size=16).digest()


class _BlobTable:
    """A SQLite table of blobs by key, read and written in batches."""

    def __init__(self, path: Path, table: str, column: str):
        self.path = path
        self._table, self._column = table, column
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.closing(self._connect()) as db, db:
            db.execute(f"CREATE TABLE IF NOT EXISTS {table} (key BLOB PRIMARY KEY, {column} BLOB)")

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30)
        db.execute("PRAGMA journal_mode=WAL")
        return db

    def _blobs(self, keys: Sequence[bytes]) -> Iterator[tuple[bytes, bytes]]:
        with contextlib.closing(self._connect()) as db:
            for i in range(0, len(keys), _BATCH):
                batch = keys[i : i + _BATCH]
                marks = ",".join("?" * len(batch))
                query = f"SELECT key, {self._column} FROM {self._table} WHERE key IN ({marks})"
                yield from db.execute(query, batch)

    def _store(self, rows: Iterable[tuple[bytes, bytes]]) -> None:
        with contextlib.closing(self._connect()) as db, db:
            db.executemany(f"INSERT OR REPLACE INTO {self._table} VALUES (?, ?)", rows)


class EmbeddingCache(_BlobTable):
    """Float32 vectors keyed by ``text_key``."""

    def __init__(self, path: Path):
        super().__init__(path, "vectors", "vector")

    def get(self, keys: Sequence[bytes], dimension: int) -> dict[bytes, np.ndarray]:
        found: dict[bytes, np.ndarray] = {}
        for key, blob in self._blobs(keys):
            vector = np.frombuffer(blob, dtype=np.float32)
            if vector.shape == (dimension,):
                found[key] = vector
        return found

    def put(self, keys: Sequence[bytes], vectors: np.ndarray) -> None:
        self._store(
            (k, np.asarray(v, dtype=np.float32).tobytes())
            for k, v in zip(keys, vectors, strict=True)
        )


class CachingEmbedder:
    """An Embedder that serves passages from an EmbeddingCache and embeds only the rest."""

    def __init__(
        self, inner: Embedder, cache: EmbeddingCache, chunk: int = 512, refresh: bool = False
    ):
        self.inner = inner
        self.cache = cache
        self.refresh = refresh  # embed everything anew (a full rebuild), still storing it
        self._chunk = chunk  # stored after each chunk, so an interrupted build keeps its work
        self.hits = 0
        self.misses = 0

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def embed_query(self, text: str) -> np.ndarray:
        return self.inner.embed_query(text)

    def embed_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        keys = [text_key(self.name, t) for t in texts]
        cached = {} if self.refresh else self.cache.get(keys, self.dimension)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        missing = [i for i, key in enumerate(keys) if key not in cached]
        for i, key in enumerate(keys):
            if key in cached:
                out[i] = cached[key]
        self.hits += len(texts) - len(missing)
        self.misses += len(missing)
        # Longest first across all chunks, so each chunk's batches need little padding;
        # one bar for the whole job, so its ETA is the build's.
        missing.sort(key=lambda i: len(texts[i]), reverse=True)
        bar = tqdm(total=len(missing), unit="passage", desc="embedding", disable=not progress)
        with bar:
            for start in range(0, len(missing), self._chunk):
                part = missing[start : start + self._chunk]
                vectors = self.inner.embed_passages([texts[i] for i in part])
                out[part] = vectors
                self.cache.put([keys[i] for i in part], vectors)
                bar.update(len(part))
        return out


FILES_FILE = "files.sqlite"


class FileCache(_BlobTable):
    """Pickled per-file build work keyed by path, content and settings (see index.prepare).

    Like the embedding cache it lives in the index root and outlives builds. It is
    only ever read by the process that wrote it, from the user's own index folder.
    """

    def __init__(self, path: Path):
        super().__init__(path, "files", "work")

    def get(self, keys: Sequence[bytes]) -> dict[bytes, Any]:
        """The stored work of each key found; an entry that no longer unpickles is a miss."""
        found: dict[bytes, Any] = {}
        for key, blob in self._blobs(keys):
            with contextlib.suppress(Exception):  # stale classes, truncated blobs
                found[key] = pickle.loads(blob)
        return found

    def put(self, items: dict[bytes, Any]) -> None:
        self._store(
            (k, pickle.dumps(v, protocol=pickle.HIGHEST_PROTOCOL)) for k, v in items.items()
        )

    def retain(self, keys: Sequence[bytes]) -> None:
        """Forget every entry but ``keys`` (the files of the build just made)."""
        with contextlib.closing(self._connect()) as db, db:
            db.execute("CREATE TEMP TABLE keep (key BLOB PRIMARY KEY)")
            db.executemany("INSERT OR IGNORE INTO keep VALUES (?)", ((k,) for k in keys))
            db.execute("DELETE FROM files WHERE key NOT IN (SELECT key FROM keep)")
