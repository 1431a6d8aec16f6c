"""Running the bot: the token only from the environment, endpoints from config."""

from __future__ import annotations

import pytest
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot.run import DiscordError, discord_endpoints, discord_token


def test_the_token_comes_from_discord_token_only():
    assert discord_token({"DISCORD_TOKEN": "  abc.def  \n"}) == "abc.def"
    for environ in ({}, {"DISCORD_TOKEN": "   "}, {"NEWSBOT_DISCORD_TOKEN": "abc"}):
        with pytest.raises(DiscordError, match="DISCORD_TOKEN is not set"):
            discord_token(environ)


def test_endpoints_are_set_for_the_run_and_restored_after():
    before = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    with discord_endpoints("http://127.0.0.1:9/api/v10/", "ws://127.0.0.1:9/gateway"):
        assert Route("GET", "/users/@me").url == "http://127.0.0.1:9/api/v10/users/@me"
        assert str(DiscordWebSocket.DEFAULT_GATEWAY) == "ws://127.0.0.1:9/gateway"
    after = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    assert after == before
    assert Route("GET", "/users/@me").url == "https://discord.com/api/v10/users/@me"
