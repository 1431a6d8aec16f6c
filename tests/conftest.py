"""Shared fixtures: the bundled sample corpus, tiny corpora, fake and real embedders."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from index.build import build_index
from index.config import Config
from index.embed import SentenceTransformerEmbedder
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
