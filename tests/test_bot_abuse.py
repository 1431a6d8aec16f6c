"""Abuse through Discord (simcord, real discord.py client): empty, oversized and
invisible-character questions, mention and markdown injection in questions and in
quoted articles. Every reply is bounded, escaped and pings no one."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import discord
import pytest
import simcord

from bot.replies import NOT_HERE, limit_problems
from index.answer import Answerer
from index.build import build_index
from index.config import AnswerConfig, Config
from index.errors import QuestionError
from index.store import IndexReader
from tests.fakes import HashingEmbedder

pytestmark = pytest.mark.asyncio

TAIWAN = "What did Liu Zhenli say about Taiwan?"
EMPTY = "the question is empty: ask something about the news corpus"


def _world(env: simcord.Env) -> tuple[Any, Any]:
    guild = env.create_guild()
    return guild.create_text_channel("news"), guild.add_member(env.create_user("mallory"))


def _posts(env: simcord.Env) -> list[Any]:
    """Every message or interaction reply the bot sent, as JSON."""
    return [r.json for r in env.http_requests if r.method == "POST" and isinstance(r.json, dict)]


def _assert_pings_no_one(env: simcord.Env) -> None:
    sent = [body for body in _posts(env) if "content" in body or "embeds" in body]
    sent += [b["data"] for b in _posts(env) if isinstance(b.get("data"), dict)]
    assert sent
    for body in sent:
        allowed = body.get("allowed_mentions") or {}
        assert allowed.get("parse") == [] and not allowed.get("users") and not allowed.get("roles")
        assert allowed.get("replied_user") in (None, False), body


@pytest.mark.parametrize("question", ["", "   ", "\u200b\u200b", "\x00\x07\u202e", "\t\n"])
async def test_an_empty_or_invisible_mention_question_gets_a_clear_reply(make_bot, question):
    async with simcord.run(make_bot()) as env:
        channel, mallory = _world(env)
        await mallory.send(channel, f"<@{env.bot.user.id}> {question}")
        reply = channel.last_message
        assert reply.author.id == env.bot.user.id and not reply.embeds
        assert reply.content in {EMPTY, "Ask me about the news corpus: mention me with a "
                                 "question, DM me, or use `/ask`."}  # fmt: skip
        _assert_pings_no_one(env)


async def test_a_blank_or_invisible_slash_question_is_refused_privately(make_bot):
    async with simcord.run(make_bot()) as env:
        channel, mallory = _world(env)
        for question in ("   ", "\u200b\u2060\ufeff", "\x1b[31m\x00"):
            result = await mallory.slash(channel, "ask", question=question)
            if question.startswith("\x1b"):  # "[31m" is left: a question, not empty
                assert result.response.embeds
                continue
            assert result.ephemeral and not result.deferred
            assert result.response.content == EMPTY
        _assert_pings_no_one(env)
        assert [type(e.original).__name__ for e in env.errors] == ["QuestionError"] * 2


async def test_oversized_questions_are_refused_with_the_limit(make_bot, sample_answerer):
    async with simcord.run(make_bot()) as env:
        channel, mallory = _world(env)
        # Discord caps a message at 2,000 characters (4,000 with Nitro); simcord at 2,000.
        await mallory.send(channel, f"<@{env.bot.user.id}> " + "why " * 490)
        reply = channel.last_message
        assert reply.content == "the question is 1959 characters long: keep it under 1000"
        assert not reply.embeds
        await mallory.send_dm("x" * 2_000)
        assert mallory.user.dm_channel.last_message.content == (
            "the question is 2000 characters long: keep it under 1000"
        )
        with pytest.raises(simcord.OptionError, match="at most 1000 characters"):
            await mallory.slash(channel, "ask", question="y" * 1001)  # Discord refuses it
        _assert_pings_no_one(env)
    with pytest.raises(QuestionError, match="10000 characters long: keep it under 1000"):
        sample_answerer.ask("z" * 10_000)  # as pasted into `newsbot ask`


async def test_invisible_characters_are_removed_before_answering(make_bot):
    async with simcord.run(make_bot()) as env:
        channel, mallory = _world(env)
        sneaky = "\x00What did Liu\u202e Zhenli\x07 say\u200babout Taiwan?\u2066"
        result = await mallory.slash(channel, "ask", question=sneaky)
        [embed] = result.response.embeds
        assert embed.title == TAIWAN
        assert "Taiwan" in (embed.description or "")


async def test_mentions_and_markdown_in_a_question_are_echoed_inert(make_bot):
    async with simcord.run(make_bot()) as env:
        channel, mallory = _world(env)
        guild_role = "<@&123456789>"
        question = f"@everyone {guild_role} **What** did Liu Zhenli say about `Taiwan`? ||x||"
        await mallory.send(channel, f"<@{env.bot.user.id}> {question}")
        reply = channel.last_message
        [embed] = reply.embeds
        assert embed.title is not None
        assert r"\*\*What\*\*" in embed.title and r"\`Taiwan\`" in embed.title
        assert r"\|\|x\|\|" in embed.title
        assert not reply.mention_everyone and not reply.role_mentions and not reply.mentions
        result = await mallory.slash(channel, "ask", question=TAIWAN, since="@everyone")
        assert result.response.content == "since: '@everyone' is not a date; use YYYY-MM-DD"
        _assert_pings_no_one(env)
        [error] = env.errors
        assert type(error.original).__name__ == "QuestionError"


HOSTILE_ARTICLE = """Harbour workers end strike

Union leader <@111111111111111111> told @everyone and @here at the <@&222222222222222222> rally
that the harbour strike had ended on Monday, \u202eafter a vote\u202c by dock workers, and
urged members to read [the full agreement](https://evil.example/phish) before Friday.
> Quoted lines, # headings and ```code``` stayed in the union's leaflet about the strike.
"""


async def test_a_hostile_article_is_quoted_inert(make_bot, tmp_path: Path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "strike.txt").write_text(HOSTILE_ARTICLE, "utf-8")
    embedder = HashingEmbedder()
    build_index(corpus, tmp_path / "index", Config(), embedder)
    answerer = Answerer(IndexReader(tmp_path / "index"), embedder, AnswerConfig(min_score=0.1))
    async with simcord.run(make_bot(answerer)) as env:
        channel, mallory = _world(env)
        await mallory.slash(channel, "ask", question="Who ended the harbour strike?")
        message = channel.last_message
        [embed] = message.embeds
        text = embed.description or ""
        assert "@everyone" in text and "<@&222222222222222222>" in text  # quoted verbatim…
        assert not message.mention_everyone and not message.role_mentions  # …but inert
        assert not message.mentions
        assert "\u202e" not in text and "\u202c" not in text and "after a vote" in text
        assert r"\[the full agreement](https://evil.example/phish)" in text  # no masked link
        assert r"\`\`\`code\`\`\`" in text
        assert limit_problems(message.content, message.embeds) == []
        _assert_pings_no_one(env)


# ------------------------------------------------------------ who may do what, where


async def test_the_allowlist_covers_every_command_but_not_dms(make_bot):
    bot = make_bot()
    async with simcord.run(bot) as env:
        guild = env.create_guild()
        allowed, elsewhere = guild.create_text_channel("news"), guild.create_text_channel("off")
        mallory = guild.add_member(env.create_user("mallory"))
        bot.settings = replace(bot.settings, channels=(str(allowed.id),))
        for command in ("ask", "sources"):
            options = {"question": TAIWAN} if command == "ask" else {}
            refused = await mallory.slash(elsewhere, command, **options)
            assert refused.ephemeral and refused.response.content == NOT_HERE
        assert [type(e).__name__ for e in env.errors] == ["NotHereError"] * 2
        await mallory.send_dm(TAIWAN)  # DMs are always answered
        reply = mallory.user.dm_channel.last_message
        assert reply.author.id == env.bot.user.id and reply.embeds[0].title == TAIWAN
        assert (await mallory.slash(allowed, "sources")).response.embeds


@pytest.mark.parametrize(
    ("role", "permissions"),
    [
        ("newsbot-admin2", discord.Permissions.none()),  # a look-alike of the admin role
        ("newsbot", discord.Permissions.none()),  # part of its name
        ("Moderators", discord.Permissions(manage_messages=True, kick_members=True)),
    ],
)
async def test_reindex_is_refused_to_look_alike_roles_and_lesser_rights(
    make_bot, role, permissions
):
    bot = make_bot(admin_role="newsbot-admin")
    async with simcord.run(bot) as env:
        guild = env.create_guild()
        channel = guild.create_text_channel("news")
        given = guild.create_role(role, permissions=permissions)
        mallory = guild.add_member(env.create_user("mallory"), roles=[given])
        result = await mallory.slash(channel, "reindex")
        assert result.ephemeral and result.response.content == (
            "Only members with the Manage Server permission or the newsbot-admin role can "
            "rebuild the index."
        )
        assert [type(e).__name__ for e in env.errors] == ["NotAdminError"]
        assert bot.service.stats.articles == 5 and not bot.service.rebuilding
