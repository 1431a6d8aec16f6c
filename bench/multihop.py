"""MultiHop-RAG retrieval: our pipeline over its 609 articles, scored by its evaluator.

    .venv/bin/python -m bench.multihop                 # the configured pipeline, all modes
    .venv/bin/python -m bench.multihop --modes hybrid  # one mode
    .venv/bin/python -m bench.multihop --set search.lexical_weight=0.8 --split dev

The corpus (../shared/bench/multihop/corpus.jsonl) is indexed with newsbot's own
ingest → clean → chunk → embed → store pipeline, with an embedding cache under
bench/.work so reruns only embed what changed. Each non-null query retrieves 10
passages; ../shared/bench/multihop/evaluate.py scores them (Hits@10, Hits@4,
MRR@10, MAP@10). Queries whose position mod 5 != 0 are the dev split (tune on
these), position mod 5 == 0 the test split (report). Latency is per query,
in-process, model loaded, query embedding included.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import itertools
import json
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from bench.results import SHARED, append_row, median, percentile, today
from bench.results import code_version as commit
from index.build import build_index
from index.cache import CACHE_FILE, CachingEmbedder, EmbeddingCache
from index.config import Config
from index.embed import load_embedder
from index.search import HybridSearcher
from index.store import IndexReader

DATA = SHARED / "multihop"
WORK = Path(__file__).resolve().parent / ".work" / "multihop"
METRICS = ("Hits@10", "Hits@4", "MRR@10", "MAP@10")
LATENCY_QUERIES = 300  # timed per mode and split, query embedding included


def load_evaluator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("multihop_evaluate", DATA / "evaluate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class MemoEmbedder:
    """Remembers query vectors, so several configurations embed each query once."""

    def __init__(self, inner: CachingEmbedder):
        self.inner = inner
        self._queries: dict[str, np.ndarray] = {}

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def embed_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self.inner.embed_passages(texts, progress)

    def embed_query(self, text: str) -> np.ndarray:
        if text not in self._queries:
            self._queries[text] = self.inner.embed_query(text)
        return self._queries[text]


def corpus_folder() -> Path:
    """The benchmark corpus as one JSONL file in newsbot's input format."""
    folder = WORK / "corpus"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "multihop.jsonl"
    if not target.exists():
        with (
            (DATA / "corpus.jsonl").open(encoding="utf-8") as source,
            target.open("w", encoding="utf-8") as out,
        ):
            for line in source:
                record = json.loads(line)
                record["text"] = record.pop("body")
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return folder


def build(config: Config, embedder: MemoEmbedder) -> tuple[IndexReader, float]:
    chunk = config.chunk
    root = WORK / f"index-{chunk.target_words}-{chunk.max_words}-{chunk.min_words}"
    started = time.perf_counter()
    report = build_index(corpus_folder(), root, config, embedder, progress=True)
    words = [len(t.split()) for t in _texts(IndexReader(root))]
    print(f"indexed {report.articles} articles, {report.passages} passages, "
          f"mean {np.mean(words):.0f} words, in {time.perf_counter() - started:.0f} s")  # fmt: skip
    return IndexReader(root), float(np.mean(words))


def _texts(reader: IndexReader) -> list[str]:
    rows = reader.passages(range(reader.manifest.passages))
    return [rows[i][0] for i in range(reader.manifest.passages)]


def all_records() -> list[dict[str, Any]]:
    return list(json.loads((DATA / "queries.json").read_text("utf-8")))


def queries(split: str) -> list[dict[str, Any]]:
    """Non-null queries of a split: "dev" (position mod 5 != 0), "test" (== 0) or "all"."""
    chosen = []
    for position, record in enumerate(all_records()):
        test = position % 5 == 0
        if split == "all" or (split == "test") == test:
            chosen.append(record)
    return [r for r in chosen if r["question_type"] != "null_query"]


def run(searcher: HybridSearcher, records: list[dict[str, Any]]) -> tuple[list[dict], list[float]]:
    out, timings = [], []
    for record in records:
        started = time.perf_counter()
        hits = searcher.search(record["query"], 10).hits
        timings.append((time.perf_counter() - started) * 1000)
        out.append({**record, "retrieved": [h.text for h in hits]})
    return out, timings


def score(evaluator: ModuleType, records: list[dict]) -> dict[str, Any]:
    return evaluator.evaluate_records(records, by_type=True)


def _parse_sets(items: list[str]) -> dict[str, dict[str, Any]]:
    changes: dict[str, dict[str, Any]] = {}
    for item in items:
        key, _, value = item.partition("=")
        section, _, name = key.partition(".")
        changes.setdefault(section, {})[name] = json.loads(value) if value[:1].isdigit() or \
            value in {"true", "false"} else value  # fmt: skip
    return changes


def configure(changes: dict[str, dict[str, Any]]) -> Config:
    config = Config()
    for section, values in changes.items():
        config = dataclasses.replace(
            config, **{section: dataclasses.replace(getattr(config, section), **values)}
        )
    return config


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--modes", default="dense,lexical,hybrid")
    parser.add_argument("--split", default="both", choices=["dev", "test", "both", "all"])
    parser.add_argument("--set", action="append", default=[], help="section.key=value")
    parser.add_argument("--no-record", action="store_true", help="do not write RESULTS.md")
    parser.add_argument(
        "--grid", nargs="+", metavar="KEY=V1,V2", help="tune: every combination, dev split only"
    )
    args = parser.parse_args()
    config = configure(_parse_sets(args.set))
    inner = load_embedder(config.embedding)
    embedder = MemoEmbedder(CachingEmbedder(inner, EmbeddingCache(WORK / CACHE_FILE)))
    reader, mean_words = build(config, embedder)
    evaluator = load_evaluator()
    if args.grid:
        grid(reader, embedder, config, evaluator, args.grid)
        return
    splits = ["dev", "test"] if args.split == "both" else [args.split]
    for mode in args.modes.split(","):
        search = dataclasses.replace(config.search, mode=mode)
        searcher = HybridSearcher(reader, embedder, search)
        # Latency with a model that remembers nothing, so query embedding is paid each time.
        timed = HybridSearcher(reader, inner, search)
        for split in splits:
            report(mode, split, searcher, timed, evaluator, mean_words, args)


def grid(reader: IndexReader, embedder: MemoEmbedder, config: Config, evaluator: ModuleType,
         axes: list[str]) -> None:  # fmt: skip
    """Score every combination of search settings on the dev split, best MAP last."""
    options = []
    for axis in axes:
        key, _, values = axis.partition("=")
        options.append([f"{key}={v}" for v in values.split(",")])
    records = queries("dev")
    results = []
    for combo in itertools.product(*options):
        changes = _parse_sets(list(combo))
        search = dataclasses.replace(config.search, **changes.get("search", {}))
        searcher = HybridSearcher(reader, embedder, search)
        result = score(evaluator, run(searcher, records)[0])
        result["EvRecall@10"] = result.get("EvRecall@10(non-official)", 0.0)
        results.append((result["MAP@10"], result["MRR@10"], combo, result))
        print(" ".join(combo), " ".join(f"{m} {result[m]:.4f}" for m in METRICS), flush=True)
    print("\nbest by MAP@10:")
    for _, _, combo, result in sorted(results)[-5:]:
        print(" ".join(combo), " ".join(f"{m} {result[m]:.4f}" for m in METRICS))


def report(mode: str, split: str, searcher: HybridSearcher, timed: HybridSearcher,
           evaluator: ModuleType, mean_words: float, args: argparse.Namespace) -> None:  # fmt: skip
    records = queries(split)
    retrieved, _ = run(searcher, records)
    run(timed, records[:20])  # warm-up
    _, timings = run(timed, records[:LATENCY_QUERIES])
    result = score(evaluator, retrieved)
    overall = result  # the evaluator reports overall metrics at the top level
    line = " ".join(f"{m} {overall[m]:.4f}" for m in METRICS)
    print(f"{mode:8s} {split:5s} n={len(records)} {line} | median {median(timings):.1f} ms, "
          f"p95 {percentile(timings, 95):.1f} ms")  # fmt: skip
    for kind, values in sorted(result.get("by_type", {}).items()):
        print(f"    {kind:18s} " + " ".join(f"{m} {values[m]:.4f}" for m in METRICS))
    if not args.no_record:
        header = ["date", "commit", "mode", "split", "queries", "passage words", *METRICS,
                  "median ms", "p95 ms", "settings"]  # fmt: skip
        row = [today(), commit(), mode, split, str(len(records)), f"{mean_words:.0f}",
               *(f"{overall[m]:.4f}" for m in METRICS), f"{median(timings):.1f}",
               f"{percentile(timings, 95):.1f}", " ".join(args.set) or "defaults"]  # fmt: skip
        append_row("MultiHop-RAG retrieval (top 10)", header, row)


if __name__ == "__main__":
    main()
