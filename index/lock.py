"""One build at a time per index root: an advisory lock file naming its holder."""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from index.errors import IndexBusyError

LOCK_FILE = "build.lock"


@contextlib.contextmanager
def build_lock(root: Path) -> Iterator[None]:
    """Hold ``root/build.lock`` for the duration of a build, or raise IndexBusyError naming
    the process that holds it. The kernel releases the lock if the holder dies, so a
    killed build never blocks the next one."""
    root.mkdir(parents=True, exist_ok=True)
    path = root / LOCK_FILE
    with path.open("a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise IndexBusyError(
                f"another build of {root} is running ({holder}): wait for it to finish"
            ) from None
        handle.seek(0)
        handle.truncate()
        started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        handle.write(f"pid {os.getpid()} on {socket.gethostname()}, started {started}")
        handle.flush()
        try:
            yield
        finally:
            handle.truncate(0)
