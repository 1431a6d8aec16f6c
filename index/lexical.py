"""BM25 over passages and articles (bm25s, Snowball stemming, English stop words).

The only module that imports bm25s. Scores come back for every document, so the
searcher can fuse them with dense scores and apply filters exactly.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Sequence
from pathlib import Path

import bm25s
import numpy as np
import Stemmer

from index.errors import IndexCorruptError

_STEMMER = Stemmer.Stemmer("english")


def tokenize(texts: Sequence[str]) -> list[list[str]]:
    """Stemmed, stop-word-free terms of each text, as the index stores them."""
    tokens = bm25s.tokenize(
        list(texts), stopwords="en", stemmer=_STEMMER, return_ids=False, show_progress=False
    )
    return [list(t) for t in tokens]


class LexicalIndex:
    """A BM25 index over a list of texts, addressed by position."""

    def __init__(self, model: bm25s.BM25, size: int):
        self._model = model
        self.size = size

    @classmethod
    def build(cls, texts: Sequence[str]) -> LexicalIndex:
        return cls.from_tokens(tokenize(texts))

    @classmethod
    def from_tokens(
        cls, tokens: Sequence[list[str]], k1: float = 1.2, b: float = 0.75
    ) -> LexicalIndex:
        """An index of documents already split by ``tokenize`` (a build caches them)."""
        model = bm25s.BM25(k1=k1, b=b)
        with contextlib.redirect_stderr(io.StringIO()):  # bm25s prints its own progress
            model.index(list(tokens), show_progress=False)
        return cls(model, len(tokens))

    def save(self, directory: Path) -> None:
        self._model.save(str(directory), show_progress=False)

    @classmethod
    def load(cls, directory: Path, size: int) -> LexicalIndex:
        try:
            model = bm25s.BM25.load(str(directory), show_progress=False, mmap=False)
        except (OSError, ValueError, KeyError) as exc:
            raise IndexCorruptError(f"lexical index at {directory} is unreadable: {exc}") from exc
        return cls(model, size)

    def knows(self, term: str) -> bool:
        """Whether a stemmed term occurs anywhere in the indexed texts."""
        return bool(term) and term in self._model.vocab_dict

    def scores(self, text: str) -> np.ndarray:
        """BM25 score of every document for ``text`` (zeros when no term is known)."""
        (tokens,) = tokenize([text])
        out = np.zeros(self.size, dtype=np.float32)
        matrix = self._model.scores  # per-term BM25 weights, stored column by column (CSC)
        data, indices, indptr = matrix["data"], matrix["indices"], matrix["indptr"]
        for token in tokens:
            term = self._model.vocab_dict.get(token)
            if term is None:
                continue
            start, end = indptr[term], indptr[term + 1]
            # A term lists each document once, so plain indexed addition is exact; bm25s's
            # np.add.at (used when numba is absent) is several times slower at 1M passages.
            out[indices[start:end]] += data[start:end]
        return out


def query_terms(text: str) -> list[str]:
    """Stemmed, stop-word-free terms of ``text``, as the index sees them."""
    return tokenize([text])[0]
