"""Telling a user something once, whatever state their interaction is in, and turning
errors into what a user should read: a domain error's own message, else an apology
(with the traceback in the log, never in Discord)."""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands

from bot.replies import APOLOGY, notice
from index.errors import NewsbotError

log = logging.getLogger("newsbot.discord")


def user_message(error: BaseException) -> str:
    """What to tell the user about ``error``; unexpected errors are logged here, once."""
    if isinstance(error, NewsbotError | app_commands.CheckFailure):
        return str(error)
    log.error("unexpected error while answering", exc_info=error)
    return APOLOGY


async def notify(interaction: discord.Interaction[Any], text: str) -> None:
    """A notice for the user: private when nothing was sent yet (the usual case, as
    checks run before the defer); after a defer it completes the "thinking…" placeholder,
    which keeps the defer's visibility whatever we ask for."""
    text = notice(text)
    if not interaction.response.is_done():
        await interaction.response.send_message(text, ephemeral=True)
    elif interaction.response.type is discord.InteractionResponseType.deferred_channel_message:
        await interaction.edit_original_response(content=text, embed=None, view=None)
    else:
        await interaction.followup.send(text, ephemeral=True)


async def report_failure(interaction: discord.Interaction[Any], error: BaseException) -> None:
    """Tell the user about ``error`` as best we still can."""
    text = user_message(error)
    try:
        await notify(interaction, text)
    except discord.HTTPException:
        log.warning("could not report an error to the user", exc_info=True)
