"""Reading each format, keeping offsets into the file, and skipping bad files with a reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from index.chunk import chunk_article
from index.config import ChunkConfig
from index.errors import CorpusError
from index.html import visible_text
from index.ingest import decode, read_corpus

PAGE = """<!DOCTYPE html>
<html><head><title>Port strike ends after two weeks | Harbour Times</title>
<meta property="og:site_name" content="Harbour Times">
<meta name="author" content="Ana Lima">
<meta property="article:published_time" content="2024-03-05T09:00:00Z">
<link rel="canonical" href="https://harbour.example/news/port-strike-ends">
<script>var tracking = "READ MORE: nothing";</script></head>
<body>
<nav><a href="/">Home</a> &gt; <a href="/news">News</a></nav>
<article>
<h1>Port strike ends after two weeks</h1>
<p>Dock workers voted on Monday to end a two-week strike that had stopped almost all
container traffic through the port, union leaders said.</p>
<p>The deal raises pay by 6% this year and another 4% next year, and it limits the use of
automated cranes until 2027, according to a copy seen by <em>Harbour Times</em>.</p>
<p>Shipping companies said it would take &ldquo;several days&rdquo; to clear the backlog of
vessels waiting outside the harbour &amp; along the coast.</p>
</article>
<aside><h3>Most read</h3><ul><li>Ferry fares to rise in spring</li>
<li>New bridge opens to cyclists</li></ul></aside>
<footer><p>Copyright 2024 Harbour Times. All rights reserved.</p></footer>
</body></html>
"""


def _write(folder: Path, name: str, data: str | bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_bytes(data.encode("utf-8"))
    else:
        path.write_bytes(data)
    return path


def test_html_metadata_main_text_and_raw_offsets(tmp_path):
    _write(tmp_path, "port.html", PAGE)
    (article,) = read_corpus(tmp_path).articles
    assert article.title == "Port strike ends after two weeks"
    assert article.outlet == "Harbour Times"
    assert article.byline == "Ana Lima"
    assert article.published == "2024-03-05"
    assert article.url == "https://harbour.example/news/port-strike-ends"
    passages = chunk_article(article, ChunkConfig())
    quoted = " ".join(p.text for p in passages)
    assert "Dock workers voted on Monday" in quoted
    assert "“several days”" in quoted and "harbour & along" in quoted
    for junk in ("Home", "Most read", "Ferry fares", "Copyright", "tracking"):
        assert junk not in quoted
    for passage in passages:
        raw = article.raw_span(passage.start, passage.end)
        assert visible_text(PAGE[raw.start : raw.end]).text == passage.text


def test_markdown_front_matter(tmp_path):
    _write(
        tmp_path,
        "notes/storm.md",
        "---\ntitle: Storm hits the coast\ndate: 2024-01-15\nsource: Coast News\n"
        "url: https://coast.example/storm\n---\n\n# Storm hits the coast\n\n"
        "The storm reached the coast on Monday night and cut power to thousands of homes.\n",
    )
    (article,) = read_corpus(tmp_path).articles
    assert article.path == "notes/storm.md"
    assert (article.title, article.published, article.outlet) == (
        "Storm hits the coast",
        "2024-01-15",
        "Coast News",
    )
    assert article.url == "https://coast.example/storm"


def test_jsonl_records_and_bad_lines(tmp_path):
    good = {
        "title": "Rates held",
        "text": "The central bank held rates at 5% on Wednesday, as expected by most economists.",
        "published_at": "2023-11-01",
        "source": "Money Daily",
        "url": "https://money.example/rates",
    }
    lines = [json.dumps(good), "{not json", json.dumps({"title": "no body"}), json.dumps([1, 2])]
    _write(tmp_path, "feed.jsonl", "\n".join(lines) + "\n")
    read = read_corpus(tmp_path)
    (article,) = read.articles
    assert (article.line, article.outlet, article.published) == (1, "Money Daily", "2023-11-01")
    assert [s.path for s in read.skipped] == ["feed.jsonl:2", "feed.jsonl:3", "feed.jsonl:4"]
    assert "not valid JSON" in read.skipped[0].reason
    assert "no text" in read.skipped[1].reason
    (passage,) = chunk_article(article, ChunkConfig())
    assert good["text"][passage.start : passage.end] == passage.text


def test_bad_files_are_reported_and_good_ones_kept(tmp_path):
    _write(tmp_path, "good.txt", "A good article about the harbour strike and its end on Monday.\n")
    _write(tmp_path, "image.png", b"\x89PNG\r\n\x1a\n")
    _write(tmp_path, "binary.txt", b"\x00\x01\x02binary")
    _write(tmp_path, "empty.txt", "")
    _write(tmp_path, "headings.txt", "Just a heading\n")
    _write(tmp_path, ".hidden.txt", "ignored without a warning")
    read = read_corpus(tmp_path)
    assert [a.path for a in read.articles] == ["good.txt"]
    reasons = {s.path: s.reason for s in read.skipped}
    assert reasons["image.png"].startswith("unsupported file type")
    assert reasons["binary.txt"].startswith("binary file")
    assert reasons["empty.txt"] == "empty file"
    assert reasons["headings.txt"].startswith("no article text")
    assert ".hidden.txt" not in reasons


def test_symlink_loop_is_not_followed_forever(tmp_path):
    _write(
        tmp_path, "a/story.txt", "The mayor opened the new library on Saturday morning downtown.\n"
    )
    (tmp_path / "a" / "loop").symlink_to(tmp_path / "a", target_is_directory=True)
    assert [a.path for a in read_corpus(tmp_path).articles] == ["a/story.txt"]


def test_encodings_keep_offsets_into_the_decoded_text(tmp_path):
    text = "\ufeffCafé owners said on Friday that prices had risen again this month.\r\n"
    _write(tmp_path, "bom.txt", text.encode("utf-8"))
    _write(tmp_path, "utf16.txt", text[1:].encode("utf-16"))
    _write(tmp_path, "latin.txt", text[1:].encode("cp1252"))
    read = read_corpus(tmp_path)
    for article in read.articles:
        raw = (tmp_path / article.path).read_bytes()
        decoded = raw.decode(read.encodings[article.path])
        (passage,) = chunk_article(article, ChunkConfig())
        assert decoded[passage.start : passage.end] == passage.text
        assert passage.text.startswith("Café owners")


def test_decode_rejects_binary():
    with pytest.raises(Exception, match="binary"):
        decode(b"abc\x00def")


def test_missing_corpus_folder(tmp_path):
    with pytest.raises(CorpusError, match="does not exist"):
        read_corpus(tmp_path / "nope")
