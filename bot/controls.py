"""The buttons under an answer: More (next passages of the same question) and 👍/👎.

Buttons carry only an action and a short key in their custom id; the key finds the
answer in a bounded in-memory record of recent answers. They are dynamic items, so
discord.py routes clicks by pattern and no view object is kept per message. After a
restart, or once an answer has aged out, a click gets a polite "ask again".
"""

from __future__ import annotations

import asyncio
import re
import secrets
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import discord

from bot.replies import EXPIRED, vote_thanks
from bot.respond import notify, report_failure
from index.models import Answer

if TYPE_CHECKING:
    from bot.client import NewsBot

_LOOK = {
    "more": ("More", None, discord.ButtonStyle.primary),
    "up": (None, "👍", discord.ButtonStyle.secondary),
    "down": (None, "👎", discord.ButtonStyle.secondary),
}


@dataclass(frozen=True)
class Asked:
    """An answer as sent, and the offset where More continues."""

    answer: Answer
    next_offset: int


class RecentAnswers:
    """The last ``size`` answers sent, by key; the oldest are forgotten first."""

    def __init__(self, size: int = 5000):
        self._size = size
        self._answers: OrderedDict[str, Asked] = OrderedDict()

    def remember(self, asked: Asked) -> str:
        key = secrets.token_hex(6)
        self._answers[key] = asked
        while len(self._answers) > self._size:
            self._answers.popitem(last=False)
        return key

    def get(self, key: str) -> Asked | None:
        return self._answers.get(key)


class AnswerButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"newsbot:(?P<action>more|up|down):(?P<key>[0-9a-f]{12})",
):
    """One of the buttons under an answer."""

    def __init__(self, action: str, key: str):
        label, emoji, style = _LOOK[action]
        button: discord.ui.Button[Any] = discord.ui.Button(
            label=label, emoji=emoji, style=style, custom_id=f"newsbot:{action}:{key}"
        )
        super().__init__(button)
        self.action = action
        self.key = key

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> AnswerButton:
        return cls(match["action"], match["key"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        bot = cast("NewsBot", interaction.client)
        try:
            if self.action == "more":
                await more(bot, interaction, self.key)
            else:
                await vote(bot, interaction, self.key, helpful=self.action == "up")
        except Exception as exc:  # a button has no command tree to report errors for it
            await report_failure(interaction, exc)


def answer_view(key: str, more: bool) -> discord.ui.View:
    """The buttons for the answer remembered under ``key``."""
    view = discord.ui.View(timeout=None)
    for action in ("more", "up", "down") if more else ("up", "down"):
        view.add_item(AnswerButton(action, key))
    return view


async def more(bot: NewsBot, interaction: discord.Interaction[Any], key: str) -> None:
    """The next passages for the same question, as a new answer."""
    asked = bot.answers.get(key)
    if asked is None:
        await notify(interaction, EXPIRED)
        return
    question, filters = asked.answer.question, asked.answer.filters
    await bot.answer_interaction(interaction, question, filters, offset=asked.next_offset)


async def vote(
    bot: NewsBot, interaction: discord.Interaction[Any], key: str, helpful: bool
) -> None:
    """Store the vote (a salted hash stands in for the user) and thank the voter privately."""
    asked = bot.answers.get(key)
    if asked is None:
        await notify(interaction, EXPIRED)
        return
    await interaction.response.defer(ephemeral=True, thinking=True)
    await asyncio.to_thread(bot.feedback.record, key, interaction.user.id, helpful, asked.answer)
    await interaction.followup.send(vote_thanks(helpful), ephemeral=True)
