"""Retrieval: question → scored passages with their sources."""

from __future__ import annotations

import numpy as np

from index.embed import Embedder
from index.models import Filters, Hit
from index.store import IndexReader


class DenseSearcher:
    """Nearest passages by cosine similarity of sentence embeddings (FAISS inner product)."""

    def __init__(self, reader: IndexReader, embedder: Embedder):
        self.reader = reader
        self.embedder = embedder

    def search(
        self, question: str, k: int, filters: Filters | None = None
    ) -> tuple[np.ndarray, list[Hit]]:
        """The query vector and the ``k`` best hits, best first, among passages of
        articles matching ``filters``."""
        query = self.embedder.embed_query(question)
        allowed = self.reader.allowed_ids(filters) if filters else None
        found = self.reader.search(query, k, allowed)
        rows = self.reader.passages(pid for pid, _ in found)
        hits = [
            Hit(passage_id=pid, text=rows[pid][0], score=score, sources=(rows[pid][1],))
            for pid, score in found
            if pid in rows
        ]
        return query, hits
