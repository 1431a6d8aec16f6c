"""Reading a question: its clauses and the dates it names.

Questions over news often join several facts ("Which company, reported by
TechCrunch, built X and plans Y, while Fortune says Z?"); each clause is usually
answered by a different passage, so retrieval can look for each one. Dates named
in a question ("the report on October 1, 2023") point at articles published then.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from index.dates import parse_date

_SPLIT = re.compile(
    r",\s+(?!\d{4}\b)(?:and\s+|while\s+|whereas\s+|but\s+|or\s+)?"
    r"|\s+(?:while|whereas|before|after|and then|compared to|as well as)\s+"
    r"|;\s+|\s+and\s+(?=(?:the|a|an|does|did|is|was|has)\b)",
    re.IGNORECASE,
)
_MIN_WORDS = 4
_MAX_CLAUSES = 5
_MONTHS = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_DATE = re.compile(
    rf"\b{_MONTHS}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}\b"
    rf"|\b\d{{1,2}}\s+{_MONTHS}\s+\d{{4}}\b|\b\d{{4}}-\d{{2}}-\d{{2}}\b"
)


def clauses(question: str) -> list[str]:
    """The question's clauses of at least a few words; [] when it has only one."""
    parts = [p.strip(" ?.,") for p in _SPLIT.split(question) if p and p.strip(" ?.,")]
    merged: list[str] = []
    for part in parts:
        if merged and len(part.split()) < _MIN_WORDS:
            merged[-1] = f"{merged[-1]} {part}"
        else:
            merged.append(part)
    if len(merged) > 1 and len(merged[0].split()) < _MIN_WORDS:
        merged[1] = f"{merged[0]} {merged[1]}"
        merged.pop(0)
    return merged[:_MAX_CLAUSES] if len(merged) > 1 else []


def named_dates(question: str) -> set[str]:
    """ISO dates written in the question, each with the day before and after (an
    article is often dated a day off the event, by time zone or by update)."""
    found: set[str] = set()
    for match in _DATE.finditer(question):
        parsed = parse_date(match.group())
        if parsed:
            day = date.fromisoformat(parsed)
            found.update((day + timedelta(days=d)).isoformat() for d in (-1, 0, 1))
    return found
