"""The bot's behaviour, driven through the real discord.py client against simcord's
simulated Discord: commands, mentions, DMs, buttons, permissions, cooldown, limits,
and the 3-second deadline. Answers come from the real answerer over the sample index."""

from __future__ import annotations

import re
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import discord
import pytest
import simcord
from discord import app_commands

from bot.replies import APOLOGY, EXPIRED, NOT_HERE, limit_problems
from index.answer import Answerer
from index.build import build_index
from index.config import AnswerConfig, ChunkConfig, Config
from index.errors import QuestionError
from index.store import IndexReader
from tests.fakes import HashingEmbedder

pytestmark = pytest.mark.asyncio

TAIWAN = "What did Liu Zhenli say about Taiwan?"
CHEF = "Which chef won the baking contest?"


def _world(env: simcord.Env, *names: str) -> tuple[Any, Any, list[Any]]:
    guild = env.create_guild()
    channel = guild.create_text_channel("news")
    members = [guild.add_member(env.create_user(name)) for name in names or ("alice",)]
    return guild, channel, members


def _text(embed: discord.Embed) -> str:
    return f"{embed.title}\n{embed.description}\n{embed.footer.text}"


def _calls(env: simcord.Env, method: str, ending: str) -> list[Any]:
    return [r for r in env.http_requests if r.method == method and r.path.endswith(ending)]


async def test_commands_are_synced_with_every_option_described(make_bot):
    async with simcord.run(make_bot()) as env:
        _, channel, [alice] = _world(env)
        assert set(alice.available_commands(channel)) == {"ask", "sources", "reindex"}
        [sync] = _calls(env, "PUT", "/commands")
        ask = next(c for c in sync.json if c["name"] == "ask")
        assert [(o["name"], o["required"]) for o in ask["options"]] == [
            ("question", True), ("since", False), ("until", False), ("outlet", False),
        ]  # fmt: skip
        assert all(o["description"] for c in sync.json for o in c.get("options", []))
        assert ask["options"][0]["max_length"] == 1000


async def test_slash_ask_defers_then_quotes_and_cites_with_buttons(make_bot):
    async with simcord.run(make_bot()) as env:
        _, channel, [alice] = _world(env)
        result = await alice.slash(channel, "ask", question=TAIWAN)
        [defer] = _calls(env, "POST", "/callback")
        assert defer.json["type"] == discord.InteractionResponseType.deferred_channel_message.value
        message = result.response
        assert message is not None and not message.ephemeral
        [embed] = message.embeds
        assert embed.title == TAIWAN
        assert "Taiwan" in (embed.description or "") and "**" in (embed.description or "")
        assert "\n— " in (embed.description or "")
        assert (embed.footer.text or "").startswith("passages 1–3 · index of 5 articles, built ")
        buttons = [c for row in message.components for c in row["components"]]
        assert [b.get("label") or b["emoji"]["name"] for b in buttons] == ["More", "👍", "👎"]
        [followup] = _calls(env, "POST", "")[-1:]
        assert followup.json["allowed_mentions"] == {"parse": []}
        assert limit_problems(message.content, message.embeds) == []


async def test_a_question_outside_the_corpus_says_so_with_closest_topics(make_bot):
    async with simcord.run(make_bot()) as env:
        _, channel, [alice] = _world(env)
        result = await alice.slash(channel, "ask", question=CHEF)
        [embed] = result.response.embeds
        assert (embed.description or "").startswith("I couldn't find that in the corpus.")
        assert "Closest topics:\n• " in (embed.description or "")
        assert "> " not in (embed.description or "")  # no weak quotes
        labels = [c.get("label") for row in result.response.components for c in row["components"]]
        assert "More" not in labels


async def test_outlet_autocomplete_and_filters(make_bot):
    async with simcord.run(make_bot()) as env:
        _, channel, [alice] = _world(env)
        choices = await alice.autocomplete(channel, "ask", "outlet", "assoc", question=TAIWAN)
        assert choices == [{"name": "Associated Press", "value": "Associated Press"}]
        assert await alice.autocomplete(channel, "ask", "outlet", "zzz", question=TAIWAN) == []
        result = await alice.slash(channel, "ask", question=TAIWAN, outlet="Associated Press")
        [embed] = result.response.embeds
        assert (embed.footer.text or "").endswith("outlet Associated Press")
        assert "Associated Press" in (embed.description or "")


async def test_a_bad_date_gets_a_private_notice_without_a_defer(make_bot):
    async with simcord.run(make_bot()) as env:
        _, channel, [alice] = _world(env)
        result = await alice.slash(channel, "ask", question=TAIWAN, since="soon")
        assert result.ephemeral and not result.deferred
        assert result.response.content == "since: 'soon' is not a date; use YYYY-MM-DD"
        [error] = env.errors
        assert isinstance(error, app_commands.CommandInvokeError)
        assert isinstance(error.original, QuestionError)


async def test_a_mention_is_answered_in_its_channel_and_thread(make_bot):
    async with simcord.run(make_bot()) as env:
        _, channel, [alice] = _world(env)
        me = env.bot.user
        await alice.send(channel, f"<@{me.id}> Why was Li Shangfu sanctioned?")
        reply = channel.last_message
        assert reply.author.id == me.id
        assert reply.embeds[0].title == "Why was Li Shangfu sanctioned?"
        assert "sanctioned" in (reply.embeds[0].description or "")
        thread = await env.bot.get_channel(channel.id).create_thread(
            name="questions", type=discord.ChannelType.public_thread
        )
        [handle] = channel.threads
        assert handle.id == thread.id
        await alice.send(handle, f"{me.mention} When did the US disinvite China from RIMPAC?")
        assert handle.last_message.author.id == me.id
        assert "RIMPAC" in _text(handle.last_message.embeds[0])


async def test_messages_not_addressed_to_the_bot_are_ignored(make_bot):
    async with simcord.run(make_bot()) as env:
        _, channel, [alice] = _world(env)
        await alice.send(channel, "@everyone What did Liu Zhenli say about Taiwan?")
        await alice.send(channel, f"<@{env.bot.user.id}>")
        assert channel.last_message.content == (
            "Ask me about the news corpus: mention me with a question, DM me, or use `/ask`."
        )
        assert len(channel.history()) == 3  # two questions, one help reply


async def test_a_direct_message_is_answered_there(make_bot):
    async with simcord.run(make_bot()) as env:
        _, _, [alice] = _world(env)
        await alice.send_dm(CHEF)
        reply = alice.user.dm_channel.last_message
        assert reply.author.id == env.bot.user.id
        assert (reply.embeds[0].description or "").startswith("I couldn't find that")


async def test_more_gives_the_next_passages_of_the_same_question(make_bot):
    async with simcord.run(make_bot()) as env:
        _, channel, [alice, bob] = _world(env, "alice", "bob")
        first = await alice.slash(channel, "ask", question=TAIWAN)
        more = await bob.click(first.response, label="More")
        [embed] = more.response.embeds
        assert embed.title == TAIWAN
        assert (embed.footer.text or "").startswith("passages 4–6 ")
        assert embed.description != first.response.embeds[0].description
        again = await bob.click(more.response, label="More")
        assert (again.response.embeds[0].footer.text or "").startswith("passages 7–")


async def test_votes_are_stored_with_a_hashed_user_and_thanked_privately(make_bot):
    bot = make_bot()
    async with simcord.run(bot) as env:
        _, channel, [alice] = _world(env)
        asked = await alice.slash(channel, "ask", question=TAIWAN)
        up = await alice.click(asked.response, label=None, custom_id=_custom_id(asked, "up"))
        assert up.ephemeral and up.response.content == "Thanks, noted that this helped."
        await alice.click(asked.response, custom_id=_custom_id(asked, "down"))
        [vote] = bot.feedback.votes()
        assert vote.question == TAIWAN and vote.helpful is False
        assert len(vote.passages) == 3 and "Taiwan" in str(vote.passages)
        assert vote.user_hash == bot.feedback.hash_user(alice.id)
        assert str(alice.id).encode() not in bot.feedback.path.read_bytes()


def _custom_id(result: Any, action: str) -> str:
    buttons = [c for row in result.response.components for c in row["components"]]
    return next(b["custom_id"] for b in buttons if b["custom_id"].startswith(f"newsbot:{action}:"))


async def test_buttons_of_a_forgotten_answer_ask_to_ask_again(make_bot):
    bot = make_bot()
    async with simcord.run(bot) as env:
        _, channel, [alice] = _world(env)
        asked = await alice.slash(channel, "ask", question=TAIWAN)
        bot.answers = type(bot.answers)()  # as after a restart
        clicked = await alice.click(asked.response, label="More")
        assert clicked.ephemeral and clicked.response.content == EXPIRED


async def test_sources_lists_the_corpus(make_bot):
    async with simcord.run(make_bot()) as env:
        _, channel, [alice] = _world(env)
        result = await alice.slash(channel, "sources")
        assert result.ephemeral
        [embed] = result.response.embeds
        assert "**5 articles** in **" in (embed.description or "")
        assert "Published 2020-10-29 to 2021-01-28" in (embed.description or "")
        assert embed.fields[0].value == "Associated Press — 1 article"


async def test_cooldown_is_per_user_and_polite(make_bot):
    now = [1000.0]
    async with simcord.run(make_bot(cooldown_seconds=30, clock=lambda: now[0])) as env:
        _, channel, [alice, bob] = _world(env, "alice", "bob")
        assert (await alice.slash(channel, "ask", question=TAIWAN)).response.embeds
        now[0] += 10
        again = await alice.slash(channel, "ask", question=TAIWAN)
        assert again.ephemeral and not again.deferred
        assert again.response.content == (
            "You're asking a little fast; please wait 20 s before your next question."
        )
        assert (await bob.slash(channel, "ask", question=TAIWAN)).response.embeds
        await alice.send(channel, f"<@{env.bot.user.id}> {TAIWAN}")
        assert channel.last_message.content.startswith("You're asking a little fast")
        now[0] += 20
        assert (await alice.slash(channel, "ask", question=TAIWAN)).response.embeds


async def test_the_channel_allowlist(make_bot):
    bot = make_bot()
    async with simcord.run(bot) as env:
        guild, channel, [alice] = _world(env)
        elsewhere = guild.create_text_channel("random")
        bot.settings = replace(bot.settings, channels=(str(channel.id),))
        refused = await alice.slash(elsewhere, "ask", question=TAIWAN)
        assert refused.ephemeral and refused.response.content == NOT_HERE
        assert type(env.errors[0]).__name__ == "NotHereError"
        await alice.send(elsewhere, f"<@{env.bot.user.id}> {TAIWAN}")
        assert elsewhere.last_message.author.id == alice.id  # ignored
        assert (await alice.slash(channel, "ask", question=TAIWAN)).response.embeds
        await env.bot.get_channel(channel.id).create_thread(
            name="follow-up", type=discord.ChannelType.public_thread
        )
        [thread] = channel.threads
        await alice.send(thread, f"<@{env.bot.user.id}> {TAIWAN}")
        assert thread.last_message.author.id == env.bot.user.id  # threads follow their parent


async def test_long_passages_are_shortened_within_limits_and_more_continues(
    make_bot, tmp_path, sample_corpus, real_embedder
):
    # Short passages, so the corpus has more of them than one embed can show.
    small = replace(Config(), chunk=ChunkConfig(target_words=40, max_words=80, min_words=10))
    build_index(sample_corpus, tmp_path / "small", small, real_embedder)
    wide = Answerer(IndexReader(tmp_path / "small"), real_embedder, AnswerConfig(top_k=25))
    async with simcord.run(make_bot(wide)) as env:
        _, channel, [alice] = _world(env)
        result = await alice.slash(channel, "ask", question=TAIWAN)
        [embed] = result.response.embeds
        assert limit_problems(None, [embed]) == []
        assert len(embed.description or "") > 3000 and "…" in (embed.description or "")
        shown = (embed.description or "").count("\n— ")
        assert (embed.footer.text or "").startswith(f"passages 1–{shown} ")
        more = await alice.click(result.response, label="More")
        footer = more.response.embeds[0].footer.text or ""
        assert re.match(rf"passages? {shown + 1}\b", footer), footer


MARKDOWN_ARTICLE = """Students rally outside the ministry

Protesters chanted @everyone and <@&123456789> outside the *ministry* building on Tuesday
while __students__ held signs reading `free the press` and ~~censorship~~ in the rain.
The protesters chanted for two hours before the police asked the students to leave the
square, and the organisers said the protesters would return to the ministry next week.
"""


async def test_quoted_mentions_ping_no_one_and_markdown_is_escaped(
    make_bot, tmp_path: Path, fake_embedder: HashingEmbedder
):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "rally.txt").write_text(MARKDOWN_ARTICLE, "utf-8")
    build_index(corpus, tmp_path / "index", Config(), fake_embedder)
    answerer = Answerer(IndexReader(tmp_path / "index"), fake_embedder, AnswerConfig())
    async with simcord.run(make_bot(answerer)) as env:
        _, channel, [alice] = _world(env)
        await alice.send(
            channel, f"<@{env.bot.user.id}> What did protesters chant outside the ministry?"
        )
        reply = channel.last_message
        description = reply.embeds[0].description or ""
        assert "@everyone" in description and r"\*ministry\*" in description
        assert r"\_\_students\_\_" in description and r"\~\~censorship\~\~" in description
        assert not reply.mention_everyone and not reply.role_mentions
        assert _calls(env, "POST", "/messages")[-1].json["allowed_mentions"]["parse"] == []


class SlowAnswerer(Answerer):
    """The real answerer, slowed down: it waits until the bot has acknowledged the
    interaction, then lets 5 simulated seconds pass, as a slow model on a busy CPU."""

    env: simcord.Env

    def ask(self, *args: Any, **kwargs: Any) -> Any:
        give_up = time.monotonic() + 30
        while not any(r.path.endswith("/callback") for r in list(self.env.http_requests)):
            if time.monotonic() > give_up:
                raise AssertionError("the bot waited for the answer before acknowledging")
            time.sleep(0.01)
        self.env.backend.clock.advance(5)  # past Discord's 3-second limit
        return super().ask(*args, **kwargs)


async def test_the_defer_comes_before_the_slow_work_so_3_seconds_never_pass(
    make_bot, sample_index, real_embedder
):
    slow = SlowAnswerer(IndexReader(sample_index), real_embedder, AnswerConfig())
    async with simcord.run(make_bot(slow)) as env:
        slow.env = env
        _, channel, [alice] = _world(env)
        started = env.now()
        result = await alice.slash(channel, "ask", question=TAIWAN)
        assert (env.now() - started).total_seconds() >= 5
        assert result.response.embeds[0].title == TAIWAN


class BrokenAnswerer(Answerer):
    def ask(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk on fire")


async def test_a_bug_is_logged_and_the_user_gets_a_short_apology(
    make_bot, sample_index, real_embedder, caplog
):
    broken = BrokenAnswerer(IndexReader(sample_index), real_embedder, AnswerConfig())
    async with simcord.run(make_bot(broken)) as env:
        _, channel, [alice] = _world(env)
        result = await alice.slash(channel, "ask", question=TAIWAN)
        assert result.response.content == APOLOGY and not result.response.embeds
        await alice.send(channel, f"<@{env.bot.user.id}> {TAIWAN}")
        assert channel.last_message.content == APOLOGY
        assert isinstance(env.errors[0].original, RuntimeError)
    logged = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(logged) == 2 and all("disk on fire" in r.exc_text for r in logged)
