"""Who may do what, where and how often: the per-user cooldown, the channel
allowlist and the /reindex permission."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection

import discord

from index.config import DiscordConfig


class Cooldown:
    """At most one question per user every ``seconds``. A refused attempt does not
    restart the wait, so a user is told the true time left."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic):
        self.seconds = seconds
        self._clock = clock
        self._last: dict[int, float] = {}

    def wait(self, user_id: int) -> float:
        """0 and the question counts when the user may ask; else the seconds left."""
        if self.seconds <= 0:
            return 0.0
        now = self._clock()
        left = self._last.get(user_id, -float("inf")) + self.seconds - now
        if left > 0:
            return left
        self._last[user_id] = now
        if len(self._last) > 4096:  # forget users whose wait is over, so memory stays small
            self._last = {u: t for u, t in self._last.items() if t + self.seconds > now}
        return 0.0


def channel_allowed(allowed: Collection[str], channel: object) -> bool:
    """Whether the bot answers in ``channel``: DMs always, threads as their parent,
    and any channel when the allowlist is empty."""
    kind = getattr(channel, "type", None)
    if not allowed or kind in (discord.ChannelType.private, discord.ChannelType.group):
        return True  # by type, as a DM may come as a PartialMessageable
    if isinstance(channel, discord.Thread):
        return str(channel.id) in allowed or str(channel.parent_id) in allowed
    return str(getattr(channel, "id", "")) in allowed


def may_reindex(
    settings: DiscordConfig, user: discord.User | discord.Member, permissions: discord.Permissions
) -> bool:
    """Members with Manage Server (in the channel asked from) or the configured admin role."""
    if permissions.manage_guild:
        return True
    if not settings.admin_role or not isinstance(user, discord.Member):
        return False
    wanted = settings.admin_role.strip().lower()
    return any(wanted in (str(role.id), role.name.lower()) for role in user.roles)
