"""Build an index: corpus folder → articles → passages → vectors → published build."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path

from index.cache import CACHE_FILE, CachingEmbedder, EmbeddingCache
from index.chunk import chunk_article
from index.config import Config
from index.dedup import group_passages
from index.embed import Embedder
from index.errors import CorpusError
from index.ingest import CorpusRead, Skipped, doc_id_for, read_corpus
from index.lexical import LexicalIndex
from index.lock import build_lock
from index.models import Article, Passage
from index.store import SCHEMA_VERSION, BuildInput, Manifest, utc_now, write_build


@dataclass(frozen=True)
class BuildReport:
    """What a build did, for the CLI to print and benchmarks to record."""

    path: Path
    articles: int
    passages: int
    skipped: list[Skipped]
    seconds: float
    embed_seconds: float

    @property
    def passages_per_second(self) -> float:
        return self.passages / self.seconds if self.seconds else 0.0


def build_index(
    corpus: Path, root: Path, config: Config, embedder: Embedder, progress: bool = False
) -> BuildReport:
    """Index every readable article under ``corpus`` and publish it as the current build of
    ``root``. Raises CorpusError when nothing can be indexed (the previous build then
    stays) and IndexBusyError when another build of ``root`` is running."""
    with build_lock(root):
        return _build(corpus, root, config, embedder, progress)


def _build(
    corpus: Path, root: Path, config: Config, embedder: Embedder, progress: bool
) -> BuildReport:
    started = time.perf_counter()
    read = read_corpus(corpus, config.corpus.max_file_bytes)
    if not read.articles:
        raise CorpusError(_empty_message(corpus, read))
    articles = _unique_ids(read.articles)
    passages = [p for a in articles for p in chunk_article(a, config.chunk)]
    embed_started = time.perf_counter()
    vectors = embedder.embed_passages([p.text for p in passages], progress=progress)
    embed_seconds = time.perf_counter() - embed_started
    manifest = Manifest(
        schema_version=SCHEMA_VERSION,
        model=embedder.name,
        dimension=embedder.dimension,
        articles=len(articles),
        passages=len(passages),
        built_at=utc_now(),
        build_seconds=round(time.perf_counter() - started, 3),
        corpus=str(corpus.resolve()),
        chunking={
            "target_words": config.chunk.target_words,
            "max_words": config.chunk.max_words,
            "min_words": config.chunk.min_words,
        },
    )
    lexical_passages, lexical_articles = _lexical(articles, passages)
    groups = group_passages([p.text for p in passages], vectors)
    build = BuildInput(
        articles,
        read.encodings,
        passages,
        vectors,
        manifest,
        lexical_passages,
        lexical_articles,
        groups,
    )
    path = write_build(root, build, keep=config.index.keep_versions)
    seconds = time.perf_counter() - started
    return BuildReport(path, len(articles), len(passages), read.skipped, seconds, embed_seconds)


def cached(embedder: Embedder, root: Path) -> CachingEmbedder:
    """``embedder`` behind the index root's embedding cache, so a rebuild embeds only
    passages whose text (or model) is new."""
    return CachingEmbedder(embedder, EmbeddingCache(root / CACHE_FILE))


def _lexical(articles: list[Article], passages: list[Passage]) -> tuple[LexicalIndex, LexicalIndex]:
    """BM25 indexes whose documents carry the article's title and outlet, so a question
    naming them ("… reported by TechCrunch") matches."""
    by_id = {a.doc_id: a for a in articles}
    passage_docs = [_with_metadata(by_id[p.doc_id], p.text) for p in passages]
    article_docs = [
        _with_metadata(a, "\n".join(a.text[s.start : s.end] for s in a.body)) for a in articles
    ]
    return LexicalIndex.build(passage_docs), LexicalIndex.build(article_docs)


def _with_metadata(article: Article, text: str) -> str:
    return "\n".join(part for part in (article.title, article.outlet, text) if part)


def _empty_message(corpus: Path, read: CorpusRead) -> str:
    if not read.skipped:
        return f"no articles to index in {corpus}: add .txt, .md, .html or .jsonl files"
    return (
        f"no articles to index in {corpus}: all {len(read.skipped)} files were skipped "
        f"(first: {read.skipped[0].path}: {read.skipped[0].reason})"
    )


def _unique_ids(articles: list[Article]) -> list[Article]:
    """JSONL ids may collide across files; fall back to the path-based id for repeats."""
    seen: set[str] = set()
    unique: list[Article] = []
    for article in articles:
        if article.doc_id in seen:
            article = replace(article, doc_id=doc_id_for(article.path, article.line))
        seen.add(article.doc_id)
        unique.append(article)
    return unique
