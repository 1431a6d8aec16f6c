"""Test doubles that really implement newsbot's interfaces."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np


class HashingEmbedder:
    """A bag-of-words Embedder: each lower-cased word adds 1 to a hashed dimension.

    Deterministic and instant, so pipeline tests need not load the real model; texts
    that share words get a high cosine, as with a real model on easy questions.
    """

    def __init__(
        self,
        dimension: int = 256,
        fail_after: int | None = None,
        name: str = "hashing-test-embedder",
    ):
        self._dimension = dimension
        self._name = name
        self.calls = 0
        self.embedded = 0
        self._fail_after = fail_after

    @property
    def name(self) -> str:
        return self._name

    @property
    def dimension(self) -> int:
        return self._dimension

    def embed_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        self.calls += 1
        if self._fail_after is not None and self.embedded + len(texts) > self._fail_after:
            raise RuntimeError("simulated embedding failure")
        self.embedded += len(texts)
        return np.stack([self._vector(t) for t in texts]) if texts else self._empty()

    def embed_query(self, text: str) -> np.ndarray:
        return self._vector(text)

    def _empty(self) -> np.ndarray:
        return np.zeros((0, self._dimension), dtype=np.float32)

    def _vector(self, text: str) -> np.ndarray:
        vector = np.zeros(self._dimension, dtype=np.float32)
        for word in re.findall(r"\w+", text.lower()):
            digest = hashlib.blake2b(word.encode(), digest_size=4).digest()
            vector[int.from_bytes(digest, "little") % self._dimension] += 1.0
        norm = float(np.linalg.norm(vector))
        return vector / norm if norm else vector
