"""Shared fixtures: the bundled sample corpus, tiny corpora, fake and real embedders,
the real answerer over the sample index and bots built on it."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.client import NewsBot
from bot.service import AnswerService, IndexSource
from index.answer import Answerer
from index.build import build_index
from index.config import AnswerConfig, Config, DiscordConfig
from index.embed import SentenceTransformerEmbedder
from index.feedback import FeedbackStore
from index.store import IndexReader
from tests.fakes import HashingEmbedder

REPO = Path(__file__).resolve().parent.parent
SAMPLE_CORPUS = REPO / "corpus"


@pytest.fixture(autouse=True)
def _isolated_config(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the developer's NEWSBOT_* environment."""
    import os

    for name in list(os.environ):
        if name.startswith("NEWSBOT_"):
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def sample_corpus() -> Path:
    return SAMPLE_CORPUS


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A writable copy of the sample corpus."""
    target = tmp_path / "corpus"
    shutil.copytree(SAMPLE_CORPUS, target)
    return target


@pytest.fixture
def config() -> Config:
    return Config()


@pytest.fixture
def fake_embedder() -> HashingEmbedder:
    return HashingEmbedder()


@pytest.fixture(scope="session")
def real_embedder() -> SentenceTransformerEmbedder:
    """The packaged all-MiniLM-L6-v2, loaded once per test session."""
    return SentenceTransformerEmbedder()


@pytest.fixture(scope="session")
def sample_index(
    tmp_path_factory: pytest.TempPathFactory, real_embedder: SentenceTransformerEmbedder
) -> Path:
    """The sample corpus indexed with the real model and real FAISS."""
    root = tmp_path_factory.mktemp("index")
    build_index(SAMPLE_CORPUS, root, Config(), real_embedder)
    return root


@pytest.fixture(scope="session")
def sample_answerer(sample_index: Path, real_embedder: SentenceTransformerEmbedder) -> Answerer:
    """The real answerer over the sample index (shared: answering never changes it)."""
    return Answerer(IndexReader(sample_index), real_embedder, AnswerConfig())


@pytest.fixture
def make_bot(
    sample_answerer: Answerer, sample_index: Path, tmp_path: Path
) -> Iterator[Callable[..., NewsBot]]:
    """Build a NewsBot over the sample index. Keywords: ``answerer`` and ``source`` replace
    the sample ones, ``clock`` drives the cooldown, anything else is a [discord] setting
    (the cooldown is off unless given)."""
    services: list[AnswerService] = []

    def make(
        answerer: Answerer | None = None,
        source: IndexSource | None = None,
        clock: Callable[[], float] = time.monotonic,
        **settings: Any,
    ) -> NewsBot:
        source = source or IndexSource(Config(), sample_index, SAMPLE_CORPUS)
        config = DiscordConfig(**{"cooldown_seconds": 0.0, **settings})
        service = AnswerService(answerer or sample_answerer, source, config.workers)
        services.append(service)
        feedback = FeedbackStore(tmp_path / "feedback.sqlite")
        return NewsBot(service, feedback, config, clock=clock)

    yield make
    for service in services:
        service.close()
