"""The answer service: questions off the event loop, rebuilds swapped in or refused."""

from __future__ import annotations

import asyncio
import shutil
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from bot.service import AnswerService, IndexSource, ReindexBusyError
from index.answer import Answerer
from index.build import build_index
from index.config import AnswerConfig, Config, EmbeddingConfig
from index.errors import CorpusError
from index.models import Filters
from index.store import IndexReader
from tests.fakes import HashingEmbedder

pytestmark = pytest.mark.asyncio

NEW_ARTICLE = (
    "The harbour authority opened a new ferry terminal in Portwell on Friday. "
    "Ferries to the islands will leave every hour from the terminal, the authority said, "
    "and the old pier will close for repairs until the end of the year."
)


class ThreadNoting(Answerer):
    def __init__(self, *args: Any):
        super().__init__(*args)
        self.threads: list[str] = []

    def ask(self, *args: Any, **kwargs: Any) -> Any:
        self.threads.append(threading.current_thread().name)
        return super().ask(*args, **kwargs)


@pytest.fixture
def service(corpus_copy: Path, tmp_path: Path, fake_embedder: HashingEmbedder):
    config = replace(Config(), embedding=EmbeddingConfig(model=fake_embedder.name))
    root = tmp_path / "index"
    build_index(corpus_copy, root, config, fake_embedder)
    answerer = ThreadNoting(IndexReader(root), fake_embedder, AnswerConfig(min_score=0.2))
    running = AnswerService(answerer, IndexSource(config, root, corpus_copy))
    yield running
    running.close()


async def test_questions_run_in_worker_threads(service):
    answer = await service.submit("What did Liu Zhenli say about Taiwan?", Filters())
    assert answer.answered
    assert service._answerer.threads == ["newsbot-answer_0"]
    assert threading.current_thread().name == "MainThread"


async def test_a_rebuild_is_swapped_in_with_fresh_stats(service, corpus_copy):
    (corpus_copy / "005_ferry.txt").write_text(NEW_ARTICLE, "utf-8")
    report = await service.reindex()
    assert (report.articles, service.stats.articles) == (6, 6)
    answer = await service.submit(
        "Where did the harbour authority open a ferry terminal?", Filters()
    )
    assert "Portwell" in answer.passages[0].text


async def test_a_failed_rebuild_keeps_the_old_index_answering(service, corpus_copy):
    shutil.rmtree(corpus_copy)
    corpus_copy.mkdir()
    with pytest.raises(CorpusError):
        await service.reindex()
    assert not service.rebuilding and service.stats.articles == 5
    assert (await service.submit("Why was Li Shangfu sanctioned?", Filters())).answered


async def test_one_rebuild_at_a_time(service):
    first = asyncio.ensure_future(service.reindex())
    await asyncio.sleep(0)
    assert service.rebuilding
    with pytest.raises(ReindexBusyError, match="already being rebuilt"):
        await service.reindex()
    assert (await first).articles == 5
