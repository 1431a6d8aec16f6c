"""Near-duplicate passages across articles: syndicated copies of one wire story.

MinHash signatures of word 3-shingles go through LSH (datasketch) to find
candidate pairs cheaply; a pair is a copy when its shingle Jaccard and its
embedding cosine are both high. Spelling variants ("co-operation" vs
"cooperation") and a different sidebar still group; a machine-spun rewrite,
which changes most words, does not. Copies form groups (union-find); each
group is named by its smallest passage id.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
from datasketch import LeanMinHash, MinHash, MinHashLSH

NUM_PERM = 64
LSH_THRESHOLD = 0.5
MIN_JACCARD = 0.5
MIN_COSINE = 0.93
_WORD = re.compile(r"[a-z0-9]+")


def shingles(text: str) -> set[bytes]:
    words = _WORD.findall(text.lower().replace("-", ""))
    if len(words) < 3:
        return {" ".join(words).encode()}
    return {" ".join(words[i : i + 3]).encode() for i in range(len(words) - 2)}


_TEMPLATE = MinHash(num_perm=NUM_PERM, seed=7)  # its permutations are reused by every signature


def signature(text: str) -> np.ndarray:
    """The MinHash signature of a passage's shingles (stable across runs, so cacheable)."""
    minhash = MinHash(
        num_perm=NUM_PERM, seed=7, permutations=_TEMPLATE.permutations, scheme=_TEMPLATE.scheme
    )
    minhash.update_batch(list(shingles(text)))
    return np.asarray(minhash.hashvalues, dtype=np.uint64)


def group_passages(
    texts: Sequence[str], vectors: np.ndarray, signatures: Sequence[np.ndarray] | None = None
) -> np.ndarray:
    """Group id of every passage: the smallest id among its near-identical copies.
    ``signatures`` (from ``signature``) may come from a cache; missing ones are computed."""
    parent = np.arange(len(texts), dtype=np.int64)
    sets: dict[int, set[bytes]] = {}  # shingles, made only for LSH candidates (rare)
    lsh = MinHashLSH(threshold=LSH_THRESHOLD, num_perm=NUM_PERM)
    for i, text in enumerate(texts):
        values = signatures[i] if signatures is not None else signature(text)
        minhash = LeanMinHash(seed=7, hashvalues=values, scheme=_TEMPLATE.scheme)
        for j in lsh.query(minhash):
            a = sets.setdefault(i, shingles(text))
            b = sets.setdefault(j, shingles(texts[j]))
            if _is_copy(a, b, vectors[i], vectors[j]):
                _union(parent, i, j)
        lsh.insert(i, minhash)
    return np.array([_find(parent, i) for i in range(len(texts))], dtype=np.int64)


def _is_copy(a: set[bytes], b: set[bytes], va: np.ndarray, vb: np.ndarray) -> bool:
    jaccard = len(a & b) / len(a | b) if a or b else 0.0
    return jaccard >= MIN_JACCARD and float(va @ vb) >= MIN_COSINE


def _find(parent: np.ndarray, i: int) -> int:
    root = i
    while parent[root] != root:
        root = int(parent[root])
    while parent[i] != root:
        parent[i], i = root, int(parent[i])
    return root


def _union(parent: np.ndarray, i: int, j: int) -> None:
    a, b = _find(parent, i), _find(parent, j)
    if a != b:
        parent[max(a, b)] = min(a, b)
