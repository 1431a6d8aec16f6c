"""Hardening load: 500 /ask from 50 users within a minute, through the fake Discord
server (tests/fake_discord.py) to the real bot in this process, with the default
per-user cooldown, answered by the real model over the sample index.

Each user asks every 6 s (10 questions each), so with the 10 s cooldown every other
question is refused with a polite notice. Counts answered, rate-limited and lost
questions; measures the worst lateness of a 10 ms ticker on the bot's event loop (the
loop must never block for 100 ms) and the process's resident memory before and after
the load (after a warm-up, so loading the model is not counted). Prints the figures
and appends a dated row with the git commit to bench/RESULTS.md.

    PYTHONPATH=. .venv/bin/python bench/hardening_load.py [--users 50] [--rounds 10]
        [--seconds 60] [--workers 2]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.discord_load import ErrorCount, ServerThread, sample_index, watch_stalls  # noqa: E402
from bench.results import append_row, code_version, today  # noqa: E402
from bot.client import NewsBot  # noqa: E402
from bot.run import serve, share_cpus  # noqa: E402
from bot.service import AnswerService, IndexSource  # noqa: E402
from index.config import Config, DiscordConfig  # noqa: E402
from index.feedback import FeedbackStore  # noqa: E402
from tests.fake_discord import APP_ID, FakeDiscord, user  # noqa: E402

TOKEN = "bench-token"
QUESTIONS = [
    "What did Liu Zhenli say about Taiwan?",
    "Why was Li Shangfu sanctioned?",
    "When did the US disinvite China from RIMPAC?",
    "Which chef won the baking contest?",
]
SLOW_DOWN = "You're asking a little fast"


def rss_mb() -> float:
    """Resident memory of this process in MB (from /proc/self/statm)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _asked_by(server: FakeDiscord, user_id: int, question: str) -> dict[str, Any]:
    interaction = server.interaction("ask", question=question)
    interaction["member"]["user"] = user(user_id, f"reader{user_id}")
    return interaction


async def _ask_all(remote: ServerThread, asks: list[dict[str, Any]], seconds: float) -> None:
    """Dispatch ``asks`` evenly over ``seconds``, from this loop."""
    began = time.monotonic()
    for n, interaction in enumerate(asks):
        await asyncio.sleep(max(0.0, began + n * seconds / len(asks) - time.monotonic()))
        await remote.call(remote.server.dispatch("INTERACTION_CREATE", interaction))


async def _outcomes(remote: ServerThread, asks: list[dict[str, Any]]) -> dict[str, int]:
    """Answered, rate-limited and lost among ``asks``, once every reply has arrived."""
    server = remote.server
    tokens = {a["token"]: a["data"]["options"][0]["value"] for a in asks}
    callbacks = await remote.call(
        server.wait_for(
            lambda r: r.path.endswith("/callback") and r.path.split("/")[3] in tokens,
            len(asks),
            600,
        )
    )
    limited = [
        c for c in callbacks if (c.body.get("data") or {}).get("content", "").startswith(SLOW_DOWN)
    ]
    deferred = [c for c in callbacks if c.body["type"] == 5]
    followup = f"/webhooks/{APP_ID}/"
    answers = await remote.call(
        server.wait_for(
            lambda r: r.path.startswith(followup) and r.path.rsplit("/", 1)[1] in tokens,
            len(deferred),
            600,
        )
    )
    answered = [
        a for a in answers if a.body["embeds"][0]["title"] == tokens[a.path.rsplit("/", 1)[1]]
    ]
    lost = len(asks) - len(answered) - len(limited)
    return {"answered": len(answered), "limited": len(limited), "lost": lost}


async def run(users: int, rounds: int, seconds: float, workers: int) -> dict[str, float]:
    source = IndexSource(Config(), sample_index(), REPO / "corpus")
    service = await AnswerService.open(source, workers)
    async with ServerThread(FakeDiscord(TOKEN)) as remote:
        server = remote.server
        settings = DiscordConfig(
            api_base=server.api_base, gateway_url=server.gateway_url, workers=workers
        )  # the default 10 s cooldown
        bot = NewsBot(
            service, FeedbackStore(REPO / "bench" / ".work" / "feedback.sqlite"), settings
        )
        running = asyncio.create_task(serve(bot, TOKEN))
        try:
            await remote.call(server.connected())
            warm = [_asked_by(server, 90_000 + n, QUESTIONS[n % 4]) for n in range(20)]
            await _ask_all(remote, warm, 2.0)
            await _outcomes(remote, warm)
            return await _measure(remote, users, rounds, seconds)
        finally:
            await bot.close()
            await running
            service.close()


async def _measure(
    remote: ServerThread, users: int, rounds: int, seconds: float
) -> dict[str, float]:
    gc.collect()
    before = rss_mb()
    asks = [
        _asked_by(remote.server, 10_000 + n, QUESTIONS[(r + n) % len(QUESTIONS)])
        for r in range(rounds)
        for n in range(users)
    ]
    stop = asyncio.Event()
    ticker = asyncio.create_task(watch_stalls(stop))
    began = time.monotonic()
    await _ask_all(remote, asks, seconds)
    counts = await _outcomes(remote, asks)
    wall = time.monotonic() - began
    stop.set()
    stall = await ticker
    gc.collect()
    return {
        **counts,
        "stall_ms": stall * 1000,
        "rss_before": before,
        "rss_after": rss_mb(),
        "wall": wall,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=DiscordConfig().workers)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    share_cpus(args.workers)
    errors = ErrorCount()
    logging.getLogger().addHandler(errors)
    f = asyncio.run(run(args.users, args.rounds, args.seconds, args.workers))
    total = args.users * args.rounds
    growth = f["rss_after"] - f["rss_before"]
    print(
        f"{total} questions from {args.users} users in {f['wall']:.1f} s: {f['answered']} "
        f"answered, {f['limited']} rate-limited, {f['lost']} lost, {errors.count} errors"
    )
    print(f"largest event-loop stall: {f['stall_ms']:.1f} ms (limit 100 ms)")
    print(f"RSS {f['rss_before']:.0f} → {f['rss_after']:.0f} MB ({growth:+.1f} MB)")
    append_row(
        "Hardening load (bench/hardening_load.py)",
        [
            "date",
            "commit",
            "questions",
            "users",
            "seconds",
            "answered",
            "rate-limited",
            "lost",
            "errors",
            "max stall ms",
            "RSS before MB",
            "RSS growth MB",
            "CPUs",
        ],
        [
            today(),
            code_version(),
            str(total),
            str(args.users),
            f"{f['wall']:.0f}",
            str(f["answered"]),
            str(f["limited"]),
            str(f["lost"]),
            str(errors.count),
            f"{f['stall_ms']:.0f}",
            f"{f['rss_before']:.0f}",
            f"{growth:+.1f}",
            str(os.cpu_count()),
        ],
    )
    ok = f["lost"] == 0 and not errors.count and f["stall_ms"] < 100
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
