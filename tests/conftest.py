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
from index.config import AnswerConfig, Config, DiscordConfig, EmbeddingConfig
from index.embed import Embedder, load_embedder
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


@pytest.fixture(scope="session", autouse=True)
def _user_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """ONNX exports go to a directory of this session, not the developer's ~/.cache:
    every embedder the suite loads (CLI and bot included) exports once per session."""
    import os

    cache = tmp_path_factory.mktemp("xdg-cache")
    before = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(cache)
    yield cache
    if before is None:
        del os.environ["XDG_CACHE_HOME"]
    else:
        os.environ["XDG_CACHE_HOME"] = before


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
def real_embedder() -> Embedder:
    """The packaged all-MiniLM-L6-v2 on the default backend, loaded once per test session."""
    return load_embedder(EmbeddingConfig())


@pytest.fixture(scope="session")
def sample_index(tmp_path_factory: pytest.TempPathFactory, real_embedder: Embedder) -> Path:
    """The sample corpus indexed with the real model and real FAISS."""
    root = tmp_path_factory.mktemp("index")
    build_index(SAMPLE_CORPUS, root, Config(), real_embedder)
    return root


@pytest.fixture(scope="session")
def sample_answerer(sample_index: Path, real_embedder: Embedder) -> Answerer:
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


GOOD_STORY = (
    "The harbour strike ended on Monday after dock workers accepted a new contract. "
    "Union leaders said the agreement raised wages by six percent over three years.\n"
)


@pytest.fixture
def nasty_corpus(tmp_path: Path) -> tuple[Path, set[str], dict[str, str]]:
    """A folder of everything an indexer meets: the corpus root, the paths that must be
    indexed, and the skipped paths with a fragment of the reason each must get.

    Tests run as root, where chmod 000 does not stop reading, so unreadable entries are
    made honestly: a FIFO (would block a plain open), a dangling symlink, a symlink loop
    and a link to /proc/self/mem (reading it fails with EIO)."""
    import json
    import os

    root = tmp_path / "nasty"
    (root / "café").mkdir(parents=True)
    good = {
        "good story.txt": GOOD_STORY.encode("utf-8"),
        "café/Zürich news ☕.md": ("# Zürich\n\n" + GOOD_STORY).encode("utf-8"),
        "utf16 bom.txt": GOOD_STORY.encode("utf-16"),
        "latin1.txt": ("Café " + GOOD_STORY).encode("cp1252"),  # invalid as UTF-8
        "one line.txt": ((GOOD_STORY.strip() + " ") * 6_500).encode(),  # 1 MB, one line
        "page.html": f"<html><body><article><p>{GOOD_STORY}</p></article></body></html>".encode(),
    }
    lines = [
        json.dumps({"text": GOOD_STORY, "title": 7, "published": 2021, "id": {"x": 1}}),
        "{not json", "[1, 2]", "null", '"a string"', json.dumps({"text": 5}),
        json.dumps({"body": None}), json.dumps({"text": "   "}),
    ]  # fmt: skip
    good["feed.jsonl"] = ("\n".join(lines) + "\n").encode()
    for name, data in good.items():
        (root / name).write_bytes(data)
    bad = {
        "empty.txt": "empty file",
        "binary.txt": "binary file",
        "nobody.html": "no article text found in the page",
        "huge.txt": "larger than 20 MB: raise corpus.max_file_mb",
        "bad utf16.txt": "invalid UTF-16",
        "fifo.txt": "not a regular file",
        "dangling.txt": "missing (a broken symlink?)",
        "loop.txt": "cannot be read: Too many levels of symbolic links",
        "proc.txt": "cannot be read: Input/output error",
        "report.pdf": "unsupported file type .pdf",
        "feed.jsonl:2": "not valid JSON",
        "feed.jsonl:3": "not a JSON object",
        "feed.jsonl:4": "not a JSON object",
        "feed.jsonl:5": "not a JSON object",
        "feed.jsonl:6": "no text",
        "feed.jsonl:7": "no text",
        "feed.jsonl:8": "no text",
    }
    (root / "empty.txt").write_bytes(b"")
    (root / "binary.txt").write_bytes(bytes(range(256)) * 64)
    (root / "nobody.html").write_text("<html><head><title>Only a title</title></head></html>")
    with (root / "huge.txt").open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)  # sparse: 50 MB on paper, nothing on disk
    (root / "bad utf16.txt").write_bytes(b"\xff\xfea\x00b")
    os.mkfifo(root / "fifo.txt")
    (root / "dangling.txt").symlink_to(root / "gone.txt")
    (root / "loop.txt").symlink_to(root / "loop.txt")
    (root / "proc.txt").symlink_to("/proc/self/mem")
    (root / "report.pdf").write_bytes(b"%PDF-1.4")
    (root / "café" / "up").symlink_to(root, target_is_directory=True)  # a directory loop
    return root, set(good), bad
