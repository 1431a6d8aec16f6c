"""Index build throughput and query latency of the core pipeline.

    .venv/bin/python -m bench.core [--articles 1000] [--queries 50]

Builds the sample corpus and the first N articles of RealTimeQA
(../shared/bench/realtimeqa/articles.jsonl.gz, written to a temporary JSONL
corpus, never into the repo), then times N questions from its questions.jsonl
against the larger index (model load excluded). Prints a table and appends rows
to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import gzip
import json
import tempfile
import time
from pathlib import Path

from bench.results import SHARED, append_row, median, percentile, today
from bench.results import code_version as commit
from index.answer import Answerer
from index.build import BuildReport, build_index
from index.config import Config
from index.embed import load_embedder
from index.store import IndexReader

REPO = Path(__file__).resolve().parent.parent
REALTIMEQA = SHARED / "realtimeqa"


def _subset(target: Path, count: int) -> Path:
    corpus = target / "realtimeqa"
    corpus.mkdir()
    with (
        gzip.open(REALTIMEQA / "articles.jsonl.gz", "rt", encoding="utf-8") as source,
        (corpus / "articles.jsonl").open("w", encoding="utf-8") as out,
    ):
        for number, line in enumerate(source):
            if number >= count:
                break
            out.write(line)
    return corpus


def realtimeqa_questions(count: int) -> list[str]:
    """The first ``count`` RealTimeQA questions."""
    questions = []
    with (REALTIMEQA / "questions.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            questions.append(json.loads(line)["question"])
            if len(questions) >= count:
                break
    return questions


def _latencies(answerer: Answerer, count: int) -> list[float]:
    questions = realtimeqa_questions(count)
    answerer.ask(questions[0])  # warm-up: first call pays one-off allocations
    timings = []
    for question in questions:
        started = time.perf_counter()
        answerer.ask(question)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def _row(name: str, report: BuildReport) -> list[str]:
    return [today(), commit(), name, str(report.articles), str(report.passages),
            f"{report.seconds:.1f}", f"{report.passages_per_second:.1f}",
            f"{report.passages / report.embed_seconds:.1f}"]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--queries", type=int, default=50)
    args = parser.parse_args()
    config = Config()
    embedder = load_embedder(config.embedding)
    header = ["date", "commit", "corpus", "articles", "passages", "build s", "passages/s",
              "embed-only passages/s"]  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        sample = build_index(REPO / "corpus", work / "sample-index", config, embedder)
        subset = _subset(work, args.articles)
        big = build_index(subset, work / "rtqa-index", config, embedder, progress=True)
        answerer = Answerer(IndexReader(work / "rtqa-index"), embedder, config.answer)
        timings = _latencies(answerer, args.queries)
    print("| " + " | ".join(header) + " |")
    for name, report in (("sample (5 seeds)", sample), (f"realtimeqa {args.articles}", big)):
        row = _row(name, report)
        print("| " + " | ".join(row) + " |")
        append_row("Core: index build", header, row)
    q_header = ["date", "commit", "index", "queries", "median ms", "p95 ms"]
    label = f"realtimeqa {args.articles} ({big.passages} passages)"
    q_row = [today(), commit(), label, str(len(timings)),
             f"{median(timings):.1f}", f"{percentile(timings, 95):.1f}"]  # fmt: skip
    print("| " + " | ".join(q_header) + " |\n| " + " | ".join(q_row) + " |")
    append_row("Core: query latency (ask, model loaded)", q_header, q_row)


if __name__ == "__main__":
    main()
