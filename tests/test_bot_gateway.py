"""End to end against tests/fake_discord.py: the real ``newsbot discord`` process logs in
over REST, identifies on the gateway, syncs commands, answers an interaction and a
mention (riding out a 429), and keeps its token secret; in-process, many questions at
once are all answered, in order of arrival, and /reindex reports progress."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import threading
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import pytest_asyncio

from bot import commands
from bot.client import intents
from bot.run import serve
from bot.service import IndexSource
from index.answer import Answerer
from index.build import build_index
from index.config import AnswerConfig, Config, EmbeddingConfig
from index.store import IndexReader
from tests.fake_discord import APP_ID, BOT_ID, GUILD_ID, FakeDiscord, Request
from tests.fakes import HashingEmbedder

pytestmark = pytest.mark.asyncio

REPO = Path(__file__).resolve().parent.parent
TOKEN = "MTAwMQ.fake-secret.Zm9vYmFyYmF6cXV4cXV1eA"
TAIWAN = "What did Liu Zhenli say about Taiwan?"


@pytest_asyncio.fixture
async def server() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord(TOKEN) as fake:
        yield fake


def _config(tmp_path: Path, server: FakeDiscord) -> Path:
    path = tmp_path / "newsbot.toml"
    path.write_text(
        f'[discord]\napi_base = "{server.api_base}"\ngateway_url = "{server.gateway_url}"\n'
        "cooldown_seconds = 0\n",
        "utf-8",
    )
    return path


async def _start_bot(config: Path, index: Path, token: str) -> asyncio.subprocess.Process:
    env = {**os.environ, "DISCORD_TOKEN": token, "PYTHONPATH": str(REPO)}
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "discord",
        "--config",
        str(config),
        "--index-dir",
        str(index),
        cwd=config.parent,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


def _followup_of(interaction: dict[str, Any]) -> Any:
    return lambda r: r.method == "POST" and r.path == f"/webhooks/{APP_ID}/{interaction['token']}"


async def test_the_bot_process_connects_answers_and_rides_out_a_429(server, sample_index, tmp_path):
    bot = await _start_bot(_config(tmp_path, server), sample_index, TOKEN)
    try:
        identify = await server.connected()
        assert identify["intents"] == intents().value == (1 << 0) | (1 << 9) | (1 << 12) | (1 << 15)
        [login] = await server.wait_for(lambda r: r.path == "/users/@me")
        [sync] = await server.wait_for(lambda r: r.method == "PUT")
        assert sync.path == f"/applications/{APP_ID}/commands"
        assert {c["name"] for c in sync.body} == {"ask", "sources", "reindex"}
        assert login.at < sync.at

        ask = server.interaction("ask", question=TAIWAN)
        server.rate_limit("POST", f"^/webhooks/{APP_ID}/")
        await server.dispatch("INTERACTION_CREATE", ask)
        [answer] = await server.wait_for(_followup_of(ask))
        [embed] = answer.body["embeds"]
        assert embed["title"] == TAIWAN and "issue of Taiwan" in embed["description"]
        limited = [r for r in server.requests if r.status == 429]
        assert [r.path for r in limited] == [answer.path] and limited[0].at < answer.at
        [defer] = await server.wait_for(lambda r: r.path.endswith("/callback"))
        assert defer.body["type"] == 5 and defer.at < answer.at

        server.rate_limit("POST", r"^/channels/\d+/messages$")  # the bot's own REST client
        await server.dispatch(
            "MESSAGE_CREATE", server.message(f"<@{BOT_ID}> Why was Li Shangfu sanctioned?")
        )
        [reply] = await server.wait_for(lambda r: r.path.endswith("/messages"))
        assert "sanctioned" in reply.body["embeds"][0]["description"]
        assert reply.body["allowed_mentions"]["parse"] == []
        assert [r.path for r in server.requests if r.status == 429] == [answer.path, reply.path]
    finally:
        bot.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(bot.communicate(), 60)
    assert bot.returncode == 0, err.decode()
    assert TOKEN not in out.decode() + err.decode()


async def test_a_rejected_token_is_one_error_line_and_never_shown(server, sample_index, tmp_path):
    wrong = "MTAwMQ.rejected-secret.c2VjcmV0c2VjcmV0c2VjcmV0"
    bot = await _start_bot(_config(tmp_path, server), sample_index, wrong)
    out, err = await asyncio.wait_for(bot.communicate(), 120)
    assert bot.returncode == 1
    text = out.decode() + err.decode()
    assert wrong not in text and "rejected-secret" not in text
    assert out == b""
    assert err.decode() == (
        "error: Discord rejected the token in DISCORD_TOKEN: reset it in the developer portal "
        "(Bot → Reset Token) and set it again\n"
    )
    assert [r.path for r in server.requests] == ["/users/@me"]
    assert server.requests[0].status == 401


async def test_a_missing_token_is_one_error_line(tmp_path, sample_index, server):
    bot = await _start_bot(_config(tmp_path, server), sample_index, "")
    out, err = await asyncio.wait_for(bot.communicate(), 60)
    assert bot.returncode == 1 and out == b""
    assert err.decode().startswith("error: DISCORD_TOKEN is not set")
    assert server.requests == []


# ------------------------------------------------------------ in-process, many at once


class RecordingAnswerer(Answerer):
    """The real answerer, noting the order in which questions reach it."""

    def __init__(self, *args: Any):
        super().__init__(*args)
        self.order: list[str] = []

    def ask(self, question: str, *args: Any, **kwargs: Any) -> Any:
        self.order.append(question)
        return super().ask(question, *args, **kwargs)


async def _ask_many(server: FakeDiscord, bot: Any, questions: list[str]) -> list[Request]:
    running = asyncio.create_task(serve(bot, TOKEN))
    try:
        await server.connected()
        sent = [server.interaction("ask", question=q) for q in questions]
        for interaction in sent:
            await server.dispatch("INTERACTION_CREATE", interaction)
        return [(await server.wait_for(_followup_of(i)))[0] for i in sent]
    finally:
        await bot.close()
        await running


def _questions(n: int) -> list[str]:
    base = [TAIWAN, "Why was Li Shangfu sanctioned?", "Which chef won the baking contest?"]
    return [f"{base[i % 3]} ({i})" for i in range(n)]


async def test_thirty_questions_at_once_are_all_answered(server, make_bot, caplog):
    bot = make_bot(api_base=server.api_base, gateway_url=server.gateway_url)
    questions = _questions(30)
    answers = await _ask_many(server, bot, questions)
    assert [a.body["embeds"][0]["title"] for a in answers] == questions
    assert all(a.body["embeds"][0]["description"] for a in answers)
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
    assert len([r for r in server.requests if r.path.endswith("/callback")]) == 30


async def test_questions_start_in_order_of_arrival(server, make_bot, sample_index, real_embedder):
    recording = RecordingAnswerer(IndexReader(sample_index), real_embedder, AnswerConfig())
    bot = make_bot(recording, api_base=server.api_base, gateway_url=server.gateway_url, workers=1)
    questions = _questions(12)
    await _ask_many(server, bot, questions)
    assert recording.order == questions


async def test_a_development_guild_gets_the_commands(server, make_bot):
    bot = make_bot(api_base=server.api_base, gateway_url=server.gateway_url, guild_id=GUILD_ID)
    running = asyncio.create_task(serve(bot, TOKEN))
    try:
        [sync] = await server.wait_for(lambda r: r.method == "PUT")
        assert sync.path == f"/applications/{APP_ID}/guilds/{GUILD_ID}/commands"
        assert {c["name"] for c in sync.body} == {"ask", "sources", "reindex"}
    finally:
        await bot.close()
        await running


class GatedEmbedder(HashingEmbedder):
    """Embeds only once ``gate`` is open, so a rebuild lasts as long as a test needs."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()

    def embed_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        assert self.gate.wait(60), "the test never opened the gate"
        return super().embed_passages(texts, progress)


async def test_reindex_reports_progress_then_the_result(
    server, make_bot, corpus_copy, tmp_path, monkeypatch
):
    monkeypatch.setattr(commands, "PROGRESS_EVERY", 0.05)
    embedder = GatedEmbedder()
    config = replace(Config(), embedding=EmbeddingConfig(model=embedder.name))
    build_index(corpus_copy, tmp_path / "index", config, HashingEmbedder())
    # A new article, so the rebuild must embed (unchanged passages come from the cache).
    story = "The harbour reopened on Monday after three weeks of repairs to the sea wall. " * 6
    (corpus_copy / "new.txt").write_text(f"Harbour reopens\n\n{story}\n")
    answerer = Answerer(IndexReader(tmp_path / "index"), embedder, AnswerConfig())
    source = IndexSource(config, tmp_path / "index", corpus_copy)
    bot = make_bot(answerer, source, api_base=server.api_base, gateway_url=server.gateway_url)
    running = asyncio.create_task(serve(bot, TOKEN))
    try:
        await server.connected()
        manage_server = 1 << 5
        await server.dispatch("INTERACTION_CREATE", server.interaction("reindex", manage_server))
        edited = "/messages/@original"
        [progress] = await server.wait_for(lambda r: r.path.endswith(edited))
        assert progress.body["content"].startswith("Rebuilding the index from the corpus… (")
        embedder.gate.set()
        await server.wait_for(lambda r: r.path.endswith(edited) and "rebuilt" in r.body["content"])
        edits = [r.body["content"] for r in server.requests if r.path.endswith(edited)]
        assert edits[-1].startswith("Index rebuilt: 6 articles, ")
        assert all(e.startswith("Rebuilding") for e in edits[:-1])
    finally:
        await bot.close()
        await running
