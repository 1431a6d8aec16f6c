"""Incremental builds: unchanged files reuse their work and vectors, changed files are
redone, removed files drop out, and --full or a new model or chunking redo everything."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from index.build import build_index
from index.config import ChunkConfig
from index.store import BUILDS, IndexReader, resolve
from tests.fakes import HashingEmbedder

ADDED = "\n\nA new closing paragraph was added to this story on Friday, the ministry said.\n"


def _texts(root):
    reader = IndexReader(root)
    rows = reader.passages(range(reader.manifest.passages))
    return [rows[i][0] for i in range(reader.manifest.passages)]


def test_a_rebuild_embeds_only_changed_articles(tmp_path, corpus_copy, config):
    root = tmp_path / "index"
    inner = HashingEmbedder()
    first = build_index(corpus_copy, root, config, inner)
    assert inner.embedded == first.passages == first.embedded
    again = build_index(corpus_copy, root, config, inner)
    assert inner.embedded == first.passages  # nothing new to embed
    assert (again.embedded, again.files_reused) == (0, 5)
    story = next(corpus_copy.glob("002_*.txt"))
    story.write_text(story.read_text("utf-8") + ADDED, "utf-8")
    changed = build_index(corpus_copy, root, config, inner)
    assert 1 <= changed.embedded <= 2  # only the changed tail of one article
    assert inner.embedded == first.passages + changed.embedded
    assert changed.files_reused == 4
    assert any("new closing paragraph" in text for text in _texts(root))


def test_a_removed_file_drops_out(tmp_path, corpus_copy, config):
    root = tmp_path / "index"
    build_index(corpus_copy, root, config, HashingEmbedder())
    removed = next(corpus_copy.glob("004_*"))
    removed.unlink()
    report = build_index(corpus_copy, root, config, HashingEmbedder())
    reader = IndexReader(root)
    assert report.articles == reader.manifest.articles == 4
    paths = {source.path for _, source in reader.passages(range(reader.manifest.passages)).values()}
    assert removed.name not in paths


def test_an_incremental_build_equals_a_full_one(tmp_path, corpus_copy, config):
    root = tmp_path / "index"
    build_index(corpus_copy, root, config, HashingEmbedder())
    story = next(corpus_copy.glob("002_*.txt"))
    story.write_text(story.read_text("utf-8") + ADDED, "utf-8")
    build_index(corpus_copy, root, config, HashingEmbedder())
    fresh = tmp_path / "fresh"
    build_index(corpus_copy, fresh, config, HashingEmbedder())
    incremental, full = IndexReader(root), IndexReader(fresh)
    ids = list(range(full.manifest.passages))
    assert _texts(root) == _texts(fresh)
    assert np.array_equal(incremental.vectors(ids), full.vectors(ids))
    assert np.array_equal(incremental.passage_group, full.passage_group)
    question = "ministry closing paragraph"
    assert incremental.lexical_passages.scores(question).tolist() == (
        full.lexical_passages.scores(question).tolist()
    )


def test_full_rebuild_reuses_nothing(tmp_path, corpus_copy, config):
    root = tmp_path / "index"
    inner = HashingEmbedder()
    first = build_index(corpus_copy, root, config, inner)
    report = build_index(corpus_copy, root, config, inner, full=True)
    assert report.full_reason == "--full"
    assert (report.embedded, report.files_reused) == (first.passages, 0)
    assert inner.embedded == 2 * first.passages
    assert build_index(corpus_copy, root, config, inner).embedded == 0  # refilled the cache


def test_changed_chunking_forces_a_full_rebuild(tmp_path, corpus_copy, config):
    root = tmp_path / "index"
    build_index(corpus_copy, root, config, HashingEmbedder())
    shorter = dataclasses.replace(config, chunk=ChunkConfig(target_words=60, max_words=90))
    report = build_index(corpus_copy, root, shorter, HashingEmbedder())
    assert report.full_reason is not None and "chunking" in report.full_reason
    assert report.files_reused == 0
    manifest = json.loads((report.path / "manifest.json").read_text("utf-8"))
    assert manifest["chunking"]["target_words"] == 60


def test_a_new_model_forces_a_full_rebuild(tmp_path, corpus_copy, config):
    root = tmp_path / "index"
    build_index(corpus_copy, root, config, HashingEmbedder())
    other = HashingEmbedder(name="another-model")
    report = build_index(corpus_copy, root, config, other)
    assert report.full_reason is not None and "another-model" in report.full_reason
    assert report.embedded == report.passages == other.embedded
    assert IndexReader(root).manifest.model == "another-model"


def test_repeated_jsonl_ids_stay_unique_when_reused(tmp_path, config):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    record = {"id": "same", "title": "Harbour", "text": "The harbour reopened on Monday. " * 12}
    for name in ("a.jsonl", "b.jsonl"):
        (corpus / name).write_text(json.dumps(record) + "\n", "utf-8")
    root = tmp_path / "index"
    build_index(corpus, root, config, HashingEmbedder())
    report = build_index(corpus, root, config, HashingEmbedder())
    assert (report.files_reused, report.articles) == (2, 2)
    sources = IndexReader(root).passages(range(report.passages)).values()
    assert len({source.doc_id for _, source in sources}) == 2


def test_an_unchanged_corpus_keeps_the_current_build(tmp_path, corpus_copy, config):
    root = tmp_path / "index"
    first = build_index(corpus_copy, root, config, HashingEmbedder())
    again = build_index(corpus_copy, root, config, HashingEmbedder())
    assert again.up_to_date and not first.up_to_date
    assert again.path == first.path == resolve(root)
    assert (again.articles, again.passages) == (first.articles, first.passages)
    assert len(list((root / BUILDS).iterdir())) == 1
    story = next(corpus_copy.glob("002_*.txt"))
    story.write_text(story.read_text("utf-8") + ADDED, "utf-8")
    changed = build_index(corpus_copy, root, config, HashingEmbedder())
    assert not changed.up_to_date and changed.path != first.path
    forced = build_index(corpus_copy, root, config, HashingEmbedder(), full=True)
    assert not forced.up_to_date and forced.path != changed.path


def test_a_damaged_current_build_is_rebuilt_not_kept(tmp_path, corpus_copy, config):
    root = tmp_path / "index"
    first = build_index(corpus_copy, root, config, HashingEmbedder())
    with (first.path / "vectors.faiss").open("r+b") as handle:
        handle.truncate(100)
    repaired = build_index(corpus_copy, root, config, HashingEmbedder())
    assert not repaired.up_to_date and repaired.path != first.path
    assert IndexReader(root).manifest.passages == first.passages


_STALLED_BUILD = """
import sys, time
from pathlib import Path
from index.build import build_index
from index.config import Config
from tests.fakes import HashingEmbedder

class Stalled(HashingEmbedder):
    def embed_passages(self, texts, progress=False):
        Path(sys.argv[3]).write_text("embedding")
        time.sleep(600)

build_index(Path(sys.argv[1]), Path(sys.argv[2]), Config(), Stalled(), full=True)
"""


def test_a_build_killed_mid_way_leaves_the_previous_one_serving(tmp_path, corpus_copy, config):
    root = tmp_path / "index"
    first = build_index(corpus_copy, root, config, HashingEmbedder())
    marker = tmp_path / "marker"
    repo = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": str(repo)}
    builder = subprocess.Popen(
        [sys.executable, "-c", _STALLED_BUILD, str(corpus_copy), str(root), str(marker)], env=env
    )
    try:
        for _ in range(600):  # up to 60 s for the process to reach the embedding step
            if marker.exists() or builder.poll() is not None:
                break
            time.sleep(0.1)
        assert marker.exists(), "the build never started embedding"
    finally:
        builder.send_signal(signal.SIGKILL)
        builder.wait()
    assert builder.returncode == -signal.SIGKILL
    assert resolve(root) == first.path
    assert IndexReader(root).manifest.passages == first.passages
    story = next(corpus_copy.glob("002_*.txt"))
    story.write_text(story.read_text("utf-8") + ADDED, "utf-8")
    after = build_index(corpus_copy, root, config, HashingEmbedder())  # the lock was freed
    assert after.path != first.path and resolve(root) == after.path
    assert not list((root / BUILDS).glob(".tmp-*"))
