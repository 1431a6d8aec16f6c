"""Publication dates in the many ways news pages write them, reduced to ISO dates."""

from __future__ import annotations

import re
import warnings
from datetime import date, datetime

from dateutil import parser as date_parser

_ISO_LIKE = re.compile(r"(?<!\d)(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)")
_YEAR = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")
_NOISE = re.compile(
    r"\b(?:published|updated|posted|last updated|modified|date|on|at)\b\s*:?|[|]", re.I
)
_TIMEZONE = re.compile(r"\b(?:GMT|UTC)[+-]?\d{0,2}(?::?\d{2})?\b")


def parse_date(text: str) -> str | None:
    """Return the date written in ``text`` as ``YYYY-MM-DD``, or None if there is none.

    A four-digit year must be present, so "Thursday" or "22:08" alone never yield a
    date (dateutil would fill in today's).
    """
    iso = _ISO_LIKE.search(text)
    if iso:
        return _valid(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
    if not _YEAR.search(text):
        return None
    cleaned = _TIMEZONE.sub(" ", _NOISE.sub(" ", text))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # unknown time zone names ("ET") don't matter here
            parsed = date_parser.parse(cleaned, fuzzy=True, default=datetime(1900, 1, 1))
    except (ValueError, OverflowError):
        return None
    return _valid(parsed.year, parsed.month, parsed.day)


def _valid(year: int, month: int, day: int) -> str | None:
    try:
        found = date(year, month, day)
    except ValueError:
        return None
    return found.isoformat() if 1900 <= found.year <= 2100 else None
