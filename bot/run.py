"""``newsbot discord``: load the index, connect to Discord, answer until stopped.

The token is read from ``DISCORD_TOKEN`` only. It is never printed or logged: a
missing or rejected token ends the program with one ``error:`` line (exit 1).
SIGINT and SIGTERM close the connection cleanly.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import aiohttp
import discord
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot.client import NewsBot
from bot.service import AnswerService, IndexSource
from index.config import Config
from index.errors import NewsbotError
from index.feedback import FILENAME, FeedbackStore

log = logging.getLogger("newsbot.discord")


class DiscordError(NewsbotError):
    """The bot cannot log in to or reach Discord."""


def discord_token(environ: Mapping[str, str] = os.environ) -> str:
    """The bot token from ``DISCORD_TOKEN``, or DiscordError saying how to set it."""
    token = environ.get("DISCORD_TOKEN", "").strip()
    if not token:
        raise DiscordError(
            "DISCORD_TOKEN is not set: copy the bot token from the Discord developer portal "
            "(Applications → your app → Bot) into that environment variable"
        )
    return token


@contextmanager
def discord_endpoints(api_base: str, gateway_url: str) -> Iterator[None]:
    """Point discord.py at ``api_base`` (REST and webhooks) and ``gateway_url``.

    discord.py reads both from class attributes, ``Route.BASE`` and
    ``DiscordWebSocket.DEFAULT_GATEWAY`` (a plain Client connects there without asking
    /gateway/bot), so the setting is process-wide. That suits the one bot newsbot runs;
    the old values come back on exit, for tests.
    """
    saved = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    Route.BASE = api_base.rstrip("/")
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)
    try:
        yield
    finally:
        Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = saved


def run_discord(config: Config, index_root: Path) -> int:
    """Run the bot until it is stopped; 0 on a clean stop."""
    token = discord_token()
    logging.getLogger("newsbot").setLevel(logging.INFO)  # a service should say what it does
    share_cpus(config.discord.workers)
    asyncio.run(_serve(config, index_root, token))
    return 0


def share_cpus(workers: int) -> None:
    """Give each worker thread its share of the CPUs for the model's own threads.

    torch gives every call one thread per CPU; with several workers answering at once
    that oversubscribes the CPUs and is slower than one share each. It only takes effect
    if set before torch loads, which happens when the index is opened; OMP_NUM_THREADS
    set by the user wins.
    """
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // workers)))


async def _serve(config: Config, index_root: Path, token: str) -> None:
    source = IndexSource(config, index_root, config.corpus.path)
    service = await AnswerService.open(source, config.discord.workers)
    try:
        feedback = await asyncio.to_thread(FeedbackStore, index_root / FILENAME)
        bot = NewsBot(service, feedback, config.discord)
        await serve(bot, token)
    finally:
        service.close()


async def serve(bot: NewsBot, token: str) -> None:
    """Log in and stay connected until closed, with login failures as DiscordError."""
    settings = bot.settings
    with discord_endpoints(settings.api_base, settings.gateway_url):
        try:
            async with bot:
                _close_on_signals(bot)
                await bot.start(token)
        except discord.LoginFailure:
            raise DiscordError(
                "Discord rejected the token in DISCORD_TOKEN: reset it in the developer portal "
                "(Bot → Reset Token) and set it again"
            ) from None
        except discord.PrivilegedIntentsRequired:
            raise DiscordError(
                "Discord refused the Message Content intent: enable it in the developer portal "
                "(Bot → Privileged Gateway Intents)"
            ) from None
        except (aiohttp.ClientError, OSError, discord.GatewayNotFound) as exc:
            raise DiscordError(f"cannot reach Discord at {settings.api_base}: {exc}") from None
        except discord.HTTPException as exc:
            raise DiscordError(f"Discord refused the login ({exc.status})") from None


def _close_on_signals(bot: NewsBot) -> None:
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, lambda: asyncio.ensure_future(bot.close()))
