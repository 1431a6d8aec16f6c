"""The index on disk: FAISS vectors + SQLite passages/articles + manifest.json.

Layout of an index root::

    <root>/current -> builds/<version>      (symlink, swapped atomically)
    <root>/builds/<version>/manifest.json
                            vectors.faiss    (inner product over unit vectors = cosine;
                                              exact, or IVF above index.approximate_above)
                            passages.sqlite  (articles, passages; row id = FAISS id)
                            bm25-passages/, bm25-articles/  (BM25 with metadata)
                            passage_article.npy  (article number of each passage)
                            passage_group.npy  (syndicated copies share a group id)

A build is written to ``builds/.tmp-<version>`` and renamed into place, then
``current`` is replaced with ``os.replace``; readers resolve ``current`` once when
they open, so a half-written build is never visible and a failed one changes
nothing. This is the only module that imports faiss.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import threading
import weakref
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import faiss
import numpy as np
from tqdm import tqdm

from index.errors import IndexCorruptError, IndexMissingError
from index.integrity import checksums, verify_checksums
from index.lexical import LexicalIndex
from index.models import Article, CorpusStats, Filters, IndexInfo, Passage, Source

SCHEMA_VERSION = 3  # 3: the manifest records a sha256 of every index file
EXACT = "IndexFlatIP"
# Inverted lists over k-means cells, each holding full vectors: no compression, so
# scores equal the exact ones. Chosen over HNSW by measurement at 1M passages made of
# noisy copies (near-duplicate clusters, as syndication makes): HNSW recall@10 0.69 at
# efSearch 128 and 0.89 at 512; IVF 0.95-0.99 at ~3% of cells probed, p95 < 8 ms.
APPROXIMATE = "IndexIVFFlat"
IVF_PROBED_SHARE = 32  # one cell in this many is probed per query
IVF_TRAIN_PER_CELL = 40  # k-means wants at least 39 training vectors per cell
# A filter leaving at most this many passages is searched exactly over just those
# vectors: a graph walk that must skip most nodes loses recall, a small scan is fast.
EXACT_FILTERED = 50_000
MANIFEST = "manifest.json"
VECTORS = "vectors.faiss"
DATABASE = "passages.sqlite"
LEXICAL_PASSAGES = "bm25-passages"
LEXICAL_ARTICLES = "bm25-articles"
PASSAGE_ARTICLE = "passage_article.npy"
PASSAGE_GROUP = "passage_group.npy"
CURRENT = "current"
BUILDS = "builds"

_SCHEMA = """
CREATE TABLE articles (
    doc_id TEXT PRIMARY KEY, path TEXT NOT NULL, line INTEGER, format TEXT NOT NULL,
    encoding TEXT, title TEXT, outlet TEXT, byline TEXT, published TEXT, url TEXT,
    dateline TEXT, chars INTEGER NOT NULL
);
CREATE TABLE passages (
    id INTEGER PRIMARY KEY, doc_id TEXT NOT NULL REFERENCES articles(doc_id),
    ordinal INTEGER NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL,
    raw_start INTEGER NOT NULL, raw_end INTEGER NOT NULL, text TEXT NOT NULL
);
CREATE INDEX passages_doc ON passages(doc_id);
"""


@dataclass(frozen=True)
class Manifest:
    schema_version: int
    model: str
    dimension: int
    articles: int
    passages: int
    built_at: str
    build_seconds: float
    corpus: str
    chunking: dict[str, int]
    faiss_index: str = EXACT  # or APPROXIMATE, chosen by size (index.approximate_above)
    faiss_params: dict[str, int] = field(default_factory=dict)
    # Of the corpus files and settings built from: equal means a rebuild would change nothing.
    fingerprint: str = ""
    # sha256 of every file of the build but the manifest, by path relative to the build.
    checksums: dict[str, str] = field(default_factory=dict)

    def info(self) -> IndexInfo:
        return IndexInfo(built_at=self.built_at, articles=self.articles, passages=self.passages)


def new_version() -> str:
    """A sortable, unique build name such as ``20261122T101500123456-4242``."""
    return f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%f')}-{os.getpid()}"


def utc_now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class BuildInput:
    """Everything written into one build directory."""

    articles: Sequence[Article]
    encodings: dict[str, str]
    passages: Sequence[Passage]
    vectors: np.ndarray
    manifest: Manifest
    lexical_passages: LexicalIndex
    lexical_articles: LexicalIndex
    groups: np.ndarray  # group id of each passage (see index.dedup)


def write_build(
    root: Path,
    build: BuildInput,
    keep: int = 2,
    approximate_above: int = 100_000,
    progress: bool = False,
) -> Path:
    """Write a complete build under ``root`` and make it current; return its directory.
    Vectors are searched exactly unless there are more than ``approximate_above``."""
    version = new_version()
    builds = root / BUILDS
    builds.mkdir(parents=True, exist_ok=True)
    tmp = builds / f".tmp-{version}"
    tmp.mkdir()
    try:
        _write_files(tmp, build, approximate_above, progress)
        final = builds / version
        os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    publish(root, final)
    prune(root, keep)
    return final


def _write_files(
    directory: Path, build: BuildInput, approximate_above: int, progress: bool
) -> None:
    vectors = np.ascontiguousarray(build.vectors, dtype=np.float32)
    approximate = len(vectors) > approximate_above
    kind, params = (APPROXIMATE, ivf_params(len(vectors))) if approximate else (EXACT, {})
    index = _new_index(kind, build.manifest.dimension, params, vectors)
    # Assigning 1M vectors to cells takes a while: added in blocks to show progress.
    block = 50_000 if approximate else max(1, len(vectors))
    bar = tqdm(total=len(vectors), unit="vector", desc="indexing", disable=not progress)
    with bar:
        for start in range(0, len(vectors), block):
            index.add(vectors[start : start + block])
            bar.update(min(block, len(vectors) - start))
    if approximate:
        index.make_direct_map()  # so vectors can be read back by id (reconstruct)
    faiss.write_index(index, str(directory / VECTORS))
    _write_database(directory / DATABASE, build)
    build.lexical_passages.save(directory / LEXICAL_PASSAGES)
    build.lexical_articles.save(directory / LEXICAL_ARTICLES)
    number = {a.doc_id: i for i, a in enumerate(build.articles)}
    owners = np.array([number[p.doc_id] for p in build.passages], dtype=np.int32)
    np.save(directory / PASSAGE_ARTICLE, owners)
    np.save(directory / PASSAGE_GROUP, np.asarray(build.groups, dtype=np.int64))
    manifest = replace(
        build.manifest,
        faiss_index=kind,
        faiss_params=params,
        checksums=checksums(directory, skip=MANIFEST),
    )
    manifest_path = directory / MANIFEST
    manifest_path.write_text(json.dumps(asdict(manifest), indent=2) + "\n", "utf-8")
    for name in (VECTORS, DATABASE, MANIFEST):
        _fsync(directory / name)


def ivf_params(count: int) -> dict[str, int]:
    """Cells (about 4 x sqrt(count), never fewer training vectors per cell than k-means
    needs) and how many of them a query probes."""
    cells = max(1, min(int(4 * count**0.5), count // IVF_TRAIN_PER_CELL))
    return {"nlist": cells, "nprobe": min(cells, max(8, cells // IVF_PROBED_SHARE))}


def _new_index(kind: str, dimension: int, params: dict[str, int], vectors: np.ndarray) -> Any:
    if kind == EXACT:
        return faiss.IndexFlatIP(dimension)
    cells = params["nlist"]
    index = faiss.IndexIVFFlat(
        faiss.IndexFlatIP(dimension), dimension, cells, faiss.METRIC_INNER_PRODUCT
    )
    index.cp.niter = 10  # k-means rounds: cells barely move after ten
    index.nprobe = params["nprobe"]
    sample = min(len(vectors), cells * IVF_TRAIN_PER_CELL * 2)
    rows = np.random.default_rng(0).choice(len(vectors), sample, replace=False)
    index.train(vectors[np.sort(rows)])
    return index


def _write_database(path: Path, build: BuildInput) -> None:
    by_id = {a.doc_id: a for a in build.articles}
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.executescript(_SCHEMA)
        db.executemany(
            "INSERT INTO articles VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (_article_row(a, build.encodings.get(a.path)) for a in build.articles),
        )
        db.executemany(
            "INSERT INTO passages VALUES (?,?,?,?,?,?,?,?)",
            (_passage_row(i, p, by_id[p.doc_id]) for i, p in enumerate(build.passages)),
        )


def _article_row(a: Article, encoding: str | None) -> tuple[Any, ...]:
    return (a.doc_id, a.path, a.line, a.format, encoding, a.title, a.outlet, a.byline,
            a.published, a.url, a.dateline, len(a.text))  # fmt: skip


def _passage_row(row: int, p: Passage, article: Article) -> tuple[Any, ...]:
    raw = article.raw_span(p.start, p.end)
    return (row, p.doc_id, p.ordinal, p.start, p.end, raw.start, raw.end, p.text)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(root: Path, build_dir: Path) -> None:
    """Point ``root/current`` at ``build_dir`` atomically."""
    link = root / f".{CURRENT}.{os.getpid()}"
    with contextlib.suppress(FileNotFoundError):
        link.unlink()
    link.symlink_to(Path(BUILDS) / build_dir.name)
    os.replace(link, root / CURRENT)


def prune(root: Path, keep: int) -> None:
    """Delete all but the newest ``keep`` builds, never the current one, and stale temp dirs."""
    builds = root / BUILDS
    current = resolve(root).name
    versions = sorted(p for p in builds.iterdir() if not p.name.startswith("."))
    for old in versions[:-keep]:
        if old.name != current:
            shutil.rmtree(old, ignore_errors=True)
    for tmp in builds.glob(".tmp-*"):
        if not _pid_alive(tmp.name.rsplit("-", 1)[-1]):
            shutil.rmtree(tmp, ignore_errors=True)


def _pid_alive(pid: str) -> bool:
    try:
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


def resolve(root: Path) -> Path:
    """The build directory a reader should open for ``root``.

    ``root`` may be an index root (with ``current``) or a build directory itself.
    """
    if root.exists() and not root.is_dir():
        raise IndexMissingError(f"index path {root} is a file: set index.path or --index-dir")
    if (root / MANIFEST).is_file():
        return root
    current = root / CURRENT
    if current.exists():
        return current.resolve()
    raise IndexMissingError(f"no index at {root}, run newsbot index")


def read_manifest(build_dir: Path) -> Manifest:
    try:
        data = json.loads((build_dir / MANIFEST).read_text("utf-8"))
        manifest = Manifest(**data)
    except (OSError, ValueError, TypeError) as exc:
        raise IndexCorruptError(f"index at {build_dir} has an unreadable manifest: {exc}") from exc
    if manifest.schema_version != SCHEMA_VERSION:
        raise IndexCorruptError(
            f"index at {build_dir} has schema version {manifest.schema_version}, this newsbot "
            f"reads {SCHEMA_VERSION}: rebuild it with newsbot index"
        )
    return manifest


class IndexReader:
    """An open build: vector search plus passage and article lookups. Thread-safe for reads."""

    def __init__(self, root: Path, exact_filtered: int = EXACT_FILTERED):
        self.path = resolve(root)
        self.exact_filtered = exact_filtered
        self.manifest = read_manifest(self.path)
        verify_checksums(self.path, self.manifest.checksums)
        try:
            self._vectors = faiss.read_index(str(self.path / VECTORS))
        except RuntimeError as exc:
            raise IndexCorruptError(f"index at {self.path} has unreadable vectors: {exc}") from exc
        if self._vectors.ntotal != self.manifest.passages:
            raise IndexCorruptError(
                f"index at {self.path} holds {self._vectors.ntotal} vectors for "
                f"{self.manifest.passages} passages: rebuild it with newsbot index"
            )
        self._db_path = self.path / DATABASE
        if not self._db_path.is_file():
            raise IndexCorruptError(f"index at {self.path} has no {DATABASE}")
        self._db = self._open_database()
        self._db_lock = threading.Lock()
        self.lexical_passages = LexicalIndex.load(
            self.path / LEXICAL_PASSAGES, self.manifest.passages
        )
        self.lexical_articles = LexicalIndex.load(
            self.path / LEXICAL_ARTICLES, self.manifest.articles
        )
        self.passage_article = self._array(PASSAGE_ARTICLE)
        self.passage_group = self._array(PASSAGE_GROUP)
        self.copies = _copies(self.passage_group)
        self.article_outlets, self.article_published = self._article_metadata()

    def _array(self, name: str) -> np.ndarray:
        try:
            array = np.load(self.path / name)
        except (OSError, ValueError) as exc:
            raise IndexCorruptError(f"index at {self.path}: unreadable {name}") from exc
        if len(array) != self.manifest.passages:
            raise IndexCorruptError(f"index at {self.path}: {name} does not match the passages")
        return array

    def _article_metadata(self) -> tuple[list[str | None], list[str | None]]:
        """Outlet and publication date of every article, in article order."""
        with self._connect() as db:
            rows = db.execute("SELECT outlet, published FROM articles ORDER BY rowid").fetchall()
        return [row[0] for row in rows], [row[1] for row in rows]

    def vectors(self, ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """The stored unit vectors of passages ``ids``."""
        wanted = np.asarray(ids, dtype=np.int64)
        if len(wanted) == 0:
            return np.zeros((0, self.manifest.dimension), dtype=np.float32)
        return np.asarray(self._vectors.reconstruct_batch(wanted), dtype=np.float32)

    def _open_database(self) -> sqlite3.Connection:
        """One read-only connection for the reader's lifetime, opened now: its open file
        survives the build directory being pruned while this reader still answers.
        ``immutable``: a published build never changes, so SQLite needs no locks or journal."""
        uri = f"file:{self._db_path}?mode=ro&immutable=1"
        db = sqlite3.connect(uri, uri=True, check_same_thread=False)
        try:
            db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()  # reads the file now
        except sqlite3.DatabaseError as exc:
            db.close()
            raise IndexCorruptError(f"index at {self.path}: unreadable {DATABASE}: {exc}") from exc
        db.row_factory = sqlite3.Row
        weakref.finalize(self, db.close)
        return db

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        # The connection is shared by the worker threads; sqlite3 objects need one at a time.
        with self._db_lock:
            yield self._db

    def search(
        self, query: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        """The ``k`` nearest passages to a unit query vector as (passage id, cosine),
        among ``allowed`` passage ids when given."""
        if self.manifest.passages == 0 or (allowed is not None and len(allowed) == 0):
            return []
        vector = np.asarray(query, dtype=np.float32).reshape(1, -1)
        if allowed is not None and self.approximate and len(allowed) <= self.exact_filtered:
            return self._search_among(vector[0], k, allowed)
        params: Any = faiss.SearchParameters()
        if self.approximate:
            params = faiss.SearchParametersIVF()
            params.nprobe = self.manifest.faiss_params["nprobe"]
        if allowed is not None:
            params.sel = faiss.IDSelectorBatch(np.asarray(allowed, dtype=np.int64))
        scores, ids = self._vectors.search(vector, k, params=params)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    @property
    def approximate(self) -> bool:
        return self.manifest.faiss_index == APPROXIMATE

    def _search_among(
        self, vector: np.ndarray, k: int, allowed: np.ndarray
    ) -> list[tuple[int, float]]:
        """Exact search over the vectors of ``allowed`` only."""
        ids = np.asarray(allowed, dtype=np.int64)
        scores = self.vectors(ids) @ vector
        top = np.argsort(-scores, kind="stable")[:k]
        return [(int(ids[i]), float(scores[i])) for i in top]

    def allowed_ids(self, filters: Filters) -> np.ndarray | None:
        """Passage ids of articles matching ``filters``, or None when nothing is filtered."""
        if not filters.active:
            return None
        clauses, params = _filter_sql(filters)
        query = "SELECT p.id FROM passages p JOIN articles a USING (doc_id) WHERE " + " AND ".join(
            clauses
        )
        with self._connect() as db:
            rows = db.execute(query, params).fetchall()
        return np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))

    def stats(self) -> CorpusStats:
        """Counts, outlets and date range of the indexed articles."""
        with self._connect() as db:
            outlets = db.execute(
                "SELECT outlet, COUNT(*) AS n FROM articles WHERE outlet IS NOT NULL"
                " GROUP BY outlet ORDER BY n DESC, outlet"
            ).fetchall()
            first, last = db.execute(
                "SELECT MIN(published), MAX(published) FROM articles"
            ).fetchone()
        return CorpusStats(
            articles=self.manifest.articles,
            passages=self.manifest.passages,
            built_at=self.manifest.built_at,
            outlets=tuple((row[0], row[1]) for row in outlets),
            first_published=first,
            last_published=last,
        )

    def passages(self, ids: Iterable[int]) -> dict[int, tuple[str, Source]]:
        """Text and source of each passage id."""
        wanted = list(ids)
        if not wanted:
            return {}
        marks = ",".join("?" * len(wanted))
        query = (
            "SELECT p.id, p.text, p.raw_start, p.raw_end, a.doc_id, a.path, a.line, a.title,"
            f" a.outlet, a.published, a.url FROM passages p JOIN articles a USING (doc_id)"
            f" WHERE p.id IN ({marks})"
        )
        with self._connect() as db:
            rows = db.execute(query, wanted).fetchall()
        return {row["id"]: (row["text"], _source(row)) for row in rows}

    def info(self) -> IndexInfo:
        return self.manifest.info()


def _copies(groups: np.ndarray) -> dict[int, list[int]]:
    """Passage ids of every group with more than one member."""
    values, counts = np.unique(groups, return_counts=True)
    shared = set(values[counts > 1].tolist())
    copies: dict[int, list[int]] = {}
    for passage, group in enumerate(groups.tolist()):
        if group in shared:
            copies.setdefault(group, []).append(passage)
    return copies


def _filter_sql(filters: Filters) -> tuple[list[str], list[str]]:
    clauses: list[str] = []
    params: list[str] = []
    if filters.since:
        clauses.append("a.published >= ?")
        params.append(filters.since)
    if filters.until:
        clauses.append("a.published <= ?")
        params.append(filters.until)
    if filters.outlet:
        clauses.append("LOWER(a.outlet) = LOWER(?)")
        params.append(filters.outlet.strip())
    return clauses, params


def _source(row: sqlite3.Row) -> Source:
    return Source(
        doc_id=row["doc_id"], path=row["path"], title=row["title"], outlet=row["outlet"],
        published=row["published"], url=row["url"], start=row["raw_start"], end=row["raw_end"],
        line=row["line"],
    )  # fmt: skip
