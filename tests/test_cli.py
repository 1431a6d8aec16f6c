"""The newsbot command: exit codes, messages, text output and the JSON contract."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.cli import main
from index.errors import NewsbotError
from index.store import IndexReader
from tests.conftest import REPO

QUESTIONS = ["What did Liu Zhenli say about Taiwan?", "Which chef won the baking contest?"]


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_ask_json_contract(capsys, sample_index, sample_corpus):
    code, out, _ = _run(capsys, "ask", "--index-dir", str(sample_index), "--json", *QUESTIONS)
    assert code == 0
    answers = [json.loads(line) for line in out.splitlines()]
    assert [a["question"] for a in answers] == QUESTIONS
    assert [a["answered"] for a in answers] == [True, False]
    assert answers[1]["passages"] == []
    first = answers[0]
    assert set(first) >= {"question", "answered", "index", "passages"}
    assert first["index"]["articles"] == 5 and first["index"]["passages"] > 20
    assert isinstance(first["index"]["built_at"], str)
    assert len(first["passages"]) == 3
    for passage in first["passages"]:
        assert isinstance(passage["score"], float)
        assert passage["highlight"] in passage["text"]
        assert passage["text"] == _quote(sample_corpus, passage["sources"][0])
        for source in passage["sources"]:
            assert set(source) >= {"doc_id", "path", "title", "outlet", "published", "url",
                                   "start", "end"}  # fmt: skip
            assert _quote(sample_corpus, source)


def _quote(corpus: Path, source: dict[str, object]) -> str:
    text = (corpus / str(source["path"])).read_bytes().decode("utf-8")
    return text[int(str(source["start"])) : int(str(source["end"]))]


def test_ask_text_output_cites_title_outlet_date_path(capsys, sample_index):
    code, out, _ = _run(capsys, "ask", "--index-dir", str(sample_index), "--top-k", "5",
                        "When did the US disinvite China from RIMPAC?")  # fmt: skip
    assert code == 0
    assert "RIMPAC" in out
    expected = ("— China: 'New historical starting point' with US military, Associated Press, "
                "2021-01-28, 001_8b41b0ebb5760103.txt")  # fmt: skip
    assert expected in out


def test_ask_without_an_index_is_a_user_error(capsys, tmp_path):
    code, out, err = _run(capsys, "ask", "--index-dir", str(tmp_path / "none"), "anything")
    assert code == 1 and out == ""
    assert err == f"error: no index at {tmp_path / 'none'}, run newsbot index\n"


def test_empty_question_is_a_user_error(capsys, sample_index):
    code, _, err = _run(capsys, "ask", "--index-dir", str(sample_index), "  ")
    assert code == 1
    assert err.startswith("error: the question is empty")


def test_bad_config_names_the_key(capsys, tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text("[answer]\ntop_k = 0\n")
    code, _, err = _run(capsys, "ask", "--config", str(config), "q")
    assert code == 1
    assert err == "error: config key answer.top_k: use 1 to 25\n"


def test_index_of_an_empty_corpus_is_a_user_error(capsys, tmp_path):
    (tmp_path / "corpus").mkdir()
    code, _, err = _run(capsys, "index", "--corpus", str(tmp_path / "corpus"),
                        "--index-dir", str(tmp_path / "index"))  # fmt: skip
    assert code == 1
    assert err.startswith("error: no articles to index in")


def test_index_reports_skipped_files(capsys, tmp_path, sample_corpus):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_bytes((sample_corpus / "000_7f99437749b6825f.txt").read_bytes())
    (corpus / "b.docx").write_bytes(b"PK\x03\x04")
    code, out, err = _run(capsys, "index", "-q", "--corpus", str(corpus),
                          "--index-dir", str(tmp_path / "index"))  # fmt: skip
    assert code == 0
    assert "warning: skipped b.docx: unsupported file type .docx" in err
    assert out.startswith("indexed 1 articles, ")


@pytest.mark.parametrize(
    "argv",
    [["ask"], ["ask", "--top-k", "0", "q"], ["frobnicate"], []],
)
def test_usage_errors_exit_2(argv):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2


def test_console_script_is_installed(tmp_path):
    newsbot = Path(sys.executable).parent / "newsbot"
    done = subprocess.run([str(newsbot), "ask", "--index-dir", str(tmp_path), "q"],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 1
    assert done.stderr == f"error: no index at {tmp_path}, run newsbot index\n"


def _articles(root: Path) -> int:
    try:
        return IndexReader(root).manifest.articles
    except NewsbotError:
        return 0  # no build yet


def _poll(condition: Callable[[], bool], seconds: float, what: str) -> None:
    give_up = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > give_up:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.1)


def test_index_watch_rebuilds_on_a_change_and_stops_cleanly_on_ctrl_c(tmp_path, corpus_copy):
    root = tmp_path / "index"
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1",
           "TRANSFORMERS_OFFLINE": "1", "NEWSBOT_INDEX_WATCH_DEBOUNCE_MS": "300"}  # fmt: skip
    command = [sys.executable, "-m", "bot.cli", "index", "--watch",
               "--corpus", str(corpus_copy), "--index-dir", str(root)]  # fmt: skip
    watcher = subprocess.Popen(command, cwd=tmp_path, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    try:
        _poll(lambda: _articles(root) == 5, 120, "the first build")  # loads the real model
        (corpus_copy / "005_ferry.txt").write_text(
            "The harbour authority opened a new ferry terminal in Portwell on Friday, "
            "and ferries to the islands will leave every hour.\n",
            "utf-8",
        )
        _poll(lambda: _articles(root) == 6, 60, "the rebuild")
        watcher.send_signal(signal.SIGINT)
        out, err = watcher.communicate(timeout=30)
    finally:
        watcher.kill()
    assert watcher.returncode == 0
    assert "Traceback" not in err and "stopped watching" in err
    lines = out.splitlines()
    assert len(lines) == 2 and all(" indexed " in line for line in lines)
    assert "indexed 6 articles" in lines[1] and "0 skipped" in lines[1]
