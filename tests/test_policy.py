"""The per-user cooldown."""

from __future__ import annotations

from bot.policy import Cooldown


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_one_question_per_user_per_period_and_refusals_do_not_extend_it():
    clock = Clock()
    cooldown = Cooldown(10, clock)
    assert cooldown.wait(1) == 0
    clock.now += 4
    assert cooldown.wait(1) == 6
    assert cooldown.wait(2) == 0  # per user
    clock.now += 5
    assert cooldown.wait(1) == 1  # the refused attempt did not restart the wait
    clock.now += 1
    assert cooldown.wait(1) == 0


def test_zero_seconds_turns_it_off():
    cooldown = Cooldown(0, Clock())
    assert [cooldown.wait(1) for _ in range(3)] == [0, 0, 0]


def test_users_whose_wait_is_over_are_forgotten():
    clock = Clock()
    cooldown = Cooldown(10, clock)
    for user in range(5000):
        cooldown.wait(user)
    clock.now += 11
    cooldown.wait(-1)
    assert cooldown.wait(0) == 0
    assert len(cooldown._last) < 10
