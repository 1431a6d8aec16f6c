"""Index lifecycle and scale on RealTimeQA (../shared/bench/realtimeqa/articles.jsonl.gz).

    .venv/bin/python -m bench.scale [--articles 1000] [--sizes 10000,100000,1000000]
                                    [--queries 200] [--skip-build]

1. Build: the first --articles articles, one JSONL file each, are indexed from
   scratch (passages/s); the same passages are then encoded bare by the same
   embedder in the same run (pipeline overhead = build time / bare encoding time
   - 1); then 1% of the files get a new paragraph and the index is rebuilt
   incrementally (time as a share of the full build).
2. Search: indexes of each --sizes passages, made of the real passages of all
   19,349 articles (text, metadata and BM25 terms; repeated as copies with new
   ids beyond the ~350k passages the corpus has) with vectors replicated from the
   vectors embedded in step 1 plus Gaussian noise (sigma 0.025 per dimension,
   cosine ~0.9 to the source vector) and no copy grouping. Each size is opened
   in a fresh process: resident memory, latency of the FAISS search alone (k=100),
   of retrieval (HybridSearcher: query embedding, FAISS, BM25, fusion) and of a
   whole ask (with the highlight), and for an approximate index its recall@10
   against exact search over the same vectors. Texts and vectors of the replicas
   do not match, so only speed, memory and recall mean anything there.

Work files go to bench/.work/scale (git-ignored); figures to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from bench.core import realtimeqa_questions
from bench.results import SHARED, append_row, code_version, median, percentile, today
from index.answer import Answerer
from index.build import BuildReport, build_index
from index.cache import FILES_FILE, FileCache
from index.config import Config
from index.embed import Embedder, load_embedder
from index.lexical import LexicalIndex
from index.prepare import PreparedArticle, prepare_corpus
from index.store import SCHEMA_VERSION, BuildInput, IndexReader, Manifest, utc_now, write_build

DATA = SHARED / "realtimeqa"
WORK = Path(__file__).resolve().parent / ".work" / "scale"
NOISE = 0.025
CHANGED_SHARE = 0.01
ADDED = (
    "\n\nIn an update on Friday, officials said the review of the matter would continue "
    "into next month, and that further details would be published once it ends.\n"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="part")
    query = sub.add_parser("query", help="(internal) measure one index in this process")
    query.add_argument("root", type=Path)
    query.add_argument("--queries", type=int, default=200)
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--skip-build", action="store_true", help="reuse step 1's index")
    args = parser.parse_args()
    if args.part == "query":
        print(json.dumps(measure(args.root, args.queries)))
        return
    config = Config()
    embedder = load_embedder(config.embedding)
    sample_root = WORK / "build-index"
    if not args.skip_build:
        build_figures(config, embedder, args.articles, sample_root)
    sample = IndexReader(sample_root)
    vectors = sample.vectors(np.arange(sample.manifest.passages))
    for size in (int(s) for s in args.sizes.split(",") if s.strip()):
        search_figures(config, embedder, vectors, size, args.queries)


# -- 1. build throughput and incremental rebuilds ---------------------------------


def build_figures(config: Config, embedder: Embedder, count: int, root: Path) -> None:
    corpus = _one_file_per_article(WORK / f"corpus-{count}", count)
    shutil.rmtree(root, ignore_errors=True)
    # Warm the model first so neither timed run pays its one-off start-up costs.
    embedder.embed_passages([json.loads(line)["text"][:800] for line in _article_lines(64)])
    full = build_index(corpus, root, config, embedder, progress=True)
    reader = IndexReader(root)
    texts = [text for text, _ in reader.passages(range(reader.manifest.passages)).values()]
    started = time.perf_counter()
    embedder.embed_passages(texts, progress=True)
    bare = time.perf_counter() - started
    unchanged = build_index(corpus, root, config, embedder)
    changed = _change_files(corpus, CHANGED_SHARE)
    incremental = build_index(corpus, root, config, embedder)
    _report_build(full, bare, unchanged, incremental, changed)


def _one_file_per_article(folder: Path, count: int) -> Path:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for number, line in enumerate(_article_lines(count)):
        (folder / f"{number:06}.jsonl").write_text(line, "utf-8")
    return folder


def _article_lines(count: int | None = None) -> Iterator[str]:
    with gzip.open(DATA / "articles.jsonl.gz", "rt", encoding="utf-8") as source:
        for number, line in enumerate(source):
            if count is not None and number >= count:
                return
            yield line


def _change_files(corpus: Path, share: float) -> int:
    """Add a paragraph to the text of every 1/share-th file; return how many changed."""
    files = sorted(corpus.iterdir())
    step = max(1, round(1 / share))
    for path in files[::step]:
        record = json.loads(path.read_text("utf-8"))
        record["text"] += ADDED
        path.write_text(json.dumps(record) + "\n", "utf-8")
    return len(files[::step])


def _report_build(
    full: BuildReport, bare: float, unchanged: BuildReport, incremental: BuildReport, changed: int
) -> None:
    header = ["date", "commit", "articles", "passages", "full build s", "passages/s",
              "bare encoding s", "pipeline overhead", "no-change rebuild s",
              "1% changed: files / passages embedded", "1% rebuild s",
              "1% rebuild / full"]  # fmt: skip
    row = [today(), code_version(), str(full.articles), str(full.passages),
           f"{full.seconds:.1f}", f"{full.passages_per_second:.1f}", f"{bare:.1f}",
           f"{full.seconds / bare - 1:+.1%}", f"{unchanged.seconds:.2f}",
           f"{changed} / {incremental.embedded}", f"{incremental.seconds:.2f}",
           f"{incremental.seconds / full.seconds:.1%}"]  # fmt: skip
    _print_and_append("Scale: build throughput and incremental rebuilds", header, row)


# -- 2. search at 10k / 100k / 1M passages ---------------------------------------


def search_figures(
    config: Config, embedder: Embedder, sample: np.ndarray, size: int, queries: int
) -> None:
    root = WORK / f"search-{size}"
    _all_articles(config)  # prepared once for all sizes, not part of the figure
    started = time.perf_counter()
    build = _replicated_build(config, embedder, sample, size)
    shutil.rmtree(root, ignore_errors=True)
    write_build(root, build, approximate_above=config.index.approximate_above, progress=True)
    written = time.perf_counter() - started
    del build
    done = subprocess.run(
        [sys.executable, "-m", "bench.scale", "query", str(root), "--queries", str(queries)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    header = ["date", "commit", "passages", "index", "build+write s", "RSS MB (index)",
              "FAISS k=100 median / p95 ms", "retrieval median / p95 ms",
              "ask median / p95 ms", "recall@10 vs exact"]  # fmt: skip
    row = [today(), code_version(), f"{figures['passages']:,}", figures["index"],
           f"{written:.0f}", f"{figures['rss_mb']:.0f} ({figures['index_mb']:+.0f})",
           _ms(figures["faiss"]), _ms(figures["retrieval"]), _ms(figures["ask"]),
           figures["recall"]]  # fmt: skip
    _print_and_append("Scale: search at size", header, row)
    shutil.rmtree(root, ignore_errors=True)


def _ms(timings: list[float]) -> str:
    return f"{median(timings):.1f} / {percentile(timings, 95):.1f}"


def _replicated_build(
    config: Config, embedder: Embedder, sample: np.ndarray, size: int
) -> BuildInput:
    prepared = _all_articles(config)
    articles, passages, passage_tokens, article_tokens = [], [], [], []
    for item in _copies(prepared):
        if len(passages) >= size:
            break
        articles.append(item.article)
        passages.extend(item.passages)
        passage_tokens.extend(item.passage_tokens)
        article_tokens.append(item.article_tokens)
    manifest = Manifest(
        schema_version=SCHEMA_VERSION, model=embedder.name, dimension=embedder.dimension,
        articles=len(articles), passages=len(passages), built_at=utc_now(), build_seconds=0.0,
        corpus=str(DATA / "articles.jsonl.gz"), chunking=dataclasses.asdict(config.chunk),
    )  # fmt: skip
    return BuildInput(
        articles, {}, passages, _noisy(sample, len(passages)), manifest,
        LexicalIndex.from_tokens(passage_tokens), LexicalIndex.from_tokens(article_tokens),
        np.arange(len(passages), dtype=np.int64),
    )  # fmt: skip


_PREPARED: list[PreparedArticle] = []


def _all_articles(config: Config) -> list[PreparedArticle]:
    """Every RealTimeQA article prepared for indexing (cleaned, chunked, tokenised),
    through a file cache so later runs skip the work."""
    if not _PREPARED:
        corpus = WORK / "corpus-all"
        if not corpus.is_dir():
            corpus.mkdir(parents=True)
            lines = list(_article_lines())
            for start in range(0, len(lines), 500):  # files of 500 articles, cached apart
                (corpus / f"{start:06}.jsonl").write_text("".join(lines[start : start + 500]))
        files = FileCache(WORK / FILES_FILE)
        _PREPARED.extend(prepare_corpus(corpus, config.chunk, 2**30, files).articles)
    return _PREPARED


def _copies(prepared: list[PreparedArticle]) -> Iterator[PreparedArticle]:
    """The articles, then copies of them with new ids, without end."""
    copy = 0
    while True:
        for item in prepared:
            if copy == 0:
                yield item
                continue
            article = dataclasses.replace(item.article, doc_id=f"{item.article.doc_id}~{copy}")
            passages = [dataclasses.replace(p, doc_id=article.doc_id) for p in item.passages]
            yield dataclasses.replace(item, article=article, passages=passages)
        copy += 1


def _noisy(sample: np.ndarray, count: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = np.empty((count, sample.shape[1]), dtype=np.float32)
    for start in range(0, count, 100_000):
        rows = np.arange(start, min(count, start + 100_000))
        block = sample[rows % len(sample)] + rng.normal(0, NOISE, (len(rows), sample.shape[1]))
        out[rows] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


# -- measuring one index, in its own process ----------------------------------------


def measure(root: Path, count: int) -> dict[str, object]:
    config = Config()
    embedder = load_embedder(config.embedding)
    questions = realtimeqa_questions(count)
    embedder.embed_query(questions[0])
    before = _rss_mb()
    reader = IndexReader(root)
    answerer = Answerer(reader, embedder, config.answer, config.search)
    loaded = _rss_mb()
    answerer.ask(questions[0])  # warm-up
    vectors = [embedder.embed_query(q) for q in questions]
    faiss_ms = [_timed(lambda v=v: reader.search(v, 100)) for v in vectors]
    retrieval = [_timed(lambda q=q: answerer.searcher.search(q, 5)) for q in questions]
    asked = [_timed(lambda q=q: answerer.ask(q)) for q in questions]
    return {
        "passages": reader.manifest.passages,
        "index": reader.manifest.faiss_index,
        "rss_mb": _rss_mb(),
        "index_mb": loaded - before,
        "faiss": faiss_ms,
        "retrieval": retrieval,
        "ask": asked,
        "recall": _recall(reader, vectors) if reader.approximate else "exact",
    }


def _timed(job: object) -> float:
    started = time.perf_counter()
    job()  # type: ignore[operator]
    return (time.perf_counter() - started) * 1000


def _recall(reader: IndexReader, queries: list[np.ndarray]) -> str:
    """Mean share of the exact top 10 (numpy over every stored vector) that the
    approximate index returns."""
    found = []
    total = reader.manifest.passages
    matrix = np.stack(queries)
    scores = np.zeros((len(queries), total), dtype=np.float32)
    for start in range(0, total, 200_000):
        ids = np.arange(start, min(total, start + 200_000))
        scores[:, ids] = matrix @ reader.vectors(ids).T
    exact = np.argpartition(-scores, 10, axis=1)[:, :10]
    for query, best in zip(queries, exact, strict=True):
        approximate = {i for i, _ in reader.search(query, 10)}
        found.append(len(approximate & set(best.tolist())) / 10)
    return f"{np.mean(found):.4f}"


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _print_and_append(section: str, header: list[str], row: list[str]) -> None:
    print("| " + " | ".join(header) + " |\n| " + " | ".join(row) + " |", flush=True)
    append_row(section, header, row)


if __name__ == "__main__":
    main()
