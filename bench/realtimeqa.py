"""RealTimeQA answer-recall@k, retrieving only from articles published by the question date.

    .venv/bin/python -m bench.realtimeqa [--since 2023-01-01] [--until 2023-03-31]

Indexing all 19,349 articles (~500k passages) takes about two hours on 2 CPU
cores, so this uses a window: the articles published between --since and
--until, and the questions (answer_df <= 193, the discriminative subset) dated
from two weeks after --since to --until, so each has some history to search.
Each question is asked with ``until`` = its date (newsbot's date filter, applied
inside retrieval) and, for comparison, without it. A question scores 1 at k when
one of the top k passages contains its answer under the benchmark's matching
rule (NFKC, quotes and dashes folded, whitespace collapsed, lower case, no letter
or digit on either side).
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import time
import unicodedata
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench.results import SHARED, append_row, code_version, median, percentile, today
from index.build import build_index
from index.cache import CACHE_FILE, CachingEmbedder, EmbeddingCache
from index.config import Config
from index.embed import load_embedder
from index.models import Filters
from index.search import HybridSearcher
from index.store import IndexReader

DATA = SHARED / "realtimeqa"
WORK = Path(__file__).resolve().parent / ".work" / "realtimeqa"
KS = (1, 5, 10)
_FOLD = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "–": "-", "—": "-"})


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).translate(_FOLD)
    return " ".join(text.split()).lower()


def contains(passage: str, answer: str) -> bool:
    pattern = r"(?<![0-9a-z])" + re.escape(normalise(answer)) + r"(?![0-9a-z])"
    return re.search(pattern, normalise(passage)) is not None


def corpus(since: str, until: str) -> Path:
    folder = WORK / f"corpus-{since}-{until}"
    target = folder / "articles.jsonl"
    if not target.exists():
        folder.mkdir(parents=True, exist_ok=True)
        with gzip.open(DATA / "articles.jsonl.gz", "rt", encoding="utf-8") as source, \
                target.open("w", encoding="utf-8") as out:  # fmt: skip
            for line in source:
                if since <= json.loads(line)["published"] <= until:
                    out.write(line)
    return folder


def questions(since: str, until: str) -> list[dict[str, Any]]:
    start = (date.fromisoformat(since) + timedelta(days=14)).isoformat()
    chosen = []
    with (DATA / "questions.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            if record["answer_df"] <= 193 and start <= record["date"] <= until:
                chosen.append(record)
    return chosen


def recall(searcher: HybridSearcher, records: list[dict[str, Any]], dated: bool) -> dict[str, Any]:
    hits = dict.fromkeys(KS, 0)
    timings = []
    for record in records:
        filters = Filters(until=record["date"]) if dated else None
        started = time.perf_counter()
        found = searcher.search(record["question"], max(KS), filters).hits
        timings.append((time.perf_counter() - started) * 1000)
        for k in KS:
            hits[k] += any(contains(h.text, record["answer"]) for h in found[:k])
    n = len(records)
    return {"recall": {k: hits[k] / n for k in KS}, "median": median(timings),
            "p95": percentile(timings, 95)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--since", default="2023-01-01")
    parser.add_argument("--until", default="2023-03-31")
    args = parser.parse_args()
    config = Config()
    inner = load_embedder(config.embedding)
    embedder = CachingEmbedder(inner, EmbeddingCache(WORK / CACHE_FILE))
    root = WORK / f"index-{args.since}-{args.until}"
    report = build_index(corpus(args.since, args.until), root, config, embedder, progress=True)
    searcher = HybridSearcher(IndexReader(root), inner, config.search)
    records = questions(args.since, args.until)
    print(f"{report.articles} articles, {report.passages} passages; {len(records)} questions")
    for dated in (False, True):
        result = recall(searcher, records, dated)
        label = "until=question date" if dated else "no date filter"
        cells = " ".join(f"R@{k} {result['recall'][k]:.3f}" for k in KS)
        timing = f"median {result['median']:.1f} ms, p95 {result['p95']:.1f} ms"
        print(f"{label:22s} {cells} | {timing}")
        _record(args, report.articles, report.passages, len(records), label, result)


def _record(args: argparse.Namespace, articles: int, passages: int, questions: int, label: str,
            result: dict[str, Any]) -> None:  # fmt: skip
    header = ["date", "commit", "window", "articles", "passages", "questions", "filter",
              *(f"R@{k}" for k in KS), "median ms", "p95 ms"]  # fmt: skip
    row = [today(), code_version(), f"{args.since}..{args.until}", str(articles), str(passages),
           str(questions), label, *(f"{result['recall'][k]:.3f}" for k in KS),
           f"{result['median']:.1f}", f"{result['p95']:.1f}"]  # fmt: skip
    append_row("RealTimeQA answer recall (answer_df <= 193)", header, row)


if __name__ == "__main__":
    main()
