"""The buttons' custom ids and the record of recent answers behind them."""

from __future__ import annotations

import re

from bot.controls import AnswerButton, Asked, RecentAnswers, answer_view
from index.models import Answer, IndexInfo

ANSWER = Answer("Q?", True, (), IndexInfo("2026-01-01T00:00:00Z", 1, 1))


def test_the_oldest_answers_are_forgotten_first():
    answers = RecentAnswers(size=2)
    keys = [answers.remember(Asked(ANSWER, n)) for n in range(3)]
    assert answers.get(keys[0]) is None
    assert [answers.get(k).next_offset for k in keys[1:]] == [1, 2]
    assert len(set(keys)) == 3


def test_custom_ids_carry_the_action_and_key_and_match_the_template():
    key = RecentAnswers().remember(Asked(ANSWER, 3))
    view = answer_view(key, more=True)
    ids = [item.custom_id for item in view.children]
    assert ids == [f"newsbot:more:{key}", f"newsbot:up:{key}", f"newsbot:down:{key}"]
    template = AnswerButton.__discord_ui_compiled_template__
    assert all(re.fullmatch(template, i) and len(i) <= 100 for i in ids)
    assert [i.custom_id for i in answer_view(key, more=False).children] == ids[1:]
