"""HTML pages: visible text with a map back to raw offsets, main content and metadata.

The visible text keeps every character of the page's text nodes (entities decoded)
and puts a blank line at block boundaries, so the plain-text cleaner can work on it.
Each visible character maps to its offset in the raw HTML, which is what citations
point at: for an HTML source, the text content of ``raw[start:end]`` is the quote.
trafilatura decides which paragraphs are the article (the rest is navigation,
sidebars, footers) and, with htmldate, finds title, author, site and date.
"""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import trafilatura
from htmldate import find_date

_BLOCK_TAGS = {
    "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption",
    "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li",
    "main", "nav", "ol", "p", "pre", "section", "table", "td", "th", "tr", "ul",
}  # fmt: skip
_SKIP_TAGS = {"script", "style", "noscript", "template", "head", "svg", "button", "select"}


@dataclass
class VisibleText:
    """Visible text of a page and, for each of its characters, the raw offset."""

    text: str = ""
    offsets: list[int] = field(default_factory=list)


class _Walker(HTMLParser):
    def __init__(self, raw: str) -> None:
        super().__init__(convert_charrefs=False)
        self._raw = raw
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", raw)]
        self._skip_depth = 0
        self._chars: list[str] = []
        self._offsets: list[int] = []

    def _here(self) -> int:
        line, column = self.getpos()
        return self._line_starts[line - 1] + column

    def _separate(self) -> None:
        if self._chars and self._chars[-1] != "\n":
            at = self._here()
            self._chars.extend("\n\n")
            self._offsets.extend((at, at))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skip_depth += 1
        elif tag in _BLOCK_TAGS:
            self._separate()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS:
            self._separate()

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag in _BLOCK_TAGS:
            self._separate()

    def handle_data(self, data: str) -> None:
        if self._skip_depth:
            return
        at = self._here()
        self._chars.extend(data)
        self._offsets.extend(range(at, at + len(data)))

    def _reference(self, text: str) -> None:
        if self._skip_depth:
            return
        at = self._here()
        decoded = html_lib.unescape(text)
        self._chars.extend(decoded)
        self._offsets.extend([at] * len(decoded))

    def handle_entityref(self, name: str) -> None:
        self._reference(f"&{name};")

    def handle_charref(self, name: str) -> None:
        self._reference(f"&#{name};")

    def result(self) -> VisibleText:
        return VisibleText("".join(self._chars), self._offsets)


def visible_text(raw: str) -> VisibleText:
    """The text nodes of ``raw`` with block boundaries as blank lines, mapped to raw offsets."""
    walker = _Walker(raw)
    walker.feed(raw)
    walker.close()
    return walker.result()


@dataclass(frozen=True)
class PageMetadata:
    title: str | None
    author: str | None
    sitename: str | None
    url: str | None
    published: str | None
    main_text: str | None  # what trafilatura judged to be the article


def page_metadata(raw: str) -> PageMetadata:
    """Title, author, site, URL, date and main text of a page, by trafilatura and htmldate."""
    doc = trafilatura.bare_extraction(raw, with_metadata=True, include_comments=False)
    published = find_date(raw, original_date=True, outputformat="%Y-%m-%d")
    fields: dict[str, Any] = {}
    if isinstance(doc, dict):
        fields = doc
    elif doc is not None:
        fields = doc.as_dict()
    return PageMetadata(
        title=fields.get("title") or None,
        author=fields.get("author") or None,
        sitename=fields.get("sitename") or None,
        url=fields.get("url") or None,
        published=published or fields.get("date") or None,
        main_text=fields.get("text") or None,
    )


def normalise(text: str) -> str:
    """Whitespace-collapsed text, for matching paragraphs against extracted main text."""
    return " ".join(text.split())
