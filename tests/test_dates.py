"""Publication dates in the formats met in practice."""

from __future__ import annotations

import pytest

from index.dates import parse_date


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("date 2021-01-28 Alexa", "2021-01-28"),
        ("Published: 22:08, October 29, 2020 ", "2020-10-29"),
        ("2021/01/28 17:46", "2021-01-28"),
        ("Updated : 2021-01-28 18:37 GMT+08:00", "2021-01-28"),
        ("2023-09-28T12:00:00+00:00", "2023-09-28"),
        ("Oct 5, 2023", "2023-10-05"),
        ("5 January 2021", "2021-01-05"),
        ("Thursday 22:08", None),
        ("2021-02-30", None),
        ("", None),
    ],
)
def test_parse_date(text, expected):
    assert parse_date(text) == expected
