"""/reindex through simcord: refused without the rights, rebuilt and swapped in with
them, and a failed rebuild reported while the old index keeps answering."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Any

import discord
import pytest
import simcord

from bot import service as service_module
from bot.service import IndexSource
from index.answer import Answerer
from index.build import BuildReport, build_index
from index.config import AnswerConfig, Config, EmbeddingConfig
from index.store import IndexReader
from tests.fakes import HashingEmbedder

pytestmark = pytest.mark.asyncio

TAIWAN = "What did Liu Zhenli say about Taiwan?"


@pytest.fixture
def sample_bot(make_bot, corpus_copy: Path, tmp_path: Path, fake_embedder: HashingEmbedder):
    """A bot answering from an index of the sample corpus, rebuilt from ``corpus_copy``."""
    config = replace(Config(), embedding=EmbeddingConfig(model=fake_embedder.name))
    root = tmp_path / "index"
    build_index(corpus_copy, root, config, fake_embedder)
    answerer = Answerer(IndexReader(root), fake_embedder, AnswerConfig(min_score=0.2))
    return make_bot(answerer, IndexSource(config, root, corpus_copy))


async def test_reindex_is_refused_without_manage_server_or_the_admin_role(make_bot):
    bot = make_bot(admin_role="newsbot-admin")
    async with simcord.run(bot) as env:
        guild = env.create_guild()
        channel = guild.create_text_channel("news")
        alice = guild.add_member(env.create_user("alice"))
        guild.create_role("newsbot-admin")
        result = await alice.slash(channel, "reindex")
        assert result.ephemeral
        assert result.response.content == (
            "Only members with the Manage Server permission or the newsbot-admin role can "
            "rebuild the index."
        )
        assert type(env.errors[0]).__name__ == "NotAdminError"
        assert bot.service.stats.articles == 5


NEW_ARTICLE = """Springfield approves bicycle lanes

The Springfield city council approved a network of protected bicycle lanes on Monday,
after a year of public hearings. The plan adds forty kilometres of lanes along the main
avenues and will be finished within three years, the mayor told reporters at city hall.
"""


@pytest.mark.parametrize("how", ["manage_server", "admin_role"])
async def test_reindex_rebuilds_and_swaps_in_the_new_index(
    make_bot, corpus_copy: Path, tmp_path: Path, real_embedder, how: str
):
    root = tmp_path / "index"
    build_index(corpus_copy, root, Config(), real_embedder)
    answerer = Answerer(IndexReader(root), real_embedder, AnswerConfig())
    bot = make_bot(answerer, IndexSource(Config(), root, corpus_copy), admin_role="Editors")
    async with simcord.run(bot) as env:
        guild = env.create_guild()
        channel = guild.create_text_channel("news")
        if how == "manage_server":
            role = guild.create_role("Mods", permissions=discord.Permissions(manage_guild=True))
        else:
            role = guild.create_role("Editors")
        admin = guild.add_member(env.create_user("admin"), roles=[role])
        (corpus_copy / "005_springfield.txt").write_text(NEW_ARTICLE, "utf-8")
        result = await admin.slash(channel, "reindex")
        assert result.ephemeral
        assert result.response.content.startswith("Index rebuilt: 6 articles, ")
        asked = await admin.slash(
            channel, "ask", question="What did the Springfield council approve?"
        )
        assert "bicycle lanes" in (asked.response.embeds[0].description or "")
        assert "index of 6 articles" in (asked.response.embeds[0].footer.text or "")


async def test_a_failed_rebuild_is_reported_and_the_old_index_keeps_answering(
    sample_bot, corpus_copy: Path
):
    bot = sample_bot
    async with simcord.run(bot) as env:
        guild = env.create_guild()
        channel = guild.create_text_channel("news")
        mods = guild.create_role("Mods", permissions=discord.Permissions(manage_guild=True))
        admin = guild.add_member(env.create_user("admin"), roles=[mods])
        for article in corpus_copy.iterdir():
            article.unlink()
        result = await admin.slash(channel, "reindex")
        assert result.response.content == (
            f"The rebuild failed: no articles to index in {corpus_copy}: add .txt, .md, .html or "
            ".jsonl files. The previous index is still answering."
        )
        asked = await admin.slash(channel, "ask", question=TAIWAN)
        assert "index of 5 articles" in (asked.response.embeds[0].footer.text or "")


async def test_a_corrupt_new_build_is_refused_and_the_old_index_keeps_answering(
    sample_bot, corpus_copy: Path, monkeypatch
):
    bot = sample_bot

    def build_then_truncate(*args: Any, **kwargs: Any) -> BuildReport:
        # As a disk fault between writing the new build and opening it.
        report = build_index(*args, **kwargs)
        vectors = report.path / "vectors.faiss"
        vectors.write_bytes(vectors.read_bytes()[:100])
        return report

    monkeypatch.setattr(service_module, "build_index", build_then_truncate)
    async with simcord.run(bot) as env:
        guild = env.create_guild()
        channel = guild.create_text_channel("news")
        mods = guild.create_role("Mods", permissions=discord.Permissions(manage_guild=True))
        admin = guild.add_member(env.create_user("admin"), roles=[mods])
        (corpus_copy / "005_springfield.txt").write_text(NEW_ARTICLE, "utf-8")
        result = await admin.slash(channel, "reindex")
        content = result.response.content
        assert content.startswith("The rebuild failed: index at ")
        assert "vectors.faiss does not match its checksum" in content
        assert content.endswith("The previous index is still answering.")
        assert bot.service.stats.articles == 5
        asked = await admin.slash(channel, "ask", question=TAIWAN)
        assert "index of 5 articles" in (asked.response.embeds[0].footer.text or "")
        assert "Taiwan" in (asked.response.embeds[0].description or "")


async def test_a_build_made_by_a_script_is_quoted_without_a_restart(
    sample_bot, corpus_copy: Path, fake_embedder: HashingEmbedder
):
    bot = sample_bot
    source = bot.service.source
    question = "What did the Springfield council approve?"
    async with simcord.run(bot) as env:
        guild = env.create_guild()
        channel = guild.create_text_channel("news")
        alice = guild.add_member(env.create_user("alice"))
        before = await alice.slash(channel, "ask", question=question)
        assert "bicycle lanes" not in (before.response.embeds[0].description or "")
        (corpus_copy / "005_springfield.txt").write_text(NEW_ARTICLE, "utf-8")
        build_index(corpus_copy, source.root, source.config, fake_embedder)  # as a script would
        await env.advance_time(2)  # the bot looks at `current` at most once a second
        for _ in range(100):  # the new build is opened in the background meanwhile
            asked = await alice.slash(channel, "ask", question=question)
            embed = asked.response.embeds[0]
            if "index of 6 articles" in (embed.footer.text or ""):
                break
            await asyncio.sleep(0.1)
        assert "bicycle lanes" in (embed.description or "")
        assert "Springfield approves bicycle lanes" in (embed.description or "")  # its citation
