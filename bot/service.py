"""The answerer as the bot uses it: off the event loop, in order, swappable.

Model, FAISS and SQLite work is blocking, so every question runs in a small pool of
worker threads. The pool takes jobs first in, first out, so questions start in the
order they arrived however many wait. ``/reindex`` builds in its own thread while
questions go on being answered from the old index, then swaps the new one in.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from index.answer import Answerer, open_answerer
from index.build import BuildReport, build_index, cached
from index.config import Config
from index.embed import Embedder, load_embedder
from index.errors import NewsbotError
from index.models import Answer, CorpusStats, Filters
from index.store import IndexReader

T = TypeVar("T")


class ReindexBusyError(NewsbotError):
    """A rebuild was asked for while one is running."""


@dataclass(frozen=True)
class IndexSource:
    """Where the index lives and what it is rebuilt from."""

    config: Config
    root: Path
    corpus: Path


class AnswerService:
    """Answers questions from the current index; rebuilds and swaps it on request."""

    def __init__(self, answerer: Answerer, source: IndexSource, workers: int = 2):
        self._answerer = answerer
        self._stats = answerer.reader.stats()
        self.source = source
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="newsbot-answer")
        # A rebuild gets its own thread so it never queues behind (or blocks) questions.
        self._builder = ThreadPoolExecutor(1, thread_name_prefix="newsbot-reindex")
        self._rebuilding = False

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
        job = functools.partial(self._answerer.ask, question, offset=offset, filters=filters)
        return self._run(self._pool, job)

    async def reindex(self) -> BuildReport:
        """Rebuild from the corpus and answer from the new index once it is complete.
        On failure the old index keeps answering and the error propagates."""
        if self._rebuilding:
            raise ReindexBusyError("the index is already being rebuilt")
        self._rebuilding = True
        try:
            report, answerer, stats = await self._run(self._builder, self._rebuild)
        finally:
            self._rebuilding = False
        self._answerer, self._stats = answerer, stats
        return report

    def _rebuild(self) -> tuple[BuildReport, Answerer, CorpusStats]:
        config = self.source.config
        embedder = self._embedder_for(config)
        root = self.source.root
        report = build_index(self.source.corpus, root, config, cached(embedder, root))
        answerer = Answerer(IndexReader(root), embedder, config.answer, config.search)
        return report, answerer, answerer.reader.stats()

    def _embedder_for(self, config: Config) -> Embedder:
        current = self._answerer.embedder
        if current.name == config.embedding.model:
            return current  # reloading the same model would only cost seconds and memory
        return load_embedder(config.embedding)

    def _run(self, pool: ThreadPoolExecutor, job: Callable[[], T]) -> asyncio.Future[T]:
        return asyncio.get_running_loop().run_in_executor(pool, job)

    def close(self) -> None:
        """Stop the worker threads after the work already queued."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._builder.shutdown(wait=False, cancel_futures=True)
