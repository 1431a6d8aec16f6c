"""Index integrity: the manifest records a sha256 of every index file, and a missing,
truncated or altered file is reported at load as IndexCorruptError naming it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from bot.cli import main
from index.build import build_index
from index.config import Config
from index.errors import IndexCorruptError
from index.integrity import sha256
from index.store import MANIFEST, IndexReader
from tests.fakes import HashingEmbedder


@pytest.fixture
def built(tmp_path: Path, sample_corpus: Path, config: Config) -> Path:
    """A fresh index root over the sample corpus (its own copy: tests damage it)."""
    root = tmp_path / "index"
    build_index(sample_corpus, root, config, HashingEmbedder())
    return root


def _build_dir(root: Path) -> Path:
    return (root / "current").resolve()


def _manifest(root: Path) -> dict[str, object]:
    return dict(json.loads((_build_dir(root) / MANIFEST).read_text("utf-8")))


def test_the_manifest_records_a_checksum_of_every_index_file(built: Path):
    build = _build_dir(built)
    recorded = _manifest(built)["checksums"]
    assert isinstance(recorded, dict)
    on_disk = sorted(p.relative_to(build).as_posix() for p in build.rglob("*") if p.is_file())
    assert sorted(recorded) == [name for name in on_disk if name != MANIFEST]
    assert {"vectors.faiss", "passages.sqlite", "passage_group.npy"} <= set(recorded)
    assert any(name.startswith("bm25-passages/") for name in recorded)
    assert all(recorded[name] == sha256(build / name) for name in recorded)
    assert IndexReader(built).manifest.passages > 0


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _bm25_file(build: Path) -> str:
    return sorted(p.relative_to(build).as_posix() for p in (build / "bm25-passages").iterdir())[0]


@pytest.mark.parametrize("damage", [_truncate, _flip_a_byte, Path.unlink])
@pytest.mark.parametrize(
    "name", ["vectors.faiss", "passages.sqlite", "passage_article.npy", "bm25"]
)
def test_a_damaged_index_file_is_reported_by_name(built: Path, name: str, damage) -> None:
    build = _build_dir(built)
    name = _bm25_file(build) if name == "bm25" else name
    damage(build / name)
    with pytest.raises(IndexCorruptError) as caught:
        IndexReader(built)
    message = str(caught.value)
    assert name in message and "rebuild it with newsbot index" in message
    assert ("missing" in message) == (damage is Path.unlink)


def test_an_index_without_checksums_asks_for_a_rebuild(built: Path):
    manifest_path = _build_dir(built) / MANIFEST
    old = _manifest(built)
    old.pop("checksums")
    old["schema_version"] = 2
    manifest_path.write_text(json.dumps(old), "utf-8")
    with pytest.raises(IndexCorruptError, match="schema version 2, this newsbot reads 3"):
        IndexReader(built)
    old["schema_version"] = 3
    manifest_path.write_text(json.dumps(old), "utf-8")
    with pytest.raises(IndexCorruptError, match="records no checksums: rebuild it"):
        IndexReader(built)


def test_the_cli_reports_a_corrupt_index_in_one_line(built: Path, capsys):
    _truncate(_build_dir(built) / "vectors.faiss")
    code = main(["ask", "--index-dir", str(built), "What did Liu Zhenli say about Taiwan?"])
    out, err = capsys.readouterr()
    assert code == 1 and out == ""
    assert err.startswith("error: index at ") and err.count("\n") == 1
    assert "vectors.faiss does not match its checksum (truncated or altered)" in err


def test_a_rebuild_over_a_corrupt_index_restores_it(built: Path, sample_corpus: Path, config):
    _flip_a_byte(_build_dir(built) / "passages.sqlite")
    with pytest.raises(IndexCorruptError):
        IndexReader(built)
    build_index(sample_corpus, built, config, HashingEmbedder())
    assert IndexReader(built).manifest.articles == 5


def test_a_build_killed_halfway_is_never_served_and_is_cleaned_up(
    built: Path, sample_corpus: Path, config: Config
):
    # What a SIGKILL during _write_files leaves: a temp folder named after a dead process.
    finished = subprocess.Popen(["true"])
    finished.wait()
    half = built / "builds" / f".tmp-20260101T000000000000-{finished.pid}"
    half.mkdir()
    (half / "vectors.faiss").write_bytes(b"\x00" * 100)
    serving = _build_dir(built)
    assert IndexReader(built).path == serving
    build_index(sample_corpus, built, config, HashingEmbedder(), full=True)
    assert not half.exists()
    assert _build_dir(built) != serving and IndexReader(built).manifest.articles == 5
