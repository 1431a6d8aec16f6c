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
TAIWAN = "What did Liu Zhenli say about Taiwan?"
FERRY_QUESTION = "Where did the harbour authority open a ferry terminal?"


class ThreadNoting(Answerer):
    def __init__(self, *args: Any):
        super().__init__(*args)
        self.threads: list[str] = []

    def ask(self, *args: Any, **kwargs: Any) -> Any:
        self.threads.append(threading.current_thread().name)
        return super().ask(*args, **kwargs)


def _sample_service(
    corpus: Path, root: Path, embedder: HashingEmbedder, kind: type[Answerer], **options: Any
) -> AnswerService:
    """A service answering from an index of ``corpus`` built into ``root``."""
    config = replace(Config(), embedding=EmbeddingConfig(model=embedder.name))
    build_index(corpus, root, config, embedder)
    answerer = kind(IndexReader(root), embedder, AnswerConfig(min_score=0.2))
    return AnswerService(answerer, IndexSource(config, root, corpus), **options)


@pytest.fixture
def service(corpus_copy: Path, tmp_path: Path, fake_embedder: HashingEmbedder):
    running = _sample_service(corpus_copy, tmp_path / "index", fake_embedder, ThreadNoting)
    yield running
    running.close()


async def test_questions_run_in_worker_threads(service):
    answer = await service.submit(TAIWAN, Filters())
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


@pytest.fixture
def reloading(corpus_copy: Path, tmp_path: Path, fake_embedder: HashingEmbedder):
    """A service over the sample corpus that looks at ``current`` every 10 ms."""
    running = _sample_service(
        corpus_copy, tmp_path / "index", fake_embedder, Answerer, reload_every=0.01
    )
    yield running
    running.close()


@pytest.fixture
def ferry_corpus(tmp_path: Path) -> Path:
    """Another corpus: one article found in no sample build."""
    folder = tmp_path / "ferry"
    folder.mkdir()
    (folder / "ferry.txt").write_text(NEW_ARTICLE, "utf-8")
    return folder


def _ferry_source(answer: Any) -> bool:
    return answer.answered and answer.passages[0].sources[0].path == "ferry.txt"


async def _ask_until(service: AnswerService, done: Any, question: str = FERRY_QUESTION) -> list:
    """Ask ``question`` until ``done(answer)``, for at most 10 s; every answer on the way."""
    answers = []
    for _ in range(200):
        answers.append(await service.submit(question, Filters()))
        if done(answers[-1]):
            return answers
        await asyncio.sleep(0.05)
    raise AssertionError(f"never done after {len(answers)} answers: {answers[-1]}")


async def test_a_build_published_by_another_process_is_picked_up(
    reloading, ferry_corpus, fake_embedder
):
    source = reloading.source
    building = asyncio.ensure_future(
        asyncio.to_thread(build_index, ferry_corpus, source.root, source.config, fake_embedder)
    )
    meanwhile = []
    while not building.done():  # questions go on being answered during the build
        meanwhile.append(await reloading.submit(TAIWAN, Filters()))
    report = await building
    answers = await _ask_until(reloading, _ferry_source)
    assert "Portwell" in answers[-1].passages[0].text
    assert answers[-1].index.articles == 1 and reloading.stats.articles == 1
    assert meanwhile[0].index.articles == 5
    assert all(a.answered and a.index.articles in (5, 1) for a in meanwhile)
    assert reloading._answerer.reader.path == report.path.resolve()
    assert reloading._answerer.embedder is fake_embedder  # the loaded model is reused


async def test_a_corrupt_new_build_is_logged_once_and_the_old_one_keeps_answering(
    reloading, ferry_corpus, fake_embedder, caplog
):
    source = reloading.source
    report = build_index(ferry_corpus, source.root, source.config, fake_embedder)
    vectors = report.path / "vectors.faiss"
    vectors.write_bytes(vectors.read_bytes()[:100])  # as a disk fault after publishing

    def warned(_: Any) -> bool:
        return any(r.levelname == "WARNING" for r in caplog.records)

    answers = await _ask_until(reloading, warned, TAIWAN)
    for _ in range(10):  # more looks at ``current`` find the same bad build: no retry
        answers.append(await reloading.submit(TAIWAN, Filters()))
        await asyncio.sleep(0.02)
    [warning] = [r for r in caplog.records if r.levelname == "WARNING"]
    assert report.path.name in warning.getMessage()
    assert "vectors.faiss does not match its checksum" in warning.getMessage()
    assert all(a.answered and a.index.articles == 5 for a in answers)
    assert reloading.stats.articles == 5


async def test_the_service_answers_after_its_build_is_pruned(reloading):
    # A question in flight while a script's build prunes the build being read.
    shutil.rmtree(reloading._answerer.reader.path)
    answer = await reloading.submit(TAIWAN, Filters())
    assert answer.answered and answer.index.articles == 5
