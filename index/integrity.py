"""Checksums of index files: recorded in the manifest at build time, checked at load.

A truncated copy, a disk error or a hand-edited file is then reported as
IndexCorruptError naming the file, before faiss, SQLite or bm25s try to read it
(they may crash, or worse, read garbage without complaint).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from index.errors import IndexCorruptError


def checksums(directory: Path, skip: str) -> dict[str, str]:
    """sha256 of every file under ``directory`` (by relative path) except ``skip``."""
    found = {}
    for path in sorted(directory.rglob("*")):
        if path.is_file() and path.name != skip:
            found[path.relative_to(directory).as_posix()] = sha256(path)
    return found


def sha256(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_checksums(build_dir: Path, expected: dict[str, str]) -> None:
    """Raise IndexCorruptError naming the first file that is missing or altered."""
    if not expected:
        raise IndexCorruptError(f"index at {build_dir} records no checksums: rebuild it")
    for name, digest in expected.items():
        path = build_dir / name
        if not path.is_file():
            raise IndexCorruptError(
                f"index at {build_dir} is missing {name}: rebuild it with newsbot index"
            )
        if sha256(path) != digest:
            raise IndexCorruptError(
                f"index at {build_dir}: {name} does not match its checksum (truncated or "
                "altered): rebuild it with newsbot index"
            )
