"""Retrieval: question → scored passages with their sources.

Hybrid retrieval takes candidates from FAISS (dense) and BM25 (lexical), scores
every candidate with both, and adds article-level evidence: BM25 of the whole
article (its title, outlet and body) and a boost when the question names the
article's outlet. News questions name people, places and outlets, and the article
is easier to find than the passage inside it, so the article's score helps rank
its passages. Filters restrict both retrievers before any truncation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from index.config import SearchConfig
from index.embed import Embedder
from index.models import Filters, Hit
from index.query import clauses, named_dates
from index.store import IndexReader


@dataclass(frozen=True)
class Retrieved:
    """What a search found: the query vector, the hits, and the highest cosine of any
    candidate (how close the corpus came to the question, whatever the ranking)."""

    query: np.ndarray
    hits: list[Hit]
    best_similarity: float | None


@dataclass(frozen=True)
class Scored:
    """A candidate passage with its evidence, before sources are looked up."""

    passage_id: int
    score: float
    similarity: float  # cosine between question and passage


class HybridSearcher:
    """Dense, lexical or fused retrieval over one open index."""

    def __init__(self, reader: IndexReader, embedder: Embedder, config: SearchConfig):
        self.reader = reader
        self.embedder = embedder
        self.config = config
        self._outlets = _outlet_patterns(reader.article_outlets)

    def search(self, question: str, k: int, filters: Filters | None = None) -> Retrieved:
        """The ``k`` best hits, best first, one per group of copies and at most
        ``per_article`` from one article, among articles matching ``filters``."""
        query = self.embedder.embed_query(question)
        allowed = self.reader.allowed_ids(filters) if filters else None
        ranked = self.rank(question, query, allowed)
        chosen = self._select(ranked, k)
        best = max((s.similarity for s in ranked), default=None)
        return Retrieved(query, self._hits(chosen, allowed), best)

    def rank(self, question: str, query: np.ndarray, allowed: np.ndarray | None) -> list[Scored]:
        """All candidates, best first. For a question of several clauses, the best passage
        for each clause comes first, so one answer covers every part of the question."""
        c = self.config
        parts = clauses(question) if c.clauses and c.mode == "hybrid" else []
        texts = [question, *parts]
        vectors = query[None, :]
        if parts and c.clause_vectors:
            vectors = np.vstack([vectors, self.embedder.embed_passages(parts)])
        elif parts:
            # Without clause vectors each clause reuses the whole question's cosine.
            vectors = np.repeat(vectors, len(texts), axis=0)
        lexical = self._lexical(texts, allowed) if c.mode != "dense" else []
        ids = self._candidates(vectors, lexical, allowed)
        if not ids:
            return []
        similarity = self.reader.vectors(ids) @ vectors.T
        owners = self.reader.passage_article[ids]
        article = self._article_bm25(question, owners) if c.mode == "hybrid" else None
        columns = []
        for t, text in enumerate(texts):
            lex = lexical[t][ids] if lexical else None
            extra = self._evidence(question, text, owners, article) if article is not None else 0.0
            columns.append(self._fuse(similarity[:, t], lex, extra))
        scores = np.column_stack(columns)
        order = _order(scores, c.clause_rounds)
        return [Scored(ids[i], float(scores[i, 0]), float(similarity[i, 0])) for i in order]

    def _lexical(self, texts: list[str], allowed: np.ndarray | None) -> list[np.ndarray]:
        """BM25 of every passage for each text, zero outside ``allowed``."""
        scores = [self.reader.lexical_passages.scores(text) for text in texts]
        if allowed is None:
            return scores
        mask = np.zeros(self.reader.manifest.passages, dtype=np.float32)
        mask[allowed] = 1.0
        return [s * mask for s in scores]

    def _candidates(
        self, vectors: np.ndarray, lexical: list[np.ndarray], allowed: np.ndarray | None
    ) -> list[int]:
        ids: set[int] = set()
        if self.config.mode != "lexical":
            # Clauses without their own vectors repeat the question's: search it once.
            for vector in np.unique(vectors, axis=0):
                ids.update(
                    i for i, _ in self.reader.search(vector, self.config.candidates, allowed)
                )
        for scores in lexical:
            ids.update(_top_matches(scores, self.config.candidates))
        return sorted(ids)

    def _fuse(
        self, similarity: np.ndarray, lexical: np.ndarray | None, evidence: np.ndarray | float
    ) -> np.ndarray:
        c = self.config
        if c.mode == "dense" or lexical is None:
            return similarity
        lex = lexical / lexical.max() if lexical.max() > 0 else lexical
        if c.mode == "lexical":
            return lex
        return c.dense_weight * similarity + c.lexical_weight * lex + evidence

    def _article_bm25(self, question: str, owners: np.ndarray) -> np.ndarray:
        """BM25 of each passage's whole article for the question, scaled to 0-1."""
        article = self.reader.lexical_articles.scores(question)[owners]
        return article / article.max() if article.max() > 0 else article

    def _evidence(
        self, question: str, part: str, owners: np.ndarray, article: np.ndarray
    ) -> np.ndarray:
        """What the article adds to each passage: its BM25 for the whole question, and
        boosts when the clause ``part`` (else the question) names its outlet or date."""
        c = self.config
        outlets = self._named_outlets(part) or self._named_outlets(question)
        dates = named_dates(part) or named_dates(question)
        outlet = np.array([self.reader.article_outlets[a] in outlets for a in owners], np.float32)
        dated = np.array([self.reader.article_published[a] in dates for a in owners], np.float32)
        return c.article_weight * article + c.outlet_boost * outlet + c.date_boost * dated

    def _named_outlets(self, question: str) -> set[str | None]:
        return {name for name, pattern in self._outlets if pattern.search(question)}

    def _select(self, ranked: list[Scored], k: int) -> list[Scored]:
        """The best ``k`` candidates, one per group of copies, at most ``per_article``
        from one article (filled up in rank order if the cap leaves fewer than ``k``)."""
        groups = self.reader.passage_group
        owners = self.reader.passage_article
        chosen: list[Scored] = []
        held_back: list[Scored] = []
        seen_groups: set[int] = set()
        per_article: dict[int, int] = {}
        for item in ranked:
            group = int(groups[item.passage_id])
            if group in seen_groups:
                continue  # a copy of a passage already chosen: cited as its source
            seen_groups.add(group)
            owner = int(owners[item.passage_id])
            if per_article.get(owner, 0) >= self.config.per_article:
                held_back.append(item)
                continue
            per_article[owner] = per_article.get(owner, 0) + 1
            chosen.append(item)
            if len(chosen) == k:
                return chosen
        return chosen + held_back[: k - len(chosen)]

    def _hits(self, chosen: list[Scored], allowed: np.ndarray | None) -> list[Hit]:
        """Hits with every copy of each passage as a source, the chosen copy first."""
        permitted = None if allowed is None else set(allowed.tolist())
        members = {s.passage_id: self._copies_of(s.passage_id, permitted) for s in chosen}
        rows = self.reader.passages({m for ids in members.values() for m in ids})
        hits = []
        for s in chosen:
            if s.passage_id not in rows:
                continue
            text = rows[s.passage_id][0]
            sources = tuple(rows[m][1] for m in members[s.passage_id] if m in rows)
            hits.append(Hit(s.passage_id, text, s.score, sources, s.similarity))
        return hits

    def _copies_of(self, passage_id: int, permitted: set[int] | None) -> list[int]:
        group = int(self.reader.passage_group[passage_id])
        others = [m for m in self.reader.copies.get(group, []) if m != passage_id]
        if permitted is not None:
            others = [m for m in others if m in permitted]
        return [passage_id, *others]


def _top_matches(scores: np.ndarray, k: int) -> list[int]:
    """Positions of the ``k`` highest positive scores, in no order. Ranked among the
    documents sharing a term only: at 1M passages that is a fraction of them."""
    matched = np.flatnonzero(scores > 0)
    if len(matched) > k:
        matched = matched[np.argpartition(-scores[matched], k - 1)[:k]]
    return matched.tolist()


def _order(scores: np.ndarray, rounds: int = 1) -> list[int]:
    """Row order: ``rounds`` times, each clause's best row not yet placed (clauses whose
    best is strongest first); then all rows by the whole question's score (column 0)."""
    order: list[int] = []
    taken: set[int] = set()
    columns = sorted(range(1, scores.shape[1]), key=lambda t: -scores[:, t].max())
    ranked = {t: np.argsort(-scores[:, t], kind="stable").tolist() for t in columns}
    for _ in range(rounds):
        for column in columns:
            row = next((r for r in ranked[column] if r not in taken), None)
            if row is not None:
                taken.add(row)
                order.append(row)
    order.extend(r for r in np.argsort(-scores[:, 0], kind="stable").tolist() if r not in taken)
    return order


def _outlet_patterns(outlets: list[str | None]) -> list[tuple[str, re.Pattern[str]]]:
    """A whole-word, case-insensitive pattern per outlet name ("The Verge" also matches
    "Verge")."""
    patterns = []
    for name in sorted({o for o in outlets if o and len(o) >= 3}):
        core = re.sub(r"^the\s+", "", name.strip(), flags=re.I)
        patterns.append((name, re.compile(rf"(?<!\w){re.escape(core)}(?!\w)", re.I)))
    return patterns
