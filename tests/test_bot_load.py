"""Load through simcord: 500 questions from 50 users within a simulated minute, half by
/ask and half by mention, to the real bot and the real answerer over the sample index.
With the per-user cooldown every question is either answered or politely refused, and
none is lost. Timing and memory figures are measured by bench/hardening_load.py, not
asserted here."""

from __future__ import annotations

from typing import Any

import pytest
import simcord

from bot.replies import limit_problems

pytestmark = pytest.mark.asyncio

QUESTIONS = [
    "What did Liu Zhenli say about Taiwan?",
    "Why was Li Shangfu sanctioned?",
    "When did the US disinvite China from RIMPAC?",
    "Which chef won the baking contest?",
]
USERS, ROUNDS, EVERY = 50, 10, 6.0  # each user asks every 6 s: 500 questions in a minute
COOLDOWN = 30.0  # so only a user's questions at 0 s and 30 s are answered
SLOW_DOWN = "You're asking a little fast; please wait "


async def _ask(env: simcord.Env, channel: Any, member: Any, n: int, question: str) -> str:
    """Ask as ``member`` (by /ask or by mention) and classify the reply that came back."""
    if n % 2 == 0:
        result = await member.slash(channel, "ask", question=question)
        message = result.response
        if result.ephemeral and message.content.startswith(SLOW_DOWN) and not result.deferred:
            return "limited"
        [embed] = message.embeds
        assert limit_problems(message.content, message.embeds) == []
        return "answered" if embed.title == question else "wrong"
    sent = await member.send(channel, f"<@{env.bot.user.id}> {question}")
    reply = channel.last_message
    assert reply.author.id == env.bot.user.id and reply.reference.message_id == sent.id
    if reply.content.startswith(SLOW_DOWN):
        return "limited"
    return "answered" if reply.embeds[0].title == question else "wrong"


async def test_500_questions_from_50_users_in_a_minute_are_all_accounted_for(make_bot):
    now = [0.0]
    bot = make_bot(cooldown_seconds=COOLDOWN, clock=lambda: now[0])
    outcomes: dict[str, int] = {"answered": 0, "limited": 0, "wrong": 0}
    async with simcord.run(bot) as env:
        guild = env.create_guild()
        channel = guild.create_text_channel("news")
        members = [guild.add_member(env.create_user(f"reader{n}")) for n in range(USERS)]
        for round_ in range(ROUNDS):
            for n, member in enumerate(members):
                question = QUESTIONS[(round_ + n) % len(QUESTIONS)]
                outcomes[await _ask(env, channel, member, n, question)] += 1
            now[0] += EVERY
        assert not env.errors
    assert sum(outcomes.values()) == USERS * ROUNDS == 500
    # Asked at 0, 6, 12, … 54 s with a 30 s cooldown: the questions at 0 and 30 s are
    # answered, the other eight are told how long to wait.
    assert outcomes == {"answered": 100, "limited": 400, "wrong": 0}
    assert len(bot.cooldown._last) == USERS  # one entry per user, no growth per question
