"""Build an index: corpus folder → articles → passages → vectors → published build."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, replace
from pathlib import Path

from index.cache import CACHE_FILE, FILES_FILE, CachingEmbedder, EmbeddingCache, FileCache
from index.config import Config
from index.dedup import group_passages
from index.embed import Embedder
from index.errors import CorpusError, IndexCorruptError, IndexMissingError
from index.ingest import Skipped
from index.integrity import verify_checksums
from index.lexical import LexicalIndex
from index.lock import build_lock
from index.prepare import prepare_corpus
from index.store import (
    SCHEMA_VERSION,
    BuildInput,
    Manifest,
    prune,
    read_manifest,
    resolve,
    utc_now,
    write_build,
)


@dataclass(frozen=True)
class BuildReport:
    """What a build did, for the CLI to print and benchmarks to record."""

    path: Path
    articles: int
    passages: int
    skipped: list[Skipped]
    seconds: float
    embed_seconds: float
    embedded: int = 0  # passages sent to the model (the rest came from the cache)
    files_reused: int = 0  # files whose cleaned, chunked work came from the cache
    full_reason: str | None = None  # why nothing was reused, when nothing was
    up_to_date: bool = False  # nothing changed: the current build was kept, none written

    @property
    def passages_per_second(self) -> float:
        return self.passages / self.seconds if self.seconds else 0.0


def build_index(
    corpus: Path,
    root: Path,
    config: Config,
    embedder: Embedder,
    progress: bool = False,
    full: bool = False,
) -> BuildReport:
    """Index every readable article under ``corpus`` and publish it as the current build of
    ``root``. Work is reused from the root's caches for unchanged files and passages,
    unless ``full`` or the model or chunking differ from the current build's. Raises
    CorpusError when nothing can be indexed (the previous build then stays) and
    IndexBusyError when another build of ``root`` is running."""
    with build_lock(root):
        current = _current(root)
        reason = "--full" if full else _full_reason(current, config, embedder)
        return _build(corpus, root, config, embedder, progress, reason, current)


def _current(root: Path) -> tuple[Path, Manifest] | None:
    """The current build and its manifest, or None (a first build, or one that cannot
    be compared: then nothing is kept and the caches decide what is reused)."""
    try:
        build = resolve(root)
        return build, read_manifest(build)
    except (IndexMissingError, IndexCorruptError):
        return None


def _full_reason(
    current: tuple[Path, Manifest] | None, config: Config, embedder: Embedder
) -> str | None:
    """Why the current build's work cannot be reused, or None."""
    if current is None:
        return None
    manifest = current[1]
    if manifest.model != embedder.name:
        return f"the model changed ({manifest.model} → {embedder.name})"
    if manifest.chunking != _chunking(config):
        return f"the chunking settings changed ({manifest.chunking} → {_chunking(config)})"
    return None


def _fingerprint(corpus: str, config: Config, embedder: Embedder) -> str:
    """The corpus files and every setting that shapes a build."""
    settings = f"{corpus}/{embedder.name}/{config.index.approximate_above}"
    return hashlib.blake2b(settings.encode(), digest_size=16).hexdigest()


def _unchanged(current: tuple[Path, Manifest] | None, fingerprint: str) -> bool:
    """Whether the current build was made from the same files and settings and is
    intact (a damaged one is rebuilt). Checksums are read only when that could be so."""
    if current is None or current[1].fingerprint != fingerprint:
        return False
    try:
        verify_checksums(current[0], current[1].checksums)
    except IndexCorruptError:
        return False
    return True


def _chunking(config: Config) -> dict[str, int]:
    c = config.chunk
    return {"target_words": c.target_words, "max_words": c.max_words, "min_words": c.min_words}


def _build(
    corpus: Path,
    root: Path,
    config: Config,
    embedder: Embedder,
    progress: bool,
    full: str | None,
    current: tuple[Path, Manifest] | None,
) -> BuildReport:
    started = time.perf_counter()
    files = FileCache(root / FILES_FILE)
    prepared = prepare_corpus(
        corpus, config.chunk, config.corpus.max_file_bytes, files, not full, progress
    )
    if not prepared.articles:
        raise CorpusError(_empty_message(corpus, prepared.skipped))
    articles = [item.article for item in prepared.articles]
    passages = [p for item in prepared.articles for p in item.passages]
    fingerprint = _fingerprint(prepared.fingerprint, config, embedder)
    if not full and _unchanged(current, fingerprint):
        prune(root, config.index.keep_versions)  # still clear what killed builds left
        return BuildReport(
            resolve(root), len(articles), len(passages), prepared.skipped,
            time.perf_counter() - started, 0.0, 0, prepared.files_reused, None, True,
        )  # fmt: skip
    caching = CachingEmbedder(embedder, EmbeddingCache(root / CACHE_FILE), refresh=bool(full))
    embed_started = time.perf_counter()
    vectors = caching.embed_passages([p.text for p in passages], progress=progress)
    embed_seconds = time.perf_counter() - embed_started
    signatures = [s for item in prepared.articles for s in item.signatures]
    build = BuildInput(
        articles,
        prepared.encodings,
        passages,
        vectors,
        replace(
            _manifest(corpus, config, embedder, len(articles), len(passages), started),
            fingerprint=fingerprint,
        ),
        LexicalIndex.from_tokens([t for item in prepared.articles for t in item.passage_tokens]),
        LexicalIndex.from_tokens([item.article_tokens for item in prepared.articles]),
        group_passages([p.text for p in passages], vectors, signatures),
    )
    path = write_build(
        root, build, config.index.keep_versions, config.index.approximate_above, progress
    )
    return BuildReport(
        path, len(articles), len(passages), prepared.skipped, time.perf_counter() - started,
        embed_seconds, caching.misses, prepared.files_reused, full,
    )  # fmt: skip


def _manifest(
    corpus: Path, config: Config, embedder: Embedder, articles: int, passages: int, started: float
) -> Manifest:
    return Manifest(
        schema_version=SCHEMA_VERSION,
        model=embedder.name,
        dimension=embedder.dimension,
        articles=articles,
        passages=passages,
        built_at=utc_now(),
        build_seconds=round(time.perf_counter() - started, 3),
        corpus=str(corpus.resolve()),
        chunking=_chunking(config),
    )


def _empty_message(corpus: Path, skipped: list[Skipped]) -> str:
    if not skipped:
        return f"no articles to index in {corpus}: add .txt, .md, .html or .jsonl files"
    return (
        f"no articles to index in {corpus}: all {len(skipped)} files were skipped "
        f"(first: {skipped[0].path}: {skipped[0].reason})"
    )
