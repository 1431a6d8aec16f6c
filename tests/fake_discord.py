"""A small Discord-compatible server for end-to-end tests: REST and gateway on 127.0.0.1.

Just enough of Discord for newsbot: login, application info, command sync, interaction
callbacks and follow-ups, channel messages and typing; a gateway that says HELLO, takes
IDENTIFY, sends READY and GUILD_CREATE, answers heartbeats and then relays whatever the
test dispatches. Every REST request is recorded. ``rate_limit`` arms a 429 for a route.
A real discord.py client, in this process or another, talks to it as to Discord.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

API = "/api/v10"
APP_ID, BOT_ID, GUILD_ID, CHANNEL_ID, USER_ID = 1000, 1001, 2000, 2001, 3000
STAMP = "2026-01-01T00:00:00+00:00"
JSON = {"Content-Type": "application/json"}  # exactly: discord.py compares the whole header


@dataclass
class Request:
    """One REST request as the server saw it (path without the /api/v10 prefix)."""

    method: str
    path: str
    body: Any
    status: int = 200
    at: float = field(default_factory=time.monotonic)


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        body=json.dumps(data).encode(), status=status, headers={**JSON, **(headers or {})}
    )


def user(user_id: int, name: str, bot: bool = False) -> dict[str, Any]:
    return {
        "id": str(user_id),
        "username": name,
        "discriminator": "0",
        "global_name": name,
        "avatar": None,
        "bot": bot,
        "public_flags": 0,
        "flags": 0,
    }


class FakeDiscord:
    """The server. Start it (``start()`` or ``async with``), point the bot at
    ``api_base`` and ``gateway_url``."""

    def __init__(self, token: str):
        self.token = token
        self.requests: list[Request] = []
        self.identify: asyncio.Future[dict[str, Any]] | None = None
        self._changed = asyncio.Condition()
        self._socket: web.WebSocketResponse | None = None
        self._sequence = itertools.count(1)
        self._ids = itertools.count(5000)
        self._limits: list[tuple[str, re.Pattern[str], float]] = []
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        self.identify = asyncio.get_running_loop().create_future()
        app = web.Application(middlewares=[self._record])
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", API + "/{path:.*}", self._rest)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def close(self) -> None:
        if self._socket is not None:
            await self._socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}{API}"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    # ------------------------------------------------------------------ for tests

    async def connected(self, timeout: float = 120) -> dict[str, Any]:
        """Wait for the bot to identify on the gateway; its IDENTIFY payload."""
        assert self.identify is not None, "start() the server first"
        return await asyncio.wait_for(asyncio.shield(self.identify), timeout)

    def rate_limit(self, method: str, path: str, retry_after: float = 0.25) -> None:
        """Answer the next request matching ``method`` and the ``path`` regex with a 429."""
        self._limits.append((method, re.compile(path), retry_after))

    async def wait_for(
        self, matches: Callable[[Request], bool], count: int = 1, timeout: float = 120
    ) -> list[Request]:
        """The first ``count`` recorded requests that match, waiting for them to arrive."""

        def found() -> list[Request]:
            return [r for r in self.requests if r.status < 300 and matches(r)]

        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: len(found()) >= count), timeout)
        return found()[:count]

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send a gateway event to the connected bot."""
        assert self._socket is not None, "no bot is connected"
        await self._socket.send_json({"op": 0, "s": next(self._sequence), "t": event, "d": data})

    def interaction(self, name: str, permissions: int = 3072, **options: str) -> dict[str, Any]:
        """An INTERACTION_CREATE payload for ``/name`` used by the test user in the channel,
        who has ``permissions`` there (default: view the channel and send messages)."""
        interaction_id = next(self._ids)
        return {
            "id": str(interaction_id),
            "application_id": str(APP_ID),
            "type": 2,
            "token": f"interaction-token-{interaction_id}",
            "version": 1,
            "data": {
                "id": "900",
                "name": name,
                "type": 1,
                "options": [
                    {"name": key, "type": 3, "value": value} for key, value in options.items()
                ],
            },
            "guild_id": str(GUILD_ID),
            "channel_id": str(CHANNEL_ID),
            "channel": _channel(),
            "member": {
                "user": user(USER_ID, "reader"),
                "roles": [],
                "joined_at": STAMP,
                "deaf": False,
                "mute": False,
                "flags": 0,
                "permissions": str(permissions),
            },
            "app_permissions": "379968",
            "locale": "en-US",
            "guild_locale": "en-US",
            "entitlements": [],
            "authorizing_integration_owners": {},
            "context": 0,
            "attachment_size_limit": 26214400,
        }

    def message(self, content: str, mentions_bot: bool = True) -> dict[str, Any]:
        """A MESSAGE_CREATE payload from the test user in the channel."""
        mentions = [user(BOT_ID, "newsbot", bot=True)] if mentions_bot else []
        return _message(next(self._ids), user(USER_ID, "reader"), content, mentions=mentions)

    # ------------------------------------------------------------------ REST

    @web.middleware
    async def _record(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if not request.path.startswith(API):
            return await handler(request)
        body = await request.json() if request.can_read_body else None
        seen = Request(request.method, request.path[len(API) :], body)
        response = self._limited(seen) or await handler(request)
        seen.status = response.status
        async with self._changed:
            self.requests.append(seen)
            self._changed.notify_all()
        return response

    def _limited(self, seen: Request) -> web.Response | None:
        for limit in self._limits:
            method, pattern, retry_after = limit
            if method == seen.method and pattern.search(seen.path):
                self._limits.remove(limit)
                # discord.py retries a 429 only with a Via header (else it is Cloudflare).
                return _json(
                    {
                        "message": "You are being rate limited.",
                        "retry_after": retry_after,
                        "global": False,
                    },
                    429,
                    {"Via": "1.1 google"},
                )
        return None

    async def _rest(self, request: web.Request) -> web.Response:
        path = request.path[len(API) :]
        authorized = request.headers.get("Authorization") == f"Bot {self.token}"
        if not path.startswith(("/interactions/", "/webhooks/")) and not authorized:
            return _json({"message": "401: Unauthorized", "code": 0}, 401)
        for method, pattern, handle in self._routes():
            match = re.fullmatch(pattern, path)
            if match and method == request.method:
                return await handle(request, match)
        return _json({"message": "404: Not Found", "code": 0}, 404)

    def _routes(self) -> list[tuple[str, str, Any]]:
        return [
            ("GET", r"/users/@me", self._me),
            ("GET", r"/oauth2/applications/@me", self._application),
            ("PUT", r"/applications/\d+(/guilds/\d+)?/commands", self._sync),
            ("POST", r"/interactions/(\d+)/([^/]+)/callback", self._callback),
            ("POST", r"/webhooks/\d+/[^/]+", self._followup),
            ("PATCH", r"/webhooks/\d+/[^/]+/messages/@original", self._followup),
            ("POST", r"/channels/(\d+)/messages", self._channel_message),
            ("POST", r"/channels/\d+/typing", self._no_content),
        ]

    async def _me(self, request: web.Request, match: re.Match[str]) -> web.Response:
        return _json(user(BOT_ID, "newsbot", bot=True))

    async def _application(self, request: web.Request, match: re.Match[str]) -> web.Response:
        return _json(
            {
                "id": str(APP_ID),
                "name": "newsbot",
                "icon": None,
                "description": "",
                "bot_public": True,
                "bot_require_code_grant": False,
                "flags": 0,
                "owner": user(USER_ID, "reader"),
                "verify_key": "0" * 64,
                "summary": "",
                "rpc_origins": [],
            }
        )

    async def _sync(self, request: web.Request, match: re.Match[str]) -> web.Response:
        commands = await request.json()
        return _json(
            [
                {**c, "id": str(900 + n), "application_id": str(APP_ID), "version": "1"}
                for n, c in enumerate(commands)
            ]
        )

    async def _callback(self, request: web.Request, match: re.Match[str]) -> web.Response:
        body = await request.json()
        loading = body["type"] == 5
        ephemeral = bool((body.get("data") or {}).get("flags", 0) & 64)
        return _json(
            {
                "interaction": {
                    "id": match[1],
                    "type": 2,
                    "response_message_loading": loading,
                    "response_message_ephemeral": ephemeral,
                },
                "resource": {"type": body["type"]},
            }
        )

    async def _followup(self, request: web.Request, match: re.Match[str]) -> web.Response:
        return _json(self._bot_message(await request.json()))

    async def _channel_message(self, request: web.Request, match: re.Match[str]) -> web.Response:
        return _json(self._bot_message(await request.json(), int(match[1])))

    async def _no_content(self, request: web.Request, match: re.Match[str]) -> web.Response:
        return web.Response(status=204)

    def _bot_message(self, body: dict[str, Any], channel_id: int = CHANNEL_ID) -> dict[str, Any]:
        return _message(
            next(self._ids),
            user(BOT_ID, "newsbot", bot=True),
            body.get("content") or "",
            body.get("embeds") or [],
            body.get("components") or [],
            channel_id,
        )

    # ------------------------------------------------------------------ gateway

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        await socket.send_json({"op": 10, "d": {"heartbeat_interval": 41250}})
        async for frame in socket:
            if frame.type != WSMsgType.TEXT:
                break
            await self._on_frame(socket, json.loads(frame.data))
        return socket

    async def _on_frame(self, socket: web.WebSocketResponse, payload: dict[str, Any]) -> None:
        if payload["op"] == 1:
            await socket.send_json({"op": 11})
        elif payload["op"] == 2:
            if payload["d"]["token"] != self.token:
                await socket.close(code=4004, message=b"Authentication failed.")
                return
            self._socket = socket
            await self.dispatch("READY", self._ready())
            await self.dispatch("GUILD_CREATE", _guild())
            assert self.identify is not None
            if not self.identify.done():
                self.identify.set_result(payload["d"])

    def _ready(self) -> dict[str, Any]:
        return {
            "v": 10,
            "user": user(BOT_ID, "newsbot", bot=True),
            "session_id": "session",
            "resume_gateway_url": self.gateway_url,
            "guilds": [{"id": str(GUILD_ID), "unavailable": True}],
            "application": {"id": str(APP_ID), "flags": 0},
        }


def _channel() -> dict[str, Any]:
    return {
        "id": str(CHANNEL_ID),
        "type": 0,
        "name": "news",
        "position": 0,
        "permission_overwrites": [],
        "guild_id": str(GUILD_ID),
        "parent_id": None,
    }


def _guild() -> dict[str, Any]:
    everyone = {
        "id": str(GUILD_ID),
        "name": "@everyone",
        "permissions": "379968",
        "position": 0,
        "color": 0,
        "hoist": False,
        "managed": False,
        "mentionable": False,
        "flags": 0,
    }
    bot_member = {
        "user": user(BOT_ID, "newsbot", bot=True),
        "roles": [],
        "joined_at": STAMP,
        "deaf": False,
        "mute": False,
        "flags": 0,
    }
    return {
        "id": str(GUILD_ID),
        "name": "Newsroom",
        "owner_id": str(USER_ID),
        "icon": None,
        "features": [],
        "emojis": [],
        "stickers": [],
        "roles": [everyone],
        "member_count": 2,
        "large": False,
        "unavailable": False,
        "joined_at": STAMP,
        "members": [bot_member],
        "channels": [_channel()],
        "threads": [],
        "presences": [],
        "voice_states": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "premium_tier": 0,
        "preferred_locale": "en-US",
    }


def _message(
    message_id: int,
    author: dict[str, Any],
    content: str,
    embeds: list[Any] | None = None,
    components: list[Any] | None = None,
    channel_id: int = CHANNEL_ID,
    mentions: list[Any] | None = None,
) -> dict[str, Any]:
    return {
        "id": str(message_id),
        "channel_id": str(channel_id),
        "guild_id": str(GUILD_ID),
        "author": author,
        "content": content,
        "timestamp": STAMP,
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": mentions or [],
        "mention_roles": [],
        "attachments": [],
        "embeds": embeds or [],
        "components": components or [],
        "pinned": False,
        "type": 0,
        "flags": 0,
    }
