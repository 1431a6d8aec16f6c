"""The Discord client: one question path for /ask, mentions, DMs and the More button.

Every path does the same steps: cheap checks on the event loop (question, filters,
cooldown), queue the question with the answer service, acknowledge at once (defer or
typing), then send the answer with its buttons. Mentions pinging anyone are ruled out
for the whole client, so a quoted "@everyone" stays text.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

import discord
from discord import app_commands

from bot import commands
from bot.controls import AnswerButton, Asked, RecentAnswers, answer_view
from bot.policy import Cooldown, channel_allowed
from bot.replies import HELP, answer_reply, cooldown_notice, notice
from bot.respond import notify, user_message
from bot.service import AnswerService
from index.answer import check_filters, check_question
from index.config import DiscordConfig
from index.feedback import FeedbackStore
from index.models import Answer, Filters

log = logging.getLogger("newsbot.discord")

NO_MENTIONS = discord.AllowedMentions.none()


def intents() -> discord.Intents:
    """Servers and their channels, messages in them and in DMs, and message text (to
    read questions addressed to the bot by mention)."""
    wanted = discord.Intents.none()
    wanted.guilds = True
    wanted.guild_messages = True
    wanted.dm_messages = True
    wanted.message_content = True
    return wanted


class NewsBot(discord.Client):
    """newsbot on Discord. Built from its dependencies; it owns none of them."""

    def __init__(
        self,
        service: AnswerService,
        feedback: FeedbackStore,
        settings: DiscordConfig,
        *,
        clock: Callable[[], float] = time.monotonic,
    ):
        # newsbot never joins voice: spare the log discord.py's warnings about voice libraries.
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
        super().__init__(intents=intents(), allowed_mentions=NO_MENTIONS)
        self.service = service
        self.feedback = feedback
        self.settings = settings
        self.cooldown = Cooldown(settings.cooldown_seconds, clock)
        self.answers = RecentAnswers()
        self.tree: app_commands.CommandTree[NewsBot] = app_commands.CommandTree(self)
        commands.register(self.tree)

    async def setup_hook(self) -> None:
        self.add_dynamic_items(AnswerButton)
        guild = discord.Object(self.settings.guild_id) if self.settings.guild_id else None
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        synced = await self.tree.sync(guild=guild)
        where = f"guild {self.settings.guild_id}" if guild else "all servers"
        log.info("synced %d commands to %s", len(synced), where)

    async def on_ready(self) -> None:
        stats = self.service.stats
        log.info("connected as %s; index of %d articles", self.user, stats.articles)

    async def answer_interaction(
        self,
        interaction: discord.Interaction[Any],
        question: str,
        filters: Filters,
        offset: int = 0,
    ) -> None:
        """/ask and More: check, defer, answer in a worker thread, follow up."""
        question, filters = check_question(question), check_filters(filters)
        wait = self.cooldown.wait(interaction.user.id)
        if wait:
            await notify(interaction, cooldown_notice(wait))
            return
        pending = self.service.submit(question, filters, offset)
        try:
            await interaction.response.defer(thinking=True)
        except BaseException:
            pending.cancel()
            raise
        answer = await pending
        await self.send_answer(interaction.followup.send, answer, offset)

    async def on_message(self, message: discord.Message) -> None:
        question = question_in(message, self.user)
        if question is None or not channel_allowed(self.settings.channels, message.channel):
            return
        try:
            await self._answer_message(message, question)
        except Exception as exc:
            text = notice(user_message(exc))
            with contextlib.suppress(discord.HTTPException):  # e.g. no right to send here
                await message.reply(text, mention_author=False)

    async def _answer_message(self, message: discord.Message, question: str) -> None:
        """Mentions and DMs: the same steps, with typing in place of a defer."""
        if not question:
            await message.reply(HELP, mention_author=False)
            return
        question = check_question(question)
        wait = self.cooldown.wait(message.author.id)
        if wait:
            await message.reply(cooldown_notice(wait), mention_author=False)
            return
        pending = self.service.submit(question, Filters())
        async with message.channel.typing():
            answer = await pending
        await self.send_answer(functools.partial(message.reply, mention_author=False), answer, 0)

    async def send_answer(
        self, send: Callable[..., Awaitable[Any]], answer: Answer, offset: int
    ) -> None:
        """Send ``answer`` (passages from ``offset``) with More and vote buttons."""
        reply = answer_reply(answer, first=offset + 1)
        key = self.answers.remember(Asked(answer, offset + reply.shown))
        view = answer_view(key, more=reply.shown > 0)
        await send(embed=reply.embed, view=view, allowed_mentions=NO_MENTIONS)


def question_in(message: discord.Message, me: discord.ClientUser | None) -> str | None:
    """The question a message asks the bot: a DM's text, or the text of a message that
    mentions the bot by name (not @everyone), without the mention. None otherwise."""
    if me is None or message.author.bot:
        return None
    if message.guild is None:
        return message.content.strip()
    if not any(user.id == me.id for user in message.mentions):
        return None
    return " ".join(re.sub(rf"<@!?{me.id}>", " ", message.content).split())
