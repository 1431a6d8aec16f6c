"""Shared helpers for benchmarks: percentiles, the git commit, and bench/RESULTS.md rows."""

from __future__ import annotations

import statistics
import subprocess
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "bench"


def code_version() -> str:
    """The commit the benchmark's code was loaded from (taken once, at import)."""
    return _VERSION


def commit() -> str:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()  # fmt: skip
    return (done.stdout.strip() or "unknown") + ("+dirty" if dirty else "")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def append_row(section: str, header: list[str], row: list[str]) -> None:
    """Append ``row`` to the table under ``## section`` in RESULTS.md, creating it if needed."""
    text = RESULTS.read_text("utf-8") if RESULTS.exists() else "# Benchmark results\n"
    title = f"## {section}\n"
    line = "| " + " | ".join(row) + " |\n"
    if title not in text:
        head = "| " + " | ".join(header) + " |\n|" + "---|" * len(header) + "\n"
        RESULTS.write_text(text.rstrip("\n") + f"\n\n{title}\n{head}{line}", "utf-8")
        return
    start = text.index(title)
    end = text.find("\n## ", start)
    end = len(text) if end == -1 else end + 1
    block = text[start:end].rstrip("\n") + "\n" + line
    rest = text[end:]
    RESULTS.write_text(text[:start] + block + ("\n" + rest if rest else ""), "utf-8")


def today() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d")


_VERSION = commit()
