"""Slash commands: /ask, /sources and /reindex, their checks, and the tree's error
handler, which turns any failure into one short private reply."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any, cast

import discord
from discord import app_commands

from bot.policy import channel_allowed, may_reindex
from bot.replies import (
    NOT_HERE,
    REINDEX_BUSY,
    notice,
    reindex_denied,
    reindex_done,
    reindex_progress,
    sources_embed,
)
from bot.respond import notify, report_failure
from index.errors import NewsbotError
from index.models import Filters

if TYPE_CHECKING:
    from bot.client import NewsBot

log = logging.getLogger("newsbot.discord")

PROGRESS_EVERY = 10.0  # seconds between progress updates of a rebuild

Question = app_commands.Range[str, 1, 1000]
Date = app_commands.Range[str, 1, 40]
Outlet = app_commands.Range[str, 1, 100]


class NotHereError(app_commands.CheckFailure):
    """The command was used outside the channel allowlist."""


class NotAdminError(app_commands.CheckFailure):
    """Someone without the rights asked for /reindex."""


def register(tree: app_commands.CommandTree[Any]) -> None:
    """Add the commands and the error handler to ``tree``."""
    tree.add_command(ask)
    tree.add_command(sources)
    tree.add_command(reindex)
    tree.error(on_command_error)


def _bot(interaction: discord.Interaction[Any]) -> NewsBot:
    return cast("NewsBot", interaction.client)


def _in_allowed_channel(interaction: discord.Interaction[Any]) -> bool:
    if channel_allowed(_bot(interaction).settings.channels, interaction.channel):
        return True
    raise NotHereError(NOT_HERE)


def _can_reindex(interaction: discord.Interaction[Any]) -> bool:
    settings = _bot(interaction).settings
    if may_reindex(settings, interaction.user, interaction.permissions):
        return True
    raise NotAdminError(reindex_denied(settings.admin_role))


@app_commands.command(name="ask", description="Answer a question by quoting the news corpus")
@app_commands.describe(
    question="What you want to know, e.g. What did Liu Zhenli say about Taiwan?",
    since="Only articles published on or after this date (YYYY-MM-DD)",
    until="Only articles published on or before this date (YYYY-MM-DD)",
    outlet="Only articles from this outlet",
)
@app_commands.check(_in_allowed_channel)
async def ask(
    interaction: discord.Interaction[Any],
    question: Question,
    since: Date | None = None,
    until: Date | None = None,
    outlet: Outlet | None = None,
) -> None:
    """Quote the passages that answer ``question``, within the optional filters."""
    await _bot(interaction).answer_interaction(interaction, question, Filters(since, until, outlet))


@ask.autocomplete("outlet")
async def _outlet_choices(
    interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[str]]:
    # Answered from cached stats: autocomplete gets no "thinking" and must be instant.
    typed = current.strip().lower()
    outlets = [name for name, _ in _bot(interaction).service.stats.outlets if typed in name.lower()]
    return [app_commands.Choice(name=name[:100], value=name[:100]) for name in outlets[:25]]


@app_commands.command(
    name="sources", description="What the bot can quote: articles, outlets, dates"
)
@app_commands.check(_in_allowed_channel)
async def sources(interaction: discord.Interaction[Any]) -> None:
    """Show, privately, what the index holds."""
    embed = sources_embed(_bot(interaction).service.stats)
    await interaction.response.send_message(embed=embed, ephemeral=True)


@app_commands.command(name="reindex", description="Rebuild the index from the corpus (admins)")
@app_commands.guild_only()
@app_commands.check(_can_reindex)
async def reindex(interaction: discord.Interaction[Any]) -> None:
    """Rebuild the index off the event loop, report progress, then swap it in."""
    service = _bot(interaction).service
    if service.rebuilding:
        await notify(interaction, REINDEX_BUSY)
        return
    await interaction.response.send_message(reindex_progress(0), ephemeral=True)
    progress = asyncio.create_task(_report_progress(interaction))
    try:
        report = await service.reindex()
    except NewsbotError as exc:
        failed = f"The rebuild failed: {exc}. The previous index is still answering."
        await interaction.edit_original_response(content=notice(failed))
        return
    finally:
        progress.cancel()
        # Let a progress edit in flight finish aborting, so it cannot land after the result.
        with contextlib.suppress(asyncio.CancelledError):
            await progress
    log.info("reindexed: %d articles, %d passages", report.articles, report.passages)
    await interaction.edit_original_response(content=reindex_done(report))


async def _report_progress(interaction: discord.Interaction[Any]) -> None:
    started = asyncio.get_running_loop().time()
    while True:
        await asyncio.sleep(PROGRESS_EVERY)
        elapsed = asyncio.get_running_loop().time() - started
        with contextlib.suppress(discord.HTTPException):  # progress is best effort
            await interaction.edit_original_response(content=reindex_progress(elapsed))


async def on_command_error(
    interaction: discord.Interaction[Any], error: app_commands.AppCommandError
) -> None:
    """Every command failure ends here: one private reply; unexpected ones are logged."""
    original = error.original if isinstance(error, app_commands.CommandInvokeError) else error
    await report_failure(interaction, original)
