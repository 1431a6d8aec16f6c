"""Load on the Discord bot: N concurrent /ask interactions (default 200) sent through the
fake Discord server (tests/fake_discord.py) to the real bot, in this process, answered
by the real model over the sample index.

Measures, per question, the time from the gateway dispatch to the defer and to the
follow-up holding the answer (median, p95, max), and the largest stall of the bot's
event loop while they run: a ticker sleeps 10 ms in a loop and records the worst
lateness. The fake server runs on its own thread and loop, so its work is not counted
as the bot's. Prints the figures and appends a dated row, with the git commit, to
bench/RESULTS.md.

    PYTHONPATH=. .venv/bin/python bench/discord_load.py [--questions 200] [--workers 2]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.results import append_row  # noqa: E402
from bot.client import NewsBot  # noqa: E402
from bot.run import serve, share_cpus  # noqa: E402
from bot.service import AnswerService, IndexSource  # noqa: E402
from index.build import build_index  # noqa: E402
from index.config import Config, DiscordConfig  # noqa: E402
from index.embed import load_embedder  # noqa: E402
from index.feedback import FeedbackStore  # noqa: E402
from tests.fake_discord import APP_ID, FakeDiscord  # noqa: E402

WORK = REPO / "bench" / ".work"
SECTION = "Discord load (bench/discord_load.py: concurrent /ask through the fake server)"
TOKEN = "bench-token"
T = TypeVar("T")
QUESTIONS = [
    "What did Liu Zhenli say about Taiwan?",
    "Why was Li Shangfu sanctioned?",
    "When did the US disinvite China from RIMPAC?",
    "Which chef won the baking contest?",
]


class ErrorCount(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


def sample_index() -> Path:
    """The sample corpus indexed once under bench/.work (reused by later runs)."""
    root = WORK / "index"
    if not (root / "current").exists():
        build_index(REPO / "corpus", root, Config(), load_embedder(Config().embedding))
    return root


async def watch_stalls(stop: asyncio.Event, tick: float = 0.01) -> float:
    """The worst lateness of a ``tick``-second sleep until ``stop`` is set."""
    loop = asyncio.get_running_loop()
    worst = 0.0
    while not stop.is_set():
        before = loop.time()
        await asyncio.sleep(tick)
        worst = max(worst, loop.time() - before - tick)
    return worst


class ServerThread:
    """The fake server on a loop of its own, in its own thread."""

    def __init__(self, server: FakeDiscord):
        self.server = server
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    async def call(self, work: Coroutine[Any, Any, T]) -> T:
        """Run ``work`` on the server's loop and wait for it from this one."""
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(work, self._loop))

    async def __aenter__(self) -> ServerThread:
        self._thread.start()
        await self.call(self.server.start())
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.call(self.server.close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()


async def run(count: int, workers: int) -> dict[str, float]:
    root = sample_index()
    source = IndexSource(Config(), root, REPO / "corpus")
    service = await AnswerService.open(source, workers)
    async with ServerThread(FakeDiscord(TOKEN)) as remote:
        server = remote.server
        settings = DiscordConfig(api_base=server.api_base, gateway_url=server.gateway_url,
                                 cooldown_seconds=0, workers=workers)  # fmt: skip
        bot = NewsBot(service, FeedbackStore(WORK / "feedback.sqlite"), settings)
        running = asyncio.create_task(serve(bot, TOKEN))
        try:
            await remote.call(server.connected())
            return await _measure(remote, count)
        finally:
            await bot.close()
            await running
            service.close()


async def _measure(remote: ServerThread, count: int) -> dict[str, float]:
    server = remote.server
    stop = asyncio.Event()
    ticker = asyncio.create_task(watch_stalls(stop))
    sent = [server.interaction("ask", question=QUESTIONS[n % len(QUESTIONS)]) for n in range(count)]
    started: dict[str, float] = {}
    began = time.monotonic()
    for interaction in sent:
        started[interaction["token"]] = time.monotonic()
        await remote.call(server.dispatch("INTERACTION_CREATE", interaction))
    followup = f"/webhooks/{APP_ID}/"
    answers = await remote.call(server.wait_for(lambda r: r.path.startswith(followup), count, 600))
    wall = time.monotonic() - began
    stop.set()
    stall = await ticker
    defers = await remote.call(server.wait_for(lambda r: r.path.endswith("/callback"), count))
    latency = [a.at - started[a.path.rsplit("/", 1)[1]] for a in answers]
    defer = [d.at - started[d.path.split("/")[3]] for d in defers]
    ok = sum(1 for a in answers if a.body["embeds"][0]["title"] in QUESTIONS)
    return {"answered": ok, "median": statistics.median(latency), "p95": _p95(latency),
            "max": max(latency), "defer_max": max(defer), "stall": stall, "wall": wall}  # fmt: skip


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def _commit() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True).stdout

    return git("rev-parse", "--short", "HEAD").strip() + (
        "-dirty" if git("status", "--porcelain").strip() else ""
    )


def record(figures: dict[str, float], count: int, workers: int, errors: int) -> list[str]:
    row = [f"{datetime.now(UTC):%Y-%m-%d %H:%M}", _commit(), str(count), str(workers),
           f"{int(figures['answered'])}/{count}", str(errors), f"{figures['median']:.2f}",
           f"{figures['p95']:.2f}", f"{figures['max']:.2f}", f"{figures['defer_max']:.3f}",
           f"{figures['stall'] * 1000:.0f}", str(os.cpu_count())]  # fmt: skip
    header = ["date (UTC)", "commit", "questions", "workers", "answered", "errors", "median s",
              "p95 s", "max s", "max defer s", "max stall ms", "CPUs"]  # fmt: skip
    append_row(SECTION, header, row)
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--workers", type=int, default=DiscordConfig().workers)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    share_cpus(args.workers)  # as newsbot discord does, before the model loads
    errors = ErrorCount()
    logging.getLogger().addHandler(errors)
    figures = asyncio.run(run(args.questions, args.workers))
    answered = int(figures["answered"])
    print(
        f"{answered}/{args.questions} answered, {errors.count} errors, in {figures['wall']:.1f} s"
    )
    print(
        f"latency: median {figures['median']:.2f} s, p95 {figures['p95']:.2f} s, max "
        f"{figures['max']:.2f} s; slowest defer {figures['defer_max'] * 1000:.0f} ms"
    )
    print(f"largest event-loop stall: {figures['stall'] * 1000:.1f} ms")
    print("| " + " | ".join(record(figures, args.questions, args.workers, errors.count)) + " |")
    return 0 if figures["answered"] == args.questions and not errors.count else 1


if __name__ == "__main__":
    sys.exit(main())
