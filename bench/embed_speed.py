"""Embedding speed per backend, batch size and onnxruntime thread count.

    PYTHONPATH=. .venv/bin/python -m bench.embed_speed [--passages 1500] [--queries 100]
        [--backends torch,onnx] [--batch-sizes 32,64] [--threads 0,1] [--note "busy"]

Chunks the first RealTimeQA articles (../shared/bench/realtimeqa/articles.jsonl.gz)
with the real chunker, then for each setting times ``embed_passages`` (sorted by
length, as indexing does), the median ``embed_query`` latency over short questions,
the model load time (in this process, so the first row of a backend includes its
imports; an ONNX export made on the spot is not counted) and the smallest cosine against the
torch vectors of the same passages. Prints a table and appends rows to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import json
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.results import SHARED, append_row, median, today
from bench.results import code_version as commit
from index.chunk import chunk_article
from index.config import Config, EmbeddingConfig
from index.embed import Embedder, OnnxEmbedder, default_onnx_dir, load_embedder
from index.ingest import read_corpus

REALTIMEQA = SHARED / "realtimeqa"
SECTION = "Scale: embedding backends"
HEADER = ["date", "commit", "backend", "batch", "threads", "passages", "mean words",
          "passages/s", "query median ms", "load s", "min cosine vs torch", "note"]  # fmt: skip


@dataclass(frozen=True)
class Setting:
    backend: str
    batch: int
    threads: int  # intra-op threads (torch or onnxruntime); 0 = the library's default


def passages(count: int) -> list[str]:
    """About ``count`` passages of RealTimeQA articles, cut by the indexer's chunker."""
    texts: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "articles.jsonl"
        with gzip.open(REALTIMEQA / "articles.jsonl.gz", "rt", encoding="utf-8") as source:
            lines = [line for _, line in zip(range(count // 5 + 50), source, strict=False)]
        corpus.write_text("".join(lines), "utf-8")
        for article in read_corpus(Path(tmp)).articles:
            texts.extend(p.text for p in chunk_article(article, Config().chunk))
            if len(texts) >= count:
                break
    return texts[:count]


def questions(count: int) -> list[str]:
    with (REALTIMEQA / "questions.jsonl").open(encoding="utf-8") as handle:
        return [json.loads(line)["question"] for _, line in zip(range(count), handle, strict=False)]


def load(setting: Setting) -> tuple[Embedder, float]:
    config = EmbeddingConfig(backend=setting.backend, batch_size=setting.batch)
    if setting.backend == "torch":
        started = time.perf_counter()
        embedder = load_embedder(config)
        seconds = time.perf_counter() - started
        _torch_threads(setting.threads or _torch_default_threads())
        return embedder, seconds
    started = time.perf_counter()
    embedder = OnnxEmbedder(config.model, setting.batch, default_onnx_dir(), setting.threads)
    if embedder.exported:  # the first use on this machine: time a load of the saved file
        started = time.perf_counter()
        embedder = OnnxEmbedder(config.model, setting.batch, default_onnx_dir(), setting.threads)
    return embedder, time.perf_counter() - started


@functools.cache
def _torch_default_threads() -> int:
    import torch  # only for its thread count, which onnxruntime takes as an option

    return torch.get_num_threads()


def _torch_threads(count: int) -> None:
    _torch_default_threads()  # remembered before the first change
    import torch

    torch.set_num_threads(count)


def measure(setting: Setting, texts: list[str], asked: list[str]) -> tuple[np.ndarray, list[str]]:
    embedder, load_seconds = load(setting)
    started = time.perf_counter()
    vectors = embedder.embed_passages(texts, progress=True)
    rate = len(texts) / (time.perf_counter() - started)
    embedder.embed_query(asked[0])  # warm-up
    timings = []
    for question in asked:
        started = time.perf_counter()
        embedder.embed_query(question)
        timings.append((time.perf_counter() - started) * 1000)
    words = sum(len(t.split()) for t in texts) / len(texts)
    threads = str(setting.threads or "default")
    figures = [f"{words:.0f}", f"{rate:.1f}", f"{median(timings):.1f}", f"{load_seconds:.2f}"]
    row = [today(), commit(), setting.backend, str(setting.batch), threads, str(len(texts))]
    return vectors, row + figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--passages", type=int, default=1500)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--backends", default="torch,onnx")
    parser.add_argument("--batch-sizes", default="32,64")
    parser.add_argument("--threads", default="0,1", help="intra-op threads, 0 = default")
    parser.add_argument("--note", default="", help="e.g. what else ran on the machine")
    args = parser.parse_args()
    texts, asked = passages(args.passages), questions(args.queries)
    settings = [
        Setting(backend, int(batch), int(threads))
        for backend in args.backends.split(",")
        for batch in args.batch_sizes.split(",")
        for threads in args.threads.split(",")
    ]
    reference = None
    print("| " + " | ".join(HEADER) + " |")
    for setting in settings:
        vectors, row = measure(setting, texts, asked)
        if reference is None and setting.backend == "torch":  # the first torch run
            reference = vectors
        cosine = "-" if reference is None else f"{np.min(np.sum(vectors * reference, 1)):.6f}"
        row += [cosine, args.note or "-"]
        print("| " + " | ".join(row) + " |", flush=True)
        append_row(SECTION, HEADER, row)


if __name__ == "__main__":
    main()
