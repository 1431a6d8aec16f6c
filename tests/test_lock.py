"""Two builds of one index never run at once: the second fails naming the first."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path
from typing import Any

import pytest

from index.build import build_index
from index.errors import IndexBusyError
from index.lock import LOCK_FILE, build_lock
from index.store import IndexReader
from tests.fakes import HashingEmbedder


def test_a_second_build_fails_clearly_while_one_runs(tmp_path, sample_corpus, config):
    root = tmp_path / "index"
    with build_lock(root):
        with pytest.raises(IndexBusyError) as info:
            build_index(sample_corpus, root, config, HashingEmbedder())
        assert f"pid {os.getpid()}" in str(info.value)
        assert "wait for it to finish" in str(info.value)
    report = build_index(sample_corpus, root, config, HashingEmbedder())
    assert IndexReader(root).manifest.passages == report.passages


def _hold_and_die(root: str, ready: Any) -> None:
    with build_lock(Path(root)):
        ready.set()
        os._exit(1)  # dies holding the lock, as a killed build would


def test_a_dead_holder_does_not_block_the_next_build(tmp_path, sample_corpus, config):
    root = tmp_path / "index"
    ready = multiprocessing.get_context("fork").Event()
    holder = multiprocessing.get_context("fork").Process(
        target=_hold_and_die, args=(str(root), ready)
    )
    holder.start()
    holder.join(timeout=60)
    assert ready.is_set() and holder.exitcode == 1
    assert (root / LOCK_FILE).exists()
    build_index(sample_corpus, root, config, HashingEmbedder())
    assert IndexReader(root).manifest.articles == 5
