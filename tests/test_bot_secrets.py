"""The token stays secret: the real bot, logged in to tests/fake_discord.py with every
logger at DEBUG, answers, fails inside a command handler (with a traceback in the
log), shows /sources and refuses /reindex; the token appears in no log record, no
traceback and no reply. (The subprocess case, stdout and stderr of a rejected token,
is in test_bot_gateway.py.)"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from bot.replies import APOLOGY
from bot.run import serve
from index.answer import Answerer
from index.config import AnswerConfig
from index.store import IndexReader
from tests.fake_discord import APP_ID, FakeDiscord

pytestmark = pytest.mark.asyncio

TOKEN = "MTAwMQ.very-secret-part.c2VjcmV0c2VjcmV0c2VjcmV0"
SECRET_PARTS = (TOKEN, "very-secret-part", "c2VjcmV0c2VjcmV0c2VjcmV0")


@pytest_asyncio.fixture
async def server() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord(TOKEN) as fake:
        yield fake


class LeakyAnswerer(Answerer):
    """Fails inside the /ask handler, as a bug would, while the token is in reach."""

    def ask(self, question: str, *args: Any, **kwargs: Any) -> Any:
        if "crash" in question:
            raise RuntimeError("the answerer broke while answering")
        return super().ask(question, *args, **kwargs)


def _reply_to(interaction: dict[str, Any], kind: str) -> Any:
    """The request carrying the reply: a follow-up after a defer, the edited "thinking…"
    placeholder, or the interaction's own callback message."""
    token = interaction["token"]
    webhook = f"/webhooks/{APP_ID}/{token}"
    return {
        "followup": lambda r: r.method == "POST" and r.path == webhook,
        "edit": lambda r: r.method == "PATCH" and r.path.startswith(webhook),
        "callback": lambda r: r.path.endswith(f"{token}/callback") and r.body["type"] == 4,
    }[kind]


async def test_the_token_is_in_no_log_traceback_or_reply(
    server, make_bot, sample_index, real_embedder, caplog, monkeypatch
):
    monkeypatch.setenv("DISCORD_TOKEN", TOKEN)
    caplog.set_level(logging.DEBUG)  # every logger, discord.py's HTTP and gateway ones too
    leaky = LeakyAnswerer(IndexReader(sample_index), real_embedder, AnswerConfig())
    bot = make_bot(leaky, api_base=server.api_base, gateway_url=server.gateway_url)
    running = asyncio.create_task(serve(bot, TOKEN))
    try:
        await server.connected()
        asks = [
            (server.interaction("ask", question="What did Liu Zhenli say about Taiwan?"),
             "followup"),
            (server.interaction("ask", question="please crash now"), "edit"),
            (server.interaction("sources"), "callback"),
            (server.interaction("reindex", permissions=3072), "callback"),  # no Manage Server
            (server.interaction("ask", question="x", since="not a date"), "callback"),
        ]  # fmt: skip
        replies = []
        for interaction, kind in asks:
            await server.dispatch("INTERACTION_CREATE", interaction)
            [reply] = await server.wait_for(_reply_to(interaction, kind))
            replies.append(reply)
    finally:
        await bot.close()
        await running
    assert replies[0].body["embeds"][0]["title"] == "What did Liu Zhenli say about Taiwan?"
    assert APOLOGY in str(replies[1].body)
    assert "What I quote from" in str(replies[2].body)
    assert "can rebuild the index" in str(replies[3].body)
    assert "is not a date" in str(replies[4].body)
    crashes = [r for r in caplog.records if r.exc_info and "broke" in str(r.exc_info[1])]
    assert len(crashes) == 1 and "Traceback" in caplog.text + str(crashes[0].exc_text)
    assert any(r.name.startswith("discord.") and r.levelno == logging.DEBUG for r in caplog.records)
    formatter = logging.Formatter("%(name)s %(message)s")
    logged = "\n".join(formatter.format(record) for record in caplog.records)
    sent = "\n".join(str(r.body) for r in server.requests if r.body is not None)
    for part in SECRET_PARTS:
        assert part not in logged and part not in caplog.text
        assert part not in sent
