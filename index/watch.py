"""Keep an index up to date: rebuild it whenever the corpus folder changes.

The watcher (watchfiles, the only import of it) is started first and the first build
runs once it is watching, so no change is missed between the two. After that, changes
to corpus files are collected until the folder has been quiet for
``index.watch_debounce_ms``, then one incremental build covers them all: copying a
hundred files costs one rebuild, not a hundred. A corpus that never goes quiet is still
rebuilt every ``MAX_WAIT_FACTOR`` quiet periods.

A failed build (an emptied corpus, another build holding the lock) is reported and
changes nothing: the previous build keeps serving, and the next change triggers a new
attempt.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from watchfiles import Change, watch

from index.build import BuildReport, build_index
from index.config import Config
from index.embed import Embedder
from index.errors import NewsbotError
from index.ingest import FORMATS

STEP_MS = 50  # how often the watcher looks at new events and at the stop event
MAX_WAIT_FACTOR = 10  # rebuild after this many quiet periods even if changes keep coming


def watch_corpus(
    corpus: Path,
    root: Path,
    config: Config,
    embedder: Embedder,
    *,
    on_build: Callable[[BuildReport], None],
    on_error: Callable[[NewsbotError], None],
    stop: threading.Event,
) -> None:
    """Build ``corpus`` into ``root`` now, then again after every change, until ``stop``
    is set. Reports each build to ``on_build`` and each failed one to ``on_error``.
    Each build reuses the index's caches, so it redoes only what changed."""
    quiet = config.index.watch_debounce_ms / 1000
    pending_since: float | None = time.monotonic()  # the first build is due at once
    last_change = float("-inf")
    for changes in watch(
        _absolute(corpus),
        watch_filter=corpus_filter(corpus, root),
        debounce=config.index.watch_debounce_ms,
        step=STEP_MS,
        stop_event=stop,
        # Return even when nothing changed, so a quiet period can end a wait.
        rust_timeout=STEP_MS,
        yield_on_timeout=True,
    ):
        now = time.monotonic()
        if changes:
            last_change = now
            if pending_since is None:
                pending_since = now
        if pending_since is None or not rebuild_due(now, last_change, pending_since, quiet):
            continue
        pending_since = None
        try:
            on_build(build_index(corpus, root, config, embedder))
        except NewsbotError as exc:
            on_error(exc)


def rebuild_due(now: float, last_change: float, pending_since: float, quiet: float) -> bool:
    """Whether the corpus has been quiet long enough, or changing for too long."""
    return now - last_change >= quiet or now - pending_since >= quiet * MAX_WAIT_FACTOR


def corpus_filter(corpus: Path, root: Path) -> Callable[[Change, str], bool]:
    """Whether a change can affect the index: a corpus file type, not hidden (as the
    indexer skips dot-files and dot-folders), and not inside the index itself."""
    # Absolute, not resolved: the watcher reports paths under the folder as it was given
    # (see watch_corpus), and a symlinked article must be judged by its name, not its target.
    corpus = _absolute(corpus)
    index = _absolute(root)

    def relevant(change: Change, name: str) -> bool:
        path = _absolute(Path(name))
        if path.suffix.lower() not in FORMATS or path.is_relative_to(index):
            return False
        relative = path.relative_to(corpus) if path.is_relative_to(corpus) else path
        return not any(part.startswith(".") for part in relative.parts)

    return relevant


def _absolute(path: Path) -> Path:
    return Path(os.path.abspath(path))
