"""Votes on answers (👍/👎), kept in SQLite next to the index for later review.

Each vote stores the question, the quoted passages and a salted hash of the voter's
id, never the id itself. The salt is made at random when the file is created and
stays in it, so hashes are stable for one deployment (a user's second vote on the
same answer replaces the first) but cannot be matched across deployments.
Synchronous and quick; callers on an event loop run it in a worker thread.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import secrets
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from index.models import Answer, Source
from index.store import utc_now

FILENAME = "feedback.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS votes (
    answer_id TEXT NOT NULL, user_hash TEXT NOT NULL,
    helpful INTEGER NOT NULL CHECK (helpful IN (0, 1)),
    question TEXT NOT NULL, passages TEXT NOT NULL, index_built_at TEXT NOT NULL,
    voted_at TEXT NOT NULL,
    PRIMARY KEY (answer_id, user_hash)
);
"""


@dataclass(frozen=True)
class Vote:
    """One stored vote. ``passages`` is the JSON list of what the answer quoted."""

    answer_id: str
    user_hash: str
    helpful: bool
    question: str
    passages: list[dict[str, object]]
    index_built_at: str
    voted_at: str


class FeedbackStore:
    """The votes file. Safe to use from several threads: one connection per call."""

    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db, db:
            db.executescript(_SCHEMA)
            db.execute("INSERT OR IGNORE INTO meta VALUES ('salt', ?)", (secrets.token_hex(16),))
            self._salt = db.execute("SELECT value FROM meta WHERE key = 'salt'").fetchone()[0]

    def _connect(self) -> contextlib.closing[sqlite3.Connection]:
        return contextlib.closing(sqlite3.connect(self.path, timeout=10))

    def hash_user(self, user_id: int | str) -> str:
        """The salted hash stored in place of a user id."""
        return hmac.new(self._salt.encode(), str(user_id).encode(), hashlib.sha256).hexdigest()

    def record(self, answer_id: str, user_id: int | str, helpful: bool, answer: Answer) -> None:
        """Store a vote on ``answer``; a user's later vote on the same answer replaces it."""
        row = (
            answer_id,
            self.hash_user(user_id),
            int(helpful),
            answer.question,
            json.dumps(_passages(answer), ensure_ascii=False),
            answer.index.built_at,
            utc_now(),
        )
        with self._connect() as db, db:
            db.execute("INSERT OR REPLACE INTO votes VALUES (?,?,?,?,?,?,?)", row)

    def votes(self) -> list[Vote]:
        """Every stored vote, oldest first."""
        with self._connect() as db:
            rows = db.execute("SELECT * FROM votes ORDER BY voted_at, rowid").fetchall()
        return [
            Vote(row[0], row[1], bool(row[2]), row[3], json.loads(row[4]), row[5], row[6])
            for row in rows
        ]


def _passages(answer: Answer) -> list[dict[str, object]]:
    return [
        {
            "text": passage.text,
            "score": round(passage.score, 4),
            "sources": [_source(s) for s in passage.sources],
        }
        for passage in answer.passages
    ]


def _source(source: Source) -> dict[str, object]:
    return {
        "doc_id": source.doc_id,
        "path": source.path,
        "line": source.line,
        "start": source.start,
        "end": source.end,
    }
