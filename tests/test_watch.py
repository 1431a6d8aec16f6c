"""Watching the corpus: a change is indexed, a burst costs one rebuild, a failed
rebuild is reported while the previous build serves, and the stop event ends it.

The watch loop runs in a thread over a real folder, with real file events."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
from watchfiles import Change

from index.build import BuildReport
from index.config import Config, EmbeddingConfig, IndexConfig
from index.errors import CorpusError, IndexBusyError, NewsbotError
from index.lock import build_lock
from index.store import IndexReader
from index.watch import corpus_filter, rebuild_due, watch_corpus
from tests.fakes import HashingEmbedder

FERRY = (
    "The harbour authority opened a new ferry terminal in Portwell on Friday. Ferries to the "
    "islands will leave every hour from the terminal, the authority said.\n"
)


@dataclass
class Watching:
    corpus: Path
    root: Path
    builds: list[BuildReport] = field(default_factory=list)
    errors: list[NewsbotError] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def articles(self) -> int:
        return IndexReader(self.root).manifest.articles

    def passages(self) -> list[tuple[str, str]]:
        """(text, source path) of every passage of the current build."""
        reader = IndexReader(self.root)
        found = reader.passages(range(reader.manifest.passages)).values()
        return [(text, source.path) for text, source in found]


def _poll(condition: Callable[[], bool], what: str) -> None:
    """Wait up to 10 s for ``condition``: file events and rebuilds take their time."""
    give_up = time.monotonic() + 10
    while not condition():
        if time.monotonic() > give_up:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


@pytest.fixture
def watching(corpus_copy: Path, tmp_path: Path) -> Iterator[Watching]:
    """The watch loop running in a thread over a copy of the sample corpus, its first
    build done. A 200 ms quiet period keeps the tests short."""
    embedder = HashingEmbedder()
    config = replace(
        Config(),
        index=IndexConfig(watch_debounce_ms=200),
        embedding=EmbeddingConfig(model=embedder.name),
    )
    state = Watching(corpus_copy, tmp_path / "index")
    state.thread = threading.Thread(
        target=watch_corpus,
        args=(state.corpus, state.root, config, embedder),
        kwargs={"on_build": state.builds.append, "on_error": state.errors.append,
                "stop": state.stop},
    )  # fmt: skip
    state.thread.start()
    try:
        _poll(lambda: len(state.builds) == 1, "the first build")
        yield state
    finally:
        state.stop.set()
        state.thread.join(10)


def test_the_first_build_is_made_once_watching(watching: Watching):
    assert watching.articles() == 5 and watching.builds[0].articles == 5
    assert watching.errors == []


def test_a_new_article_is_indexed(watching: Watching):
    (watching.corpus / "005_ferry.txt").write_text(FERRY, "utf-8")
    _poll(lambda: watching.articles() == 6, "the new article")
    new = [text for text, path in watching.passages() if path == "005_ferry.txt"]
    assert new and "Portwell" in new[0]


def test_a_burst_of_writes_costs_fewer_rebuilds_than_writes(watching: Watching):
    for number in range(5):
        (watching.corpus / f"ferry_{number}.txt").write_text(f"Day {number}. {FERRY}", "utf-8")
    _poll(lambda: watching.articles() == 10, "all five articles")
    assert len(watching.builds) - 1 < 5


def test_a_deleted_article_drops_out(watching: Watching):
    gone = sorted(watching.corpus.iterdir())[2]
    gone.unlink()
    _poll(lambda: watching.articles() == 4, "the article to drop out")
    assert gone.name not in {path for _, path in watching.passages()}


def test_an_emptied_corpus_is_reported_and_the_old_build_serves(watching: Watching):
    for article in watching.corpus.iterdir():
        article.unlink()
    _poll(lambda: bool(watching.errors), "the error")
    assert isinstance(watching.errors[0], CorpusError)
    assert "no articles to index" in str(watching.errors[0])
    assert watching.articles() == 5
    (watching.corpus / "ferry.txt").write_text(FERRY, "utf-8")  # the watch goes on
    _poll(lambda: watching.articles() == 1, "the build after the error")


def test_a_build_held_by_another_process_is_reported_and_the_next_change_retries(
    watching: Watching,
):
    with build_lock(watching.root):  # as a `newsbot index` running meanwhile
        (watching.corpus / "005_ferry.txt").write_text(FERRY, "utf-8")
        _poll(lambda: bool(watching.errors), "the busy error")
    assert isinstance(watching.errors[0], IndexBusyError)
    assert watching.articles() == 5
    (watching.corpus / "006_ferry.txt").write_text(f"Again. {FERRY}", "utf-8")
    _poll(lambda: watching.articles() == 7, "both new articles")


def test_the_stop_event_ends_the_loop(watching: Watching):
    watching.stop.set()
    watching.thread.join(10)
    assert not watching.thread.is_alive()


def test_only_visible_corpus_files_outside_the_index_count(tmp_path: Path):
    corpus = tmp_path / "news"
    relevant = corpus_filter(corpus, corpus / "index")
    for name in ["a.txt", "b.MD", "sub/c.html", "d.htm", "e.jsonl"]:
        assert relevant(Change.added, str(corpus / name)), name
    for name in ["report.pdf", ".a.txt.swp", ".git/x.md", "sub/.hidden.txt", "a.txt~",
                 "index/builds/x/bm25-passages/a.txt"]:  # fmt: skip
        assert not relevant(Change.modified, str(corpus / name)), name
    assert relevant(Change.deleted, str(corpus / "gone.txt"))


def test_a_folder_watched_from_inside_a_dot_folder_still_counts(tmp_path: Path):
    # Only dots below the corpus folder hide a file, as when indexing.
    corpus = tmp_path / ".data" / "news"
    assert corpus_filter(corpus, tmp_path / "index")(Change.added, str(corpus / "a.txt"))


def test_a_symlinked_article_counts_by_its_own_name(tmp_path: Path):
    corpus = tmp_path / "news"
    corpus.mkdir()
    hidden = tmp_path / ".store" / "story.txt"
    hidden.parent.mkdir()
    hidden.write_text(FERRY, "utf-8")
    (corpus / "story.txt").symlink_to(hidden)
    assert corpus_filter(corpus, tmp_path / "index")(Change.added, str(corpus / "story.txt"))


def test_a_rebuild_waits_for_quiet_but_not_forever():
    # Times in seconds with a 1 s quiet period: (now, last change, first pending change).
    assert not rebuild_due(10.5, 10.0, 10.0, quiet=1.0)  # changed half a second ago
    assert rebuild_due(11.0, 10.0, 10.0, quiet=1.0)  # quiet for a whole period
    assert not rebuild_due(19.9, 19.8, 10.0, quiet=1.0)  # still changing…
    assert rebuild_due(20.0, 19.9, 10.0, quiet=1.0)  # …for ten periods: rebuild anyway
