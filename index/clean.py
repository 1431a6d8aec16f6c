"""Find an article's metadata and its quotable body in plain text, keeping offsets.

Nothing is rewritten: the result is a set of metadata fields and a list of
paragraph spans into the original text. Lines that are metadata (title, byline,
dates, breadcrumbs) or boilerplate (READ MORE links, photo captions, "MOST
POPULAR" lists, subheadings) are left out of the spans, and so is a paragraph that
repeats an earlier one of the same article.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

from index.dates import parse_date
from index.models import Span

AGENCIES = {
    "ap": "Associated Press",
    "associated press": "Associated Press",
    "the associated press": "Associated Press",
    "reuters": "Reuters",
    "afp": "AFP",
    "agence france-presse": "AFP",
    "bloomberg": "Bloomberg",
    "upi": "UPI",
    "cnn": "CNN",
    "xinhua": "Xinhua",
    "the canadian press": "The Canadian Press",
    "canadian press": "The Canadian Press",
    "cp": "The Canadian Press",
    "dpa": "dpa",
    "pa": "PA Media",
}

_HEADER_LINES = 12
_SHORT_WORDS = 12  # a body line this short without end punctuation is a heading or caption
_REPEAT_SIMILARITY = 0.7

_BOILERPLATE_PREFIX = re.compile(
    r"^(?:read more|also read|read also|read next|read|related|related stories|see also|"
    r"watch|listen|sign up|subscribe|click here|follow us|advertisement|more|trending)\b"
    r"\s*[:：|>»–—-]",
    re.IGNORECASE,
)
_LIST_HEADING = re.compile(
    r"^(?:most popular|most read|most viewed|trending( now| stories)?|popular( stories| now)?|"
    r"related (?:articles|stories|news|coverage)|more (?:from|on) .{1,40}|you may also like|"
    r"recommended( for you)?|top stories|latest( news| stories)?|editor'?s picks|"
    r"more stories|what to read next)\s*:?$",
    re.IGNORECASE,
)
_CAPTION = re.compile(
    r"\((?:ap|afp|reuters|getty|photo|file|epa|xinhua|ani|pti)\b[^)]*\)\s*$"
    r"|^(?:photo|image|caption|file photo|pictured|credit)\s*:"
    r"|\bphoto (?:shows|taken)\b|^\s*!\[",
    re.IGNORECASE,
)
_DATE_LABEL = re.compile(r"^(?:published|updated|posted|last updated|date|modified)\b", re.I)
_BREADCRUMB = re.compile(
    r"^(?:\d+\.\s+\S+(?:\s\S+)?|(?:\S+\s?){1,3}(?:\s[>»/›]\s(?:\S+\s?){1,4})+)$"
)
_BYLINE = re.compile(r"^by\s+(?P<who>[^\n]{2,80}?)\s*$", re.IGNORECASE)
_MD_HEADING = re.compile(r"^#{1,6}\s+(?P<text>.+?)\s*#*$")
_DATELINE = re.compile(
    r"(?P<place>[A-Z][A-Z.'’]+(?:[ ,-]+[A-Z][A-Za-z.'’]+){0,3})"
    r"(?:\s*\((?P<agency>[A-Za-z][A-Za-z .-]{0,30})\))?\s*(?:--|—|–|-)\s+"
)
# str.strip() alone keeps a byte-order mark and zero-width spaces.
_BLANK = " \t\r\n\f\v\u00a0\u200b\ufeff\u2028\u2029"
_END_PUNCT = re.compile(r"[.!?…\"”’'):;]$")


@dataclass
class Cleaned:
    """What cleaning found: metadata fields and the quotable paragraphs."""

    body: list[Span] = field(default_factory=list)
    title: str | None = None
    byline: str | None = None
    outlet: str | None = None
    published: str | None = None
    dateline: str | None = None


@dataclass(frozen=True)
class _Line:
    start: int
    end: int
    text: str
    block: int  # index of the blank-line separated block the line is in
    number: int  # position among the non-blank lines


def clean_text(text: str, markdown: bool = False) -> Cleaned:
    """Split ``text`` into metadata and quotable paragraph spans."""
    lines = _lines(text)
    if _hard_wrapped(lines):
        lines = _merge_wrapped_blocks(text, lines)
    result = Cleaned()
    body_from = _read_header(lines, result, markdown)
    kept = _body_lines(lines[body_from:], markdown)
    paragraphs = _paragraphs(kept)
    paragraphs = _drop_repeats(text, paragraphs)
    if paragraphs:
        paragraphs[0] = _strip_dateline(text, paragraphs[0], result)
    result.body = [p for p in paragraphs if p.end > p.start]
    return result


def _lines(text: str) -> list[_Line]:
    lines: list[_Line] = []
    block = 0
    blank_before = False
    position = 0
    for raw in text.split("\n"):
        line_start = position
        position += len(raw) + 1
        stripped = raw.strip(_BLANK)
        if not stripped:
            blank_before = True
            continue
        if blank_before and lines:
            block += 1
        blank_before = False
        start = line_start + len(raw) - len(raw.lstrip(_BLANK))
        lines.append(_Line(start, start + len(stripped), stripped, block, len(lines)))
    return lines


def _hard_wrapped(lines: list[_Line]) -> bool:
    """True for text wrapped at a fixed width, where a paragraph spans several lines."""
    if len(lines) < 2 or all(a.block != b.block for a, b in itertools.pairwise(lines)):
        return False
    lengths = sorted(len(line.text) for line in lines)
    short = sum(length <= 100 for length in lengths)
    return short >= 0.9 * len(lines) and lengths[len(lengths) // 2] >= 25


def _merge_wrapped_blocks(text: str, lines: list[_Line]) -> list[_Line]:
    """Make each blank-line separated block one line, unless it holds metadata lines."""
    merged: list[_Line] = []
    widths = sorted(len(line.text) for line in lines)
    full = widths[int(0.9 * (len(widths) - 1))]
    for block in _blocks(lines):
        # Wrapped prose fills every line but the last; a list of headlines does not.
        filled = all(len(line.text) >= 0.6 * full for line in block[:-1])
        if len(block) == 1 or not filled or any(_is_metadata_line(ln.text) for ln in block):
            merged.extend(block)
            continue
        start, end = block[0].start, block[-1].end
        joined = " ".join(text[start:end].split())
        merged.append(_Line(start, end, joined, block[0].block, len(merged)))
    return [_Line(line.start, line.end, line.text, line.block, i) for i, line in enumerate(merged)]


def _blocks(lines: list[_Line]) -> list[list[_Line]]:
    blocks: list[list[_Line]] = []
    for line in lines:
        if blocks and blocks[-1][-1].block == line.block:
            blocks[-1].append(line)
        else:
            blocks.append([line])
    return blocks


def _is_metadata_line(text: str) -> bool:
    return bool(_BYLINE.match(text) or _BREADCRUMB.match(text)) or _looks_like_date_line(text)


def _words(text: str) -> int:
    return len(text.split())


def _is_prose(line: str) -> bool:
    words = _words(line)
    return words >= 16 or (words >= 8 and bool(_END_PUNCT.search(line)))


def _read_header(lines: list[_Line], result: Cleaned, markdown: bool) -> int:
    """Consume metadata lines before the first paragraph of prose; return where the body starts."""
    for i, line in enumerate(lines[:_HEADER_LINES]):
        if _header_metadata(line.text, result):
            continue
        if _is_prose(line.text):
            return i
        _header_other(line.text, result, markdown)
    return min(len(lines), _HEADER_LINES)


def _header_metadata(text: str, result: Cleaned) -> bool:
    """Record a date or byline line; True if the line was one."""
    byline = _BYLINE.match(text)
    if byline and _words(byline.group("who")) <= 8:
        who = byline.group("who").strip(" ,|")
        result.byline = result.byline or who
        result.outlet = result.outlet or _agency(who)
        return True
    if _looks_like_date_line(text):
        published = _published_from(text)
        if published and (result.published is None or text.lower().startswith("published")):
            result.published = published
        return True
    return False


def _header_other(text: str, result: Cleaned, markdown: bool) -> None:
    heading = _MD_HEADING.match(text) if markdown else None
    candidate = heading.group("text") if heading else text
    if _BREADCRUMB.match(text) and not heading:
        return
    if result.title is None and 2 <= _words(candidate) <= 30:
        result.title = candidate.strip()


def _looks_like_date_line(text: str) -> bool:
    if _words(text) > 14:
        return False
    if _DATE_LABEL.match(text):
        return parse_date(text) is not None or "updated" in text.lower()
    return _words(text) <= 6 and parse_date(text) is not None


def _published_from(text: str) -> str | None:
    """The publication date on a header line, preferring "Published" over "Updated"."""
    parts = re.split(r"\|", text)
    for part in parts:
        if re.match(r"\s*(?:updated|modified|last updated)\b", part, re.I):
            continue
        found = parse_date(part)
        if found:
            return found
    return None


def _agency(who: str) -> str | None:
    for piece in re.split(r"\s*[|,;/]\s*|\s+and\s+", who):
        name = AGENCIES.get(piece.strip().lower())
        if name:
            return name
    return None


def _body_lines(lines: list[_Line], markdown: bool) -> list[_Line]:
    kept: list[_Line] = []
    in_list = False
    for i, line in enumerate(lines):
        text = line.text
        if _LIST_HEADING.match(text):
            in_list = True
            continue
        if in_list and not _is_prose(text):
            continue
        in_list = False
        if _is_boilerplate(text, markdown) or _repeated_neighbour(lines, i):
            continue
        kept.append(line)
    return kept


def _is_boilerplate(text: str, markdown: bool) -> bool:
    if _BOILERPLATE_PREFIX.match(text) or _CAPTION.search(text):
        return True
    if _DATE_LABEL.match(text) and _words(text) <= 14:
        return True
    if markdown and (_MD_HEADING.match(text) or re.fullmatch(r"[-*_]{3,}", text)):
        return True
    return _words(text) <= _SHORT_WORDS and not _END_PUNCT.search(text)


def _repeated_neighbour(lines: list[_Line], i: int) -> bool:
    """Headline lists often print each entry twice in a row (link text + title)."""
    here = lines[i].text
    before = i > 0 and lines[i - 1].text == here
    after = i + 1 < len(lines) and lines[i + 1].text == here
    return (before or after) and not _is_prose(here)


def _paragraphs(lines: list[_Line]) -> list[Span]:
    """Join consecutive kept lines of one block into paragraph spans."""
    spans: list[Span] = []
    previous: _Line | None = None
    for line in lines:
        if previous is not None and previous.block == line.block and _consecutive(previous, line):
            spans[-1] = Span(spans[-1].start, line.end)
        else:
            spans.append(Span(line.start, line.end))
        previous = line
    return spans


def _consecutive(a: _Line, b: _Line) -> bool:
    # Lines of one block are joined only when they wrap one paragraph; in files
    # without blank lines every line is its own paragraph (it ends a sentence).
    return b.number == a.number + 1 and not _END_PUNCT.search(a.text)


def _shingles(text: str) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    return {tuple(words[i : i + 3]) for i in range(max(1, len(words) - 2))}


def _drop_repeats(text: str, paragraphs: list[Span]) -> list[Span]:
    kept: list[Span] = []
    sizes: list[int] = []  # shingle count of each kept paragraph
    # shingle -> kept paragraphs holding it: overlaps are counted only where they exist,
    # so a long article costs linear time rather than a comparison of every pair.
    holders: dict[tuple[str, ...], list[int]] = {}
    for span in paragraphs:
        shingles = _shingles(text[span.start : span.end])
        if len(shingles) >= 4 and _repeats(shingles, sizes, holders):
            continue
        for shingle in shingles:
            holders.setdefault(shingle, []).append(len(sizes))
        sizes.append(len(shingles))
        kept.append(span)
    return kept


def _repeats(
    shingles: set[tuple[str, ...]], sizes: list[int], holders: dict[tuple[str, ...], list[int]]
) -> bool:
    """Whether the shingles' Jaccard similarity with a kept paragraph reaches the threshold."""
    overlap: dict[int, int] = {}
    for shingle in shingles:
        for index in holders.get(shingle, ()):
            overlap[index] = overlap.get(index, 0) + 1
    return any(
        common / (len(shingles) + sizes[index] - common) >= _REPEAT_SIMILARITY
        for index, common in overlap.items()
    )


def _strip_dateline(text: str, span: Span, result: Cleaned) -> Span:
    """Record and cut a leading dateline such as ``BEIJING (AP) —``."""
    match = _DATELINE.match(text, span.start, span.end)
    if not match or match.end() >= span.end:
        return span
    result.dateline = match.group("place").strip(" ,")
    agency = match.group("agency")
    if agency:
        result.outlet = result.outlet or _agency(agency) or agency.strip()
    return Span(match.end(), span.end)
