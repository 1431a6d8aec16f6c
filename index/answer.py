"""Answers: the best passages for a question, each with its best sentence, or an abstention."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import numpy as np

from index.chunk import sentence_spans
from index.config import AnswerConfig, Config, SearchConfig
from index.dates import parse_date
from index.embed import Embedder, load_embedder
from index.errors import IndexCorruptError, QuestionError
from index.lexical import LexicalIndex, query_terms
from index.models import Answer, Filters, Hit, QuotedPassage
from index.search import HybridSearcher
from index.store import IndexReader

MAX_QUESTION_CHARS = 1000


class Answerer:
    """Answers questions from one open index. Safe to call from several threads."""

    def __init__(
        self,
        reader: IndexReader,
        embedder: Embedder,
        config: AnswerConfig,
        search: SearchConfig | None = None,
    ):
        if embedder.dimension != reader.manifest.dimension:
            raise IndexCorruptError(
                f"index at {reader.path} has {reader.manifest.dimension}-dimensional vectors but "
                f"model {embedder.name} makes {embedder.dimension}: rebuild with newsbot index"
            )
        self.reader = reader
        self.embedder = embedder
        self.config = config
        self.searcher = HybridSearcher(reader, embedder, search or SearchConfig())

    def ask(
        self,
        question: str,
        top_k: int | None = None,
        *,
        offset: int = 0,
        filters: Filters | None = None,
    ) -> Answer:
        """Answer one question with ``top_k`` passages, skipping the first ``offset`` (for a
        "more" button). Raises QuestionError for an empty or oversized question or bad filter."""
        question = check_question(question)
        filters = check_filters(filters or Filters())
        k = top_k or self.config.top_k
        found = self.searcher.search(question, max(offset + k, 5), filters)
        query, hits, best = found.query, found.hits, found.best_similarity
        if not self._answerable(question, best):
            return Answer(question, False, (), self.reader.info(), best, _related(hits), filters)
        shown = hits[offset : offset + k]
        highlights = self._highlights(question, query, [hit.text for hit in shown])
        quoted = tuple(
            QuotedPassage(hit.text, highlight, hit.score, hit.sources)
            for hit, highlight in zip(shown, highlights, strict=True)
        )
        return Answer(question, True, quoted, self.reader.info(), best, (), filters)

    def _answerable(self, question: str, best: float | None) -> bool:
        if best is None or best < self.config.min_score:
            return False
        if self.config.decline_unknown_names:
            return not unknown_names(question, self.reader.lexical_passages)
        return True

    def _highlights(self, question: str, query: np.ndarray, texts: list[str]) -> list[str]:
        """The sentence of each text that best answers: closest in meaning to the question,
        with a share for the question's terms it contains. One model call for all texts."""
        split = [[t[s.start : s.end] for s in sentence_spans(t)] or [t] for t in texts]
        flat = [sentence for sentences in split for sentence in sentences]
        similarity = self.embedder.embed_passages(flat) @ query if flat else np.zeros(0)
        terms = set(query_terms(question))
        overlap = np.array([_overlap(terms, sentence) for sentence in flat], dtype=np.float32)
        score = similarity + 0.5 * overlap
        best, start = [], 0
        for sentences in split:
            part = score[start : start + len(sentences)]
            best.append(sentences[int(np.argmax(part))])
            start += len(sentences)
        return best


_NAME = re.compile(r"\b[A-Z][a-z]+(?:[-'’][A-Za-z]+)?\b")


def unknown_names(question: str, lexical: LexicalIndex) -> list[str]:
    """Capitalised words of the question (not its first word) that occur nowhere in the
    corpus: a question about a person or place the corpus never mentions."""
    unknown = []
    text = question.strip()
    for match in _NAME.finditer(text):
        if _starts_sentence(text[: match.start()]):
            continue  # capitalised only because it starts a sentence
        terms = query_terms(match.group())
        if terms and not any(lexical.knows(term) for term in terms):
            unknown.append(match.group())
    return unknown


def _starts_sentence(before: str) -> bool:
    """Whether a word preceded by ``before`` opens a sentence (or the question)."""
    return not before.rstrip(" \"'“‘(").rstrip() or before.rstrip()[-1:] in ".?!:"


def _overlap(terms: set[str], sentence: str) -> float:
    """Share of the question's terms that appear in ``sentence``."""
    if not terms:
        return 0.0
    return len(terms & set(query_terms(sentence))) / len(terms)


def _related(hits: list[Hit], limit: int = 3) -> tuple[str, ...]:
    """Titles of the nearest articles (or their opening words), for "closest topics"."""
    seen: list[str] = []
    for hit in hits:
        source = hit.sources[0]
        label = source.title or _opening(hit.text)
        if label not in seen:
            seen.append(label)
    return tuple(seen[:limit])


def _opening(text: str, words: int = 10) -> str:
    parts = text.split()
    return " ".join(parts[:words]) + ("…" if len(parts) > words else "")


def check_filters(filters: Filters) -> Filters:
    """Filters with dates normalised to ISO, or QuestionError naming the bad one."""
    since = _filter_date("since", filters.since)
    until = _filter_date("until", filters.until)
    if since and until and since > until:
        raise QuestionError(f"since ({since}) is after until ({until})")
    outlet = filters.outlet.strip() if filters.outlet and filters.outlet.strip() else None
    return Filters(since, until, outlet)


def _filter_date(name: str, value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    parsed = parse_date(value)
    if parsed is None:
        raise QuestionError(f"{name}: {value!r} is not a date; use YYYY-MM-DD")
    return parsed


def check_question(question: str) -> str:
    """The question on one line, without invisible characters, or QuestionError.

    Control and format characters (NUL, bell, zero-width spaces, right-to-left
    overrides…) are removed: they change nothing a reader sees but would reach the
    model, the lexical index and, echoed back, other readers' screens."""
    cleaned = " ".join(visible_text(question).split())
    if not cleaned:
        raise QuestionError("the question is empty: ask something about the news corpus")
    if len(cleaned) > MAX_QUESTION_CHARS:
        raise QuestionError(
            f"the question is {len(cleaned)} characters long: keep it under {MAX_QUESTION_CHARS}"
        )
    return cleaned


_ZERO_WIDTH_SPACES = {"\u200b", "\u2060", "\ufeff"}  # read as word breaks, not removed


def visible_text(text: str) -> str:
    """``text`` without control or format characters (whitespace kept)."""
    return "".join(
        " " if char in _ZERO_WIDTH_SPACES else char
        for char in text
        if char.isspace()
        or unicodedata.category(char) not in {"Cc", "Cf", "Cs"}
        or char in _ZERO_WIDTH_SPACES
    )


def open_answerer(config: Config, index_root: Path) -> Answerer:
    """Open the current build under ``index_root`` with the model it was built with."""
    reader = IndexReader(index_root)
    embedder = load_embedder(config.embedding, model=reader.manifest.model)
    return Answerer(reader, embedder, config.answer, config.search)


def answer_as_dict(answer: Answer) -> dict[str, object]:
    """The stable JSON shape of an answer (see README, "JSON output")."""
    return {
        "question": answer.question,
        "answered": answer.answered,
        "index": {
            "built_at": answer.index.built_at,
            "articles": answer.index.articles,
            "passages": answer.index.passages,
        },
        "passages": [
            {
                "text": p.text,
                "highlight": p.highlight,
                "score": round(p.score, 4),
                "sources": [
                    {
                        "doc_id": s.doc_id,
                        "path": s.path,
                        "line": s.line,
                        "title": s.title,
                        "outlet": s.outlet,
                        "published": s.published,
                        "url": s.url,
                        "start": s.start,
                        "end": s.end,
                    }
                    for s in p.sources
                ],
            }
            for p in answer.passages
        ],
        "best_score": None if answer.best_score is None else round(answer.best_score, 4),
        "related": list(answer.related),
    }
