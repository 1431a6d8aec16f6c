"""Calibrate "not in the corpus": how often answerable questions are answered and
unanswerable ones are declined, for a range of thresholds.

    .venv/bin/python -m bench.abstain

Two sets: MultiHop-RAG (its 2,255 answerable queries against its 301 null queries,
whose subjects are not in its corpus; index from bench.multihop) and the sample
corpus (questions about the seeds against off-topic questions). A question is
declined when the best passage's cosine is under ``min_score``, or, with the name
rule on, when it names a person or place the corpus never mentions.
Precision is the share of answered questions that were answerable.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench import multihop
from bench.results import append_row, code_version, today
from index.answer import unknown_names
from index.build import build_index
from index.cache import CACHE_FILE, CachingEmbedder, EmbeddingCache
from index.config import Config
from index.embed import load_embedder
from index.search import HybridSearcher
from index.store import IndexReader

REPO = Path(__file__).resolve().parent.parent
SEED_ANSWERABLE = [
    "What did Liu Zhenli say about Taiwan?", "Why was Li Shangfu sanctioned?",
    "When did the US disinvite China from RIMPAC?",
    "Who is the Chinese defence ministry spokesperson?",
    "What did Mark Esper tell China about drone strikes?",
    "Who spoke with General Charles Q. Brown?",
    "What did Wu Qian say about military relations with the US?",
    "Why were military ties between the US and China severed?",
    "What does China resent about US policy?", "Who replaced Li Shangfu as defence minister?",
]  # fmt: skip
SEED_OFF_TOPIC = [
    "Which chef won the baking contest?", "What is the best recipe for banana bread?",
    "Who scored the winning goal in the football final?", "How did the stock market do today?",
    "What is the weather forecast for London?", "Who won the Oscar for best actress?",
    "How do I reset my router?", "What are the symptoms of the flu?",
    "When does the new iPhone come out?", "Who is the richest person in the world?",
    "What did Taylor Swift say about her new album?", "How many goals did Messi score in 2022?",
]  # fmt: skip
THRESHOLDS = [0.0, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5]


@dataclass(frozen=True)
class Case:
    answerable: bool
    similarity: float
    unknown: bool


def cases(searcher: HybridSearcher, questions: list[str], answerable: bool) -> list[Case]:
    results = []
    for question in questions:
        retrieved = searcher.search(question, 10)
        best = retrieved.best_similarity if retrieved.best_similarity is not None else -1.0
        names = unknown_names(question, searcher.reader.lexical_passages)
        results.append(Case(answerable, best, bool(names)))
    return results


def table(name: str, found: list[Case]) -> None:
    positives = [c for c in found if c.answerable]
    negatives = [c for c in found if not c.answerable]
    print(f"\n{name}: {len(positives)} answerable, {len(negatives)} unanswerable")
    print("min_score | names rule | answered (recall) | declined unanswerable | precision")
    for rule in (False, True):
        for threshold in THRESHOLDS:
            answered = [c for c in found if c.similarity >= threshold and not (rule and c.unknown)]
            recall = sum(c.answerable for c in answered) / len(positives)
            declined = 1 - sum(not c.answerable for c in answered) / len(negatives)
            precision = sum(c.answerable for c in answered) / len(answered) if answered else 1.0
            row = [f"{threshold:.2f}", "on" if rule else "off", f"{recall:.3f}",
                   f"{declined:.3f}", f"{precision:.3f}"]  # fmt: skip
            print(" | ".join(row))
            if threshold == Config().answer.min_score:
                _record(name, row)


def _record(name: str, row: list[str]) -> None:
    header = ["date", "commit", "set", "min_score", "names rule", "answered recall",
              "declined unanswerable", "precision"]  # fmt: skip
    append_row("Abstention (answered vs declined)", header, [today(), code_version(), name, *row])


def main() -> None:
    config = Config()
    inner = load_embedder(config.embedding)
    embedder = multihop.MemoEmbedder(
        CachingEmbedder(inner, EmbeddingCache(multihop.WORK / CACHE_FILE))
    )
    reader, _ = multihop.build(config, embedder)
    searcher = HybridSearcher(reader, embedder, config.search)
    records = multihop.queries("all")
    nulls = [r["query"] for r in multihop.all_records() if r["question_type"] == "null_query"]
    found = cases(searcher, [r["query"] for r in records], True) + cases(searcher, nulls, False)
    table("MultiHop-RAG", found)
    with tempfile.TemporaryDirectory() as tmp:
        build_index(REPO / "corpus", Path(tmp), config, inner)
        seeds = HybridSearcher(IndexReader(Path(tmp)), inner, config.search)
        table(
            "sample corpus",
            cases(seeds, SEED_ANSWERABLE, True) + cases(seeds, SEED_OFF_TOPIC, False),
        )


if __name__ == "__main__":
    main()
