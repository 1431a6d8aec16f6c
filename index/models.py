"""The records that flow through newsbot: Article → Passage → Hit → Answer.

Offsets are always character offsets into ``Article.text``, the original decoded
text of the article (the whole file for .txt/.md/.html, the text field of one
line for .jsonl), so ``article.text[p.start:p.end] == p.text`` for plain formats.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Span:
    """A half-open character range ``[start, end)`` into an article's text."""

    start: int
    end: int


@dataclass(frozen=True)
class Article:
    """One article as read and cleaned, with its metadata and quotable body."""

    doc_id: str
    path: str  # relative to the corpus root, POSIX separators
    text: str  # the text that offsets index into
    body: tuple[Span, ...]  # paragraphs that may be quoted, in order
    format: str  # "txt", "md", "html" or "jsonl"
    line: int | None = None  # 1-based line of a .jsonl record
    title: str | None = None
    outlet: str | None = None
    byline: str | None = None
    published: str | None = None  # ISO date, YYYY-MM-DD
    url: str | None = None
    dateline: str | None = None
    # For HTML: maps an offset in ``text`` (the visible text) to an offset in the raw file.
    raw_offsets: Sequence[int] | None = field(default=None, repr=False, compare=False)

    def raw_span(self, start: int, end: int) -> Span:
        """The span of ``text[start:end]`` in the source file's decoded text."""
        if self.raw_offsets is None:
            return Span(start, end)
        return Span(self.raw_offsets[start], self.raw_offsets[end - 1] + 1)


@dataclass(frozen=True)
class Passage:
    """A run of whole sentences from one article, with offsets into ``Article.text``."""

    doc_id: str
    start: int
    end: int
    text: str
    ordinal: int  # position of the passage within its article


@dataclass(frozen=True)
class Source:
    """Where a quoted passage comes from: one article and the span inside its file."""

    doc_id: str
    path: str
    title: str | None
    outlet: str | None
    published: str | None
    url: str | None
    start: int
    end: int
    line: int | None = None


@dataclass(frozen=True)
class Hit:
    """A passage retrieved for a question, with its score and sources."""

    passage_id: int
    text: str
    score: float  # the ranking score (fused evidence in hybrid mode)
    sources: tuple[Source, ...]
    similarity: float = 0.0  # cosine between question and passage


@dataclass(frozen=True)
class QuotedPassage:
    """A passage as shown to a user: the quote, its best sentence and its citations."""

    text: str
    highlight: str
    score: float
    sources: tuple[Source, ...]


@dataclass(frozen=True)
class IndexInfo:
    """What a reader needs to say about the index it answered from."""

    built_at: str
    articles: int
    passages: int


@dataclass(frozen=True)
class Filters:
    """Restrictions applied inside retrieval. Dates are inclusive ISO dates; an article
    without a known date never matches a date filter. ``outlet`` ignores case."""

    since: str | None = None
    until: str | None = None
    outlet: str | None = None

    @property
    def active(self) -> bool:
        return any((self.since, self.until, self.outlet))


@dataclass(frozen=True)
class Answer:
    """The reply to one question. ``answered`` is false when nothing fits well enough;
    ``related`` then names the nearest articles, so a reply can suggest topics."""

    question: str
    answered: bool
    passages: tuple[QuotedPassage, ...]
    index: IndexInfo
    best_score: float | None = None
    related: tuple[str, ...] = ()
    filters: Filters = field(default_factory=Filters)


@dataclass(frozen=True)
class CorpusStats:
    """What an index holds, for /sources and outlet autocomplete."""

    articles: int
    passages: int
    built_at: str
    outlets: tuple[tuple[str, int], ...]  # (outlet, articles), most articles first
    first_published: str | None
    last_published: str | None
