"""Builds are published atomically, old ones pruned, and a failed build changes nothing."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import replace

import numpy as np
import pytest

from index.answer import Answerer
from index.build import build_index
from index.config import AnswerConfig, IndexConfig
from index.errors import CorpusError, IndexCorruptError, IndexMissingError
from index.models import Filters
from index.store import APPROXIMATE, BUILDS, CURRENT, EXACT, MANIFEST, IndexReader, resolve
from tests.fakes import HashingEmbedder


def test_build_writes_a_manifest_and_publishes_current(tmp_path, sample_corpus, config):
    root = tmp_path / "index"
    report = build_index(sample_corpus, root, config, HashingEmbedder())
    assert (root / CURRENT).is_symlink()
    assert resolve(root) == report.path
    manifest = json.loads((report.path / MANIFEST).read_text())
    assert manifest["schema_version"] == 3
    assert manifest["model"] == "hashing-test-embedder"
    assert manifest["dimension"] == 256
    assert (manifest["articles"], manifest["passages"]) == (5, report.passages)
    assert manifest["built_at"].endswith("Z")


def test_reader_finds_passages_by_vector(tmp_path, sample_corpus, config):
    embedder = HashingEmbedder()
    root = tmp_path / "index"
    build_index(sample_corpus, root, config, embedder)
    reader = IndexReader(root)
    query = embedder.embed_query("RIMPAC naval drills disinvited")
    (best_id, score), *_ = reader.search(query, 3)
    text, source = reader.passages([best_id])[best_id]
    assert "RIMPAC" in text and score > 0.2
    original = (sample_corpus / source.path).read_bytes().decode("utf-8")
    assert original[source.start : source.end] == text


def test_rebuild_switches_current_and_keeps_two_builds(tmp_path, sample_corpus, config):
    root = tmp_path / "index"
    paths = [
        build_index(sample_corpus, root, config, HashingEmbedder(), full=True).path
        for _ in range(3)
    ]
    assert resolve(root) == paths[-1]
    assert sorted(p.name for p in (root / BUILDS).iterdir()) == [p.name for p in paths[1:]]


def test_failed_build_leaves_the_previous_index_serving(tmp_path, sample_corpus, config):
    root = tmp_path / "index"
    first = build_index(sample_corpus, root, config, HashingEmbedder()).path
    with pytest.raises(RuntimeError, match="simulated"):
        build_index(sample_corpus, root, config, HashingEmbedder(fail_after=5), full=True)
    assert resolve(root) == first
    assert IndexReader(root).manifest.passages > 0
    assert not list((root / BUILDS).glob(".tmp-*"))


def test_empty_corpus_is_an_error_and_keeps_the_old_index(tmp_path, sample_corpus, config):
    root = tmp_path / "index"
    first = build_index(sample_corpus, root, config, HashingEmbedder()).path
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.pdf").write_bytes(b"%PDF")
    with pytest.raises(CorpusError, match=r"all 1 files were skipped \(first: notes.pdf"):
        build_index(empty, root, config, HashingEmbedder())
    assert resolve(root) == first


def test_missing_and_corrupt_indexes_are_reported(tmp_path, sample_corpus, config):
    with pytest.raises(IndexMissingError, match="run newsbot index"):
        IndexReader(tmp_path / "nothing")
    root = tmp_path / "index"
    build = build_index(sample_corpus, root, config, HashingEmbedder()).path
    (build / MANIFEST).write_text("{broken")
    with pytest.raises(IndexCorruptError, match="unreadable manifest"):
        IndexReader(root)


def test_vectors_are_unit_length(tmp_path, sample_corpus, config):
    embedder = HashingEmbedder()
    root = tmp_path / "index"
    build_index(sample_corpus, root, config, embedder)
    reader = IndexReader(root)
    query = embedder.embed_query("China")
    scores = [s for _, s in reader.search(query, 50)]
    assert all(-1.0001 <= s <= 1.0001 for s in scores)
    assert np.isclose(np.linalg.norm(query), 1.0)


def _random_corpus(folder, articles=150, seed=3, topics=20):
    """Articles of random words, each drawn mostly from one of ``topics`` vocabularies,
    so their vectors form clusters as news on one subject does."""
    rng = np.random.default_rng(seed)
    folder.mkdir()
    for number in range(articles):
        topic = number % topics
        words = [f"t{topic}w{n}" for n in range(40)] + [f"w{n}" for n in range(10)]
        paragraphs = [" ".join(rng.choice(words, 60)) + "." for _ in range(int(rng.integers(2, 5)))]
        (folder / f"{number:03}.txt").write_text("\n\n".join(paragraphs) + "\n", "utf-8")
    return folder


def test_a_large_index_is_approximate_and_agrees_with_exact(tmp_path, config):
    corpus = _random_corpus(tmp_path / "corpus", articles=600)
    small = dataclasses.replace(config, index=IndexConfig(approximate_above=100))
    embedder = HashingEmbedder()
    build_index(corpus, tmp_path / "ivf", small, embedder)
    build_index(corpus, tmp_path / "flat", config, embedder)
    ivf, flat = IndexReader(tmp_path / "ivf"), IndexReader(tmp_path / "flat")
    assert ivf.manifest.passages > 100
    assert (ivf.manifest.faiss_index, flat.manifest.faiss_index) == (APPROXIMATE, EXACT)
    assert ivf.manifest.faiss_params["nprobe"] < ivf.manifest.faiss_params["nlist"]
    recall = []
    for number in range(40):
        topic = number % 20
        query = embedder.embed_query(f"t{topic}w{number % 40} t{topic}w{(number + 7) % 40} w3")
        exact = {i for i, _ in flat.search(query, 10)}
        recall.append(len(exact & {i for i, _ in ivf.search(query, 10)}) / 10)
    assert np.mean(recall) >= 0.95
    ids = list(range(0, ivf.manifest.passages, 7))
    assert np.array_equal(ivf.vectors(ids), flat.vectors(ids))


@pytest.mark.parametrize("exact_filtered", [0, 50_000])
def test_filtered_approximate_search_returns_only_allowed_passages(
    tmp_path, config, exact_filtered
):
    corpus = _random_corpus(tmp_path / "corpus", articles=60)
    small = dataclasses.replace(config, index=IndexConfig(approximate_above=10))
    embedder = HashingEmbedder()
    build_index(corpus, tmp_path / "ivf", small, embedder)
    reader = IndexReader(tmp_path / "ivf", exact_filtered=exact_filtered)
    allowed = np.arange(0, reader.manifest.passages, 3, dtype=np.int64)
    query = embedder.embed_query("t1w1 t1w2 t1w3 w4")
    found = reader.search(query, 10, allowed)
    assert len(found) == 10 and {i for i, _ in found} <= set(allowed.tolist())
    scores = reader.vectors(allowed) @ query
    best = set(allowed[np.argsort(-scores)[:10]].tolist())
    assert len(best & {i for i, _ in found}) >= 9


def test_a_reader_keeps_answering_after_its_build_is_pruned(tmp_path, sample_corpus, config):
    # A long-running reader (the bot) outlives its build: builds by other processes prune it.
    embedder = HashingEmbedder()
    root = tmp_path / "index"
    build_index(sample_corpus, root, config, embedder)
    reader = IndexReader(root)
    one = replace(config, index=IndexConfig(keep_versions=1))
    build_index(sample_corpus, root, one, embedder, full=True)
    assert not reader.path.exists()
    answerer = Answerer(reader, embedder, AnswerConfig(min_score=0.2))
    answer = answerer.ask("What did Liu Zhenli say about Taiwan?")
    assert answer.answered and "Liu Zhenli" in answer.passages[0].text
    allowed = reader.allowed_ids(Filters(outlet="Associated Press"))
    assert allowed is not None and len(allowed) > 0
    assert reader.stats().articles == 5
