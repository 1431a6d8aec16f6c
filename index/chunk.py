"""Split an article's body into passages of whole sentences, with exact offsets.

A passage is a run of whole sentences of about ``target_words`` words. It may join
neighbouring paragraphs (when only whitespace separates them, so never across a
dropped caption or link line) and prefers to end where a paragraph ends. A
sentence longer than ``max_words`` is cut between words. For every passage,
``article.text[p.start:p.end] == p.text``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from index.config import ChunkConfig
from index.models import Article, Passage, Span

# Words that end in a period without ending a sentence ("Col. Wu", "U.S. military").
_ABBREVIATIONS = frozenset(
    ("mr", "mrs", "ms", "dr", "prof", "gen", "col", "lt", "sgt", "capt", "maj", "cmdr", "adm",
     "sen", "rep", "gov", "pres", "st", "jr", "sr", "inc", "corp", "ltd", "co", "vs", "etc",
     "no", "nos", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov",
     "dec", "u.s", "u.k", "u.n", "e.g", "i.e", "d.c", "mt", "ft", "ave", "rev", "hon", "fig",
     "approx", "dept", "govt", "vol", "pp", "ph.d", "cf", "al")
)  # fmt: skip
_CANDIDATE = re.compile(r"[.!?…]+[\"”’')\]]*(?=\s)")
_OPENER = re.compile(r"\s+[\"“‘'(\[]*[A-Z0-9]")
_WORD_BEFORE = re.compile(r"(\S+?)[.!?…]+[\"”’')\]]*$")


@dataclass(frozen=True)
class _Sentence:
    start: int
    end: int
    words: int
    opens_paragraph: bool


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[Span]:
    """Sentences of ``text[start:end]`` as spans, without surrounding whitespace."""
    stop = len(text) if end is None else end
    spans: list[Span] = []
    begin = start
    for match in _CANDIDATE.finditer(text, start, stop):
        if _is_boundary(text, match, stop):
            spans.append(Span(begin, match.end()))
            begin = match.end()
    spans.append(Span(begin, stop))
    return [trimmed for span in spans if (trimmed := _trim(text, span)).end > trimmed.start]


def _is_boundary(text: str, match: re.Match[str], stop: int) -> bool:
    if not _OPENER.match(text, match.end(), stop):
        return False  # the next word starts in lower case: "U.S. military", "etc. and"
    if "." not in match.group() or "!" in match.group() or "?" in match.group():
        return True
    before = _WORD_BEFORE.search(text, max(0, match.start() - 30), match.end())
    if before is None:
        return True
    word = before.group(1).lower().lstrip("\"“‘'(")
    is_initial = len(word) == 1 and word.isalpha()
    return not (is_initial or word.rstrip(".") in _ABBREVIATIONS)


def _trim(text: str, span: Span) -> Span:
    start, end = span.start, span.end
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Span(start, end)


def chunk_article(article: Article, config: ChunkConfig) -> list[Passage]:
    """All passages of an article, in reading order."""
    spans: list[Span] = []
    for group in _adjacent_groups(article.text, article.body):
        spans.extend(_pack(_sentences(article.text, group, config), config))
    return [
        Passage(article.doc_id, s.start, s.end, article.text[s.start : s.end], i)
        for i, s in enumerate(spans)
    ]


def _adjacent_groups(text: str, body: tuple[Span, ...]) -> Iterator[list[Span]]:
    """Runs of paragraphs separated only by whitespace."""
    group: list[Span] = []
    for span in body:
        if group and text[group[-1].end : span.start].strip():
            yield group
            group = []
        group.append(span)
    if group:
        yield group


def _sentences(text: str, paragraphs: list[Span], config: ChunkConfig) -> list[_Sentence]:
    found: list[_Sentence] = []
    for paragraph in paragraphs:
        first = True
        for span in sentence_spans(text, paragraph.start, paragraph.end):
            for piece in _split_long(text, span, config):
                words = len(text[piece.start : piece.end].split())
                found.append(_Sentence(piece.start, piece.end, words, first))
                first = False
    return found


def _split_long(text: str, span: Span, config: ChunkConfig) -> Iterator[Span]:
    """Cut a run-on "sentence" longer than max_words into target-sized word runs."""
    words = list(re.finditer(r"\S+", text[span.start : span.end]))
    if len(words) <= config.max_words:
        yield span
        return
    for i in range(0, len(words), config.target_words):
        run = words[i : i + config.target_words]
        yield Span(span.start + run[0].start(), span.start + run[-1].end())


def _pack(sentences: list[_Sentence], config: ChunkConfig) -> list[Span]:
    passages: list[list[_Sentence]] = []
    current: list[_Sentence] = []
    for sentence in sentences:
        size = sum(s.words for s in current)
        if current and _should_close(size, sentence, config):
            passages.append(current)
            current = []
        current.append(sentence)
    if current:
        tail = sum(s.words for s in current)
        last = sum(s.words for s in passages[-1]) if passages else 0
        if passages and tail < config.min_words and last + tail <= config.max_words:
            passages[-1].extend(current)
        else:
            passages.append(current)
    return [Span(p[0].start, p[-1].end) for p in passages]


def _should_close(size: int, sentence: _Sentence, config: ChunkConfig) -> bool:
    if size + sentence.words > config.max_words:
        return True
    if sentence.opens_paragraph and size >= 0.6 * config.target_words:
        return True  # end on a paragraph boundary when the passage is big enough
    return size + sentence.words > config.target_words and size >= config.min_words
