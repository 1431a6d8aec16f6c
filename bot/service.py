"""The answerer as the bot uses it: off the event loop, in order, swappable.

Model, FAISS and SQLite work is blocking, so every question runs in a small pool of
worker threads. The pool takes jobs first in, first out, so questions start in the
order they arrived however many wait. ``/reindex`` builds in its own thread while
questions go on being answered from the old index, then swaps the new one in.

A build published by another process (``newsbot index`` from a script) is picked up
too: between questions, at most once per ``reload_every`` seconds, the service asks its
builder thread whether ``current`` points somewhere new. That thread opens the new build
while questions go on being answered from the old one, then swaps it in. A build that
cannot be opened is logged once and skipped until ``current`` moves again.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from index.answer import Answerer, open_answerer
from index.build import BuildReport, build_index
from index.config import Config
from index.embed import Embedder, load_embedder
from index.errors import NewsbotError
from index.models import Answer, CorpusStats, Filters
from index.store import IndexReader, resolve

T = TypeVar("T")

log = logging.getLogger("newsbot.service")

RELOAD_EVERY = 1.0  # seconds between two looks at ``current``: a burst of questions looks once


class ReindexBusyError(NewsbotError):
    """A rebuild was asked for while one is running."""


@dataclass(frozen=True)
class IndexSource:
    """Where the index lives and what it is rebuilt from."""

    config: Config
    root: Path
    corpus: Path


class AnswerService:
    """Answers questions from the current index; rebuilds and swaps it on request, and
    swaps in builds published by other processes."""

    def __init__(
        self,
        answerer: Answerer,
        source: IndexSource,
        workers: int = 2,
        *,
        reload_every: float = RELOAD_EVERY,
    ):
        self._answerer = answerer
        self._stats = answerer.reader.stats()
        self.source = source
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="newsbot-answer")
        # Rebuilds and reloads share one thread: they never queue behind (or block)
        # questions, and every swap happens in one place, one at a time.
        self._builder = ThreadPoolExecutor(1, thread_name_prefix="newsbot-reindex")
        self._rebuilding = False
        self._reload_every = reload_every
        # The first question looks at once; the clock is read only between questions (so
        # a test's simulated clock, once installed, is the only one the service sees).
        self._next_look = float("-inf")
        # The build ``current`` pointed at when last looked at, opened or not: a build
        # that failed to open is not tried again until ``current`` moves on.
        self._seen = _current_build(source.root)

    @classmethod
    async def open(cls, source: IndexSource, workers: int = 2) -> AnswerService:
        """Load the index and its model in a thread (it takes seconds)."""
        answerer = await asyncio.to_thread(open_answerer, source.config, source.root)
        return await asyncio.to_thread(cls, answerer, source, workers)

    @property
    def stats(self) -> CorpusStats:
        """Counts, outlets and dates of the current index (cached: cheap to read)."""
        return self._stats

    @property
    def rebuilding(self) -> bool:
        return self._rebuilding

    def submit(self, question: str, filters: Filters, offset: int = 0) -> asyncio.Future[Answer]:
        """Queue a question now; await the result later. Queuing before any other await
        keeps questions in order of arrival."""
        self._look_for_new_build()
        job = functools.partial(self._answerer.ask, question, offset=offset, filters=filters)
        return self._run(self._pool, job)

    def _look_for_new_build(self) -> None:
        """Queue a look at ``current`` on the builder thread, at most once per interval
        (the disk is never touched here, on the event loop)."""
        now = time.monotonic()
        if now < self._next_look or self._rebuilding:
            return  # a /reindex swaps its own build in
        self._next_look = now + self._reload_every
        self._builder.submit(self._reload_if_changed)

    def _reload_if_changed(self) -> None:
        try:
            target = _current_build(self.source.root)
            if target is None or target == self._seen:
                return
            self._seen = target
            self._reload(target)
        except Exception:  # a bug: the old index keeps answering, and the log says why
            log.exception("looking for a new build of %s failed", self.source.root)

    def _reload(self, build: Path) -> None:
        current = self._answerer
        try:
            reader = IndexReader(build)
            embedder = self._embedder_named(reader.manifest.model)
            answerer = Answerer(reader, embedder, current.config, current.searcher.config)
            stats = reader.stats()
        except NewsbotError as exc:
            log.warning("not loading the new build %s, still answering from %s: %s",
                        build, current.reader.path, exc)  # fmt: skip
            return
        self._swap(answerer, stats)
        log.info("now answering from build %s (%d articles, %d passages)",
                 build, stats.articles, stats.passages)  # fmt: skip

    async def reindex(self) -> BuildReport:
        """Rebuild from the corpus and answer from the new index once it is complete.
        On failure the old index keeps answering and the error propagates."""
        if self._rebuilding:
            raise ReindexBusyError("the index is already being rebuilt")
        self._rebuilding = True
        try:
            return await self._run(self._builder, self._rebuild)
        finally:
            self._rebuilding = False

    def _rebuild(self) -> BuildReport:
        config = self.source.config
        embedder = self._embedder_named(config.embedding.model)
        root = self.source.root
        report = build_index(self.source.corpus, root, config, embedder)
        answerer = Answerer(IndexReader(report.path), embedder, config.answer, config.search)
        self._swap(answerer, answerer.reader.stats())
        return report

    def _swap(self, answerer: Answerer, stats: CorpusStats) -> None:
        """Answer from ``answerer`` from now on. Runs on the builder thread only; questions
        already queued finish with the answerer they were given."""
        self._stats = stats
        self._answerer = answerer
        self._seen = answerer.reader.path.resolve()  # as ``current`` resolves

    def _embedder_named(self, model: str) -> Embedder:
        current = self._answerer.embedder
        if current.name == model:
            return current  # reloading the same model would only cost seconds and memory
        return load_embedder(self.source.config.embedding, model)

    def _run(self, pool: ThreadPoolExecutor, job: Callable[[], T]) -> asyncio.Future[T]:
        return asyncio.get_running_loop().run_in_executor(pool, job)

    def close(self) -> None:
        """Stop the worker threads after the work already queued."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._builder.shutdown(wait=False, cancel_futures=True)


def _current_build(root: Path) -> Path | None:
    """The build ``root/current`` points at, or None when there is none (the open index
    then keeps answering)."""
    try:
        return resolve(root)
    except NewsbotError:
        return None
