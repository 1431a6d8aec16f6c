"""The per-file work of a build: read, clean, chunk, tokenise and sign each file's
articles, cached by path and content so a rebuild redoes it only for changed files.

A file's cache key covers its path, its bytes, the chunking settings and a
fingerprint of the code and libraries that turn bytes into passages, so a change
to any of them redoes the work. What stays per build (embedding through its own
cache, copy grouping, the BM25 and FAISS indexes) happens in ``index.build``.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

import numpy as np
from tqdm import tqdm

from index import chunk, clean, dates, dedup, html, ingest, lexical, models
from index.cache import FileCache
from index.config import ChunkConfig
from index.ingest import Skipped, Unreadable
from index.models import Article, Passage

_CODE = (chunk, clean, dates, dedup, html, ingest, lexical, models)
_LIBRARIES = ("bm25s", "PyStemmer", "trafilatura", "htmldate", "datasketch", "charset-normalizer")


@dataclass(frozen=True)
class PreparedArticle:
    """One article with its passages and what the indexes need of them."""

    article: Article
    passages: list[Passage]
    passage_tokens: list[list[str]]  # BM25 terms of each passage with title and outlet
    article_tokens: list[str]  # BM25 terms of the whole article with title and outlet
    signatures: np.ndarray  # MinHash signature of each passage (rows)


@dataclass(frozen=True)
class PreparedFile:
    articles: list[PreparedArticle]
    skipped: list[Skipped]
    encoding: str | None


@dataclass
class PreparedCorpus:
    articles: list[PreparedArticle] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    encodings: dict[str, str] = field(default_factory=dict)
    files_reused: int = 0
    files_prepared: int = 0
    fingerprint: str = ""  # changes when any file, skip reason or setting does


@dataclass(frozen=True)
class _File:
    relative: str
    suffix: str
    key: bytes
    data: bytes


def prepare_corpus(
    corpus: Path,
    config: ChunkConfig,
    max_bytes: int,
    files: FileCache | None = None,
    reuse: bool = True,
    progress: bool = False,
) -> PreparedCorpus:
    """Every article under ``corpus`` with its passages, reusing ``files`` entries for
    unchanged files unless ``reuse`` is false (the new work is stored either way).
    Unreadable files are reported in ``skipped``. Raises CorpusError when ``corpus``
    is not a folder."""
    ingest.check_corpus(corpus)
    result = PreparedCorpus()
    listed = list(_list_files(corpus, config, max_bytes, result))
    found = files.get([f.key for f in listed]) if files is not None and reuse else {}
    made = _prepare_files([f for f in listed if f.key not in found], config, progress)
    if files is not None:
        files.put(made)
        files.retain([f.key for f in listed])
    result.files_reused, result.files_prepared = len(found), len(made)
    for item in listed:
        work = found.get(item.key) or made[item.key]
        result.articles.extend(work.articles)
        result.skipped.extend(work.skipped)
        if work.encoding:
            result.encodings[item.relative] = work.encoding
    result.articles = _unique_ids(result.articles)
    result.fingerprint = _corpus_fingerprint(listed, result.skipped)
    return result


def _corpus_fingerprint(listed: list[_File], skipped: list[Skipped]) -> str:
    digest = hashlib.blake2b(digest_size=16)
    for item in listed:
        digest.update(item.key)
    for skip in skipped:
        digest.update(f"{skip.path}\0{skip.reason}\0".encode())
    return digest.hexdigest()


def _list_files(
    corpus: Path, config: ChunkConfig, max_bytes: int, result: PreparedCorpus
) -> Iterable[_File]:
    settings = _fingerprint(config)
    for path in ingest.iter_files(corpus):
        relative = path.relative_to(corpus).as_posix()
        try:
            ingest.format_of(path.suffix)
            data = ingest.file_bytes(path, max_bytes)
        except Unreadable as exc:
            result.skipped.append(Skipped(relative, str(exc)))
            continue
        key = hashlib.blake2b(relative.encode() + b"\0" + data, digest_size=20, key=settings)
        yield _File(relative, path.suffix, key.digest(), data)


def _prepare_files(
    listed: list[_File], config: ChunkConfig, progress: bool
) -> dict[bytes, PreparedFile]:
    bar = tqdm(listed, unit="file", desc="reading", disable=not progress or not listed)
    parsed = {item.key: _parse(item) for item in bar}
    chunks = {
        key: [chunk.chunk_article(a, config) for a in articles]
        for key, (articles, _, _) in parsed.items()
    }
    tokens = iter(_tokens(parsed, chunks))
    made: dict[bytes, PreparedFile] = {}
    for key, (articles, skipped, encoding) in parsed.items():
        prepared = []
        for article, passages in zip(articles, chunks[key], strict=True):
            passage_tokens = [next(tokens) for _ in passages]
            signatures = np.array([dedup.signature(p.text) for p in passages], dtype=np.uint64)
            prepared.append(
                PreparedArticle(article, passages, passage_tokens, next(tokens), signatures)
            )
        made[key] = PreparedFile(prepared, skipped, encoding)
    return made


def _parse(item: _File) -> tuple[list[Article], list[Skipped], str | None]:
    try:
        return ingest.parse_file(item.data, item.suffix, item.relative)
    except Unreadable as exc:
        return [], [Skipped(item.relative, str(exc))], None


def _tokens(
    parsed: dict[bytes, tuple[list[Article], list[Skipped], str | None]],
    chunks: dict[bytes, list[list[Passage]]],
) -> list[list[str]]:
    """BM25 terms of every passage, then of its article, in file and article order: one
    tokeniser call for all files (it has a high fixed cost per call)."""
    documents: list[str] = []
    for key, (articles, _, _) in parsed.items():
        for article, passages in zip(articles, chunks[key], strict=True):
            documents.extend(with_metadata(article, p.text) for p in passages)
            body = "\n".join(article.text[s.start : s.end] for s in article.body)
            documents.append(with_metadata(article, body))
    return lexical.tokenize(documents) if documents else []


def with_metadata(article: Article, text: str) -> str:
    """A BM25 document that carries the article's title and outlet, so a question naming
    them ("… reported by TechCrunch") matches."""
    return "\n".join(part for part in (article.title, article.outlet, text) if part)


@cache
def _code_fingerprint() -> bytes:
    digest = hashlib.blake2b(digest_size=16)
    for module in _CODE:
        digest.update(Path(str(module.__file__)).read_bytes())
    for name in _LIBRARIES:
        try:
            digest.update(f"{name}={importlib.metadata.version(name)}".encode())
        except importlib.metadata.PackageNotFoundError:
            digest.update(name.encode())
    return digest.digest()


def _fingerprint(config: ChunkConfig) -> bytes:
    settings = f"{config.target_words}/{config.max_words}/{config.min_words}".encode()
    return hashlib.blake2b(_code_fingerprint() + settings, digest_size=16).digest()


def _unique_ids(prepared: list[PreparedArticle]) -> list[PreparedArticle]:
    """JSONL ids may collide across files; fall back to the path-based id for repeats."""
    seen: set[str] = set()
    unique: list[PreparedArticle] = []
    for item in prepared:
        article = item.article
        if article.doc_id in seen:
            article = replace(article, doc_id=ingest.doc_id_for(article.path, article.line))
            passages = [replace(p, doc_id=article.doc_id) for p in item.passages]
            item = replace(item, article=article, passages=passages)
        seen.add(article.doc_id)
        unique.append(item)
    return unique
