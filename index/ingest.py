"""Read a corpus folder into Articles: one reader per format, bad files reported and skipped.

Offsets are kept into each file's decoded text: the bytes decoded as UTF-8 (a
UTF-8 byte-order mark stays in the text as U+FEFF, so plain UTF-8 decoding
reproduces it), UTF-16 when the file starts with its byte-order mark, and
otherwise the encoding charset-normalizer detects, recorded per article.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import os
import stat
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from charset_normalizer import from_bytes

from index import html
from index.clean import Cleaned, clean_text
from index.dates import parse_date
from index.errors import CorpusError
from index.models import Article, Span

FORMATS = {".txt": "txt", ".md": "md", ".markdown": "md", ".html": "html", ".htm": "html",
           ".jsonl": "jsonl"}  # fmt: skip
TEXT_FIELDS = ("text", "body", "content", "article")
TITLE_FIELDS = ("title", "headline")
DATE_FIELDS = ("published", "date", "published_at", "publication_date", "pubdate")
OUTLET_FIELDS = ("source", "outlet", "publisher", "site", "sitename")
AUTHOR_FIELDS = ("author", "byline", "authors")
URL_FIELDS = ("url", "link")
DEFAULT_MAX_BYTES = 20 * 1024 * 1024  # corpus.max_file_mb: larger files are skipped


@dataclass(frozen=True)
class Skipped:
    """A file (or JSONL line, as ``path:line``) that was not indexed, and why."""

    path: str
    reason: str


@dataclass
class CorpusRead:
    articles: list[Article] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    encodings: dict[str, str] = field(default_factory=dict)  # path → encoding used


class Unreadable(Exception):
    """Raised by a reader when a file cannot be indexed; the message is the reason."""


def read_corpus(root: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> CorpusRead:
    """Read every supported file under ``root``, skipping (and reporting) files that cannot
    be indexed or are larger than ``max_bytes``. Raises CorpusError if root is not a folder."""
    check_corpus(root)
    result = CorpusRead()
    for path in iter_files(root):
        relative = path.relative_to(root).as_posix()
        try:
            articles, skipped, encoding = read_file(path, relative, max_bytes)
        except Unreadable as exc:
            result.skipped.append(Skipped(relative, str(exc)))
            continue
        result.articles.extend(articles)
        result.skipped.extend(skipped)
        result.encodings[relative] = encoding
    return result


def check_corpus(root: Path) -> None:
    """Raise CorpusError unless ``root`` is a folder."""
    if root.is_file():
        raise CorpusError(f"corpus path {root} is a file: pass a folder to --corpus or corpus.path")
    if not root.is_dir():
        raise CorpusError(f"corpus folder {root} does not exist: pass --corpus or set corpus.path")


def iter_files(root: Path) -> Iterator[Path]:
    """Files under ``root`` in a stable order, following symlinks but never looping.

    Names starting with a dot (.git, .DS_Store, editor swap files) are ignored.
    """
    seen_dirs: set[str] = set()
    for folder, dirs, files in os.walk(root, followlinks=True):
        real = os.path.realpath(folder)
        if real in seen_dirs:
            dirs[:] = []
            continue
        seen_dirs.add(real)
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith("."):
                yield Path(folder) / name


def read_file(
    path: Path, relative: str, max_bytes: int = DEFAULT_MAX_BYTES
) -> tuple[list[Article], list[Skipped], str]:
    """Articles in one file, the JSONL lines skipped in it, and the encoding used."""
    format_of(path.suffix)  # before reading: an unsupported file may be large
    return parse_file(file_bytes(path, max_bytes), path.suffix, relative)


def parse_file(data: bytes, suffix: str, relative: str) -> tuple[list[Article], list[Skipped], str]:
    """Articles in one file's bytes (``suffix`` names the format), the JSONL lines skipped
    in it, and the encoding used. Raises Unreadable when nothing in it can be indexed."""
    kind = format_of(suffix)
    text, encoding = decode(data)
    if not text.strip():
        raise Unreadable("empty file")
    if kind == "jsonl":
        articles, skipped = _read_jsonl(text, relative)
        if not articles and not skipped:
            raise Unreadable("no JSON records")
        return articles, skipped, encoding
    reader = _read_html if kind == "html" else _read_plain
    return [reader(text, relative, kind)], [], encoding


def format_of(suffix: str) -> str:
    """The format of a file extension, or Unreadable for one newsbot does not read."""
    kind = FORMATS.get(suffix.lower())
    if kind is None:
        raise Unreadable(f"unsupported file type {suffix or '(no extension)'}")
    return kind


def file_bytes(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """The file's bytes, or Unreadable. Opened without blocking and checked to be a
    regular file, so a FIFO or device named like an article cannot hang the indexer."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError as exc:
        raise Unreadable("missing (a broken symlink?)") from exc
    except OSError as exc:
        raise Unreadable(f"cannot be read: {exc.strerror or exc}") from exc
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise Unreadable("not a regular file (a FIFO, socket or device)")
        try:
            data = handle.read(max_bytes + 1)  # a file may grow after it was listed
        except OSError as exc:
            raise Unreadable(f"cannot be read: {exc.strerror or exc}") from exc
    if len(data) > max_bytes:
        raise Unreadable(
            f"larger than {max_bytes / 2**20:g} MB: raise corpus.max_file_mb to index it"
        )
    return data


def decode(data: bytes) -> tuple[str, str]:
    """Decode file bytes to text; raise Unreadable for binary or undecodable data."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            raise Unreadable("invalid UTF-16") from exc
    if b"\x00" in data[:8192]:
        raise Unreadable("binary file (contains NUL bytes)")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    best = from_bytes(data).best()
    if best is None or best.encoding is None:
        raise Unreadable("not text in any known encoding")
    return str(best), best.encoding


def doc_id_for(relative: str, line: int | None = None) -> str:
    key = relative if line is None else f"{relative}:{line}"
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]


def _require_body(cleaned: Cleaned) -> None:
    if not cleaned.body:
        raise Unreadable("no article text found (only headings, links or metadata)")


def _read_plain(text: str, relative: str, kind: str) -> Article:
    cleaned = clean_text(text, markdown=kind == "md")
    meta: dict[str, str] = _front_matter(text) if kind == "md" else {}
    _require_body(cleaned)
    return Article(
        doc_id=doc_id_for(relative),
        path=relative,
        text=text,
        body=tuple(cleaned.body),
        format=kind,
        title=meta.get("title") or cleaned.title,
        outlet=_first(meta, OUTLET_FIELDS) or cleaned.outlet,
        byline=_first(meta, AUTHOR_FIELDS) or cleaned.byline,
        published=parse_date(_first(meta, DATE_FIELDS) or "") or cleaned.published,
        url=_first(meta, URL_FIELDS),
        dateline=cleaned.dateline,
    )


def _front_matter(text: str) -> dict[str, str]:
    """Simple ``key: value`` pairs of a leading ``---`` block (YAML front matter)."""
    lines = text.lstrip("\ufeff").splitlines()
    if not lines or lines[0].strip() != "---":
        return {}
    found: dict[str, str] = {}
    for line in lines[1:40]:
        if line.strip() in {"---", "..."}:
            break
        key, sep, value = line.partition(":")
        if sep:
            found[key.strip().lower()] = value.strip().strip("\"'")
    return found


def _read_html(raw: str, relative: str, kind: str) -> Article:
    visible = html.visible_text(raw)
    meta = html.page_metadata(raw)
    cleaned = clean_text(visible.text)
    body = _main_content(visible.text, cleaned.body, meta.main_text)
    if not body:
        raise Unreadable("no article text found in the page")
    return Article(
        doc_id=doc_id_for(relative),
        path=relative,
        text=visible.text,
        body=tuple(body),
        format=kind,
        title=meta.title or cleaned.title,
        outlet=meta.sitename or cleaned.outlet,
        byline=meta.author or cleaned.byline,
        published=meta.published or cleaned.published,
        url=meta.url,
        dateline=cleaned.dateline,
        raw_offsets=array("q", visible.offsets),
    )


def _main_content(text: str, paragraphs: list[Span], main_text: str | None) -> list[Span]:
    """Keep the paragraphs trafilatura also judged to be the article's main text."""
    if not main_text:
        return paragraphs
    main = html.normalise(main_text)
    kept = [p for p in paragraphs if html.normalise(text[p.start : p.end]) in main]
    return kept or paragraphs


def _read_jsonl(text: str, relative: str) -> tuple[list[Article], list[Skipped]]:
    articles: list[Article] = []
    skipped: list[Skipped] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            articles.append(_jsonl_article(line, relative, number))
        except Unreadable as exc:
            skipped.append(Skipped(f"{relative}:{number}", str(exc)))
    return articles, skipped


def _jsonl_article(line: str, relative: str, number: int) -> Article:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise Unreadable(f"not valid JSON ({exc.msg})") from exc
    if not isinstance(record, dict):
        raise Unreadable("not a JSON object")
    body = _first(record, TEXT_FIELDS)
    if not body:
        raise Unreadable(f"no text: expected a string field named one of {', '.join(TEXT_FIELDS)}")
    cleaned = clean_text(body)
    _require_body(cleaned)
    given_id = record.get("id")
    return Article(
        doc_id=str(given_id) if isinstance(given_id, str | int) else doc_id_for(relative, number),
        path=relative,
        text=body,
        body=tuple(cleaned.body),
        format="jsonl",
        line=number,
        title=_first(record, TITLE_FIELDS) or cleaned.title,
        outlet=_first(record, OUTLET_FIELDS) or cleaned.outlet,
        byline=_first(record, AUTHOR_FIELDS) or cleaned.byline,
        published=parse_date(_first(record, DATE_FIELDS) or "") or cleaned.published,
        url=_first(record, URL_FIELDS),
        dateline=cleaned.dateline,
    )


def _first(record: dict[str, Any], names: tuple[str, ...]) -> str | None:
    """The first of ``names`` whose value is a non-empty string (lists of names are joined)."""
    for name in names:
        value = record.get(name)
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            value = ", ".join(value)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None
