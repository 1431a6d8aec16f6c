"""Bad configuration through the real command line: every invalid value, unknown key
or unusable path ends the program with exit code 1 and one ``error: …`` line that
names the key (or file) and the fix, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main

# (TOML text, what the one error line must contain)
BAD_FILES = [
    ("[answer]\ntop_k = '3'\n", "config key answer.top_k: expected an integer, got str '3'"),
    ("[answer]\ntop_k = true\n", "config key answer.top_k: expected an integer, got bool True"),
    ("[answer]\ntopk = 3\n", "unknown config key answer.topk: known keys are "),
    ("[anwser]\ntop_k = 3\n", "unknown config section [anwser]: known sections are corpus, "),
    ("answer = 3\n", "config key answer: must be a table ([answer])"),
    ("[answer]\nmin_score = 'high'\n", "config key answer.min_score: expected a number"),
    ("[index]\nkeep_versions = 0\n", "config key index.keep_versions: must be at least 1"),
    ("[index]\npath = 5\n", "config key index.path: expected a path string, got 5"),
    ("[corpus]\nmax_file_mb = 0\n", "config key corpus.max_file_mb: use a size in MB above 0"),
    ("[corpus]\nmax_file_mb = '1GB'\n", "config key corpus.max_file_mb: expected a number"),
    ("[chunk]\nmax_words = 20\n", "config key chunk.max_words: must be at least chunk.target_wo"),
    ("[search]\nmode = 'fuzzy'\n", 'config key search.mode: use "hybrid", "dense" or "lexical"'),
    ("[embedding]\nbatch_size = 0\n", "config key embedding.batch_size: use 1 to 1024"),
    ("[embedding]\ndevice = 'gpu'\n", 'config key embedding.device: use "cpu", "cuda", '),
    ("[embedding]\nbackend = 'tensorrt'\n", 'config key embedding.backend: use "onnx" or "torch"'),
    ("[embedding]\nbackend = 7\n", "config key embedding.backend: expected a string, got int 7"),
    ("[embedding]\ndevice = 'cuda'\n", "config key embedding.device: cuda needs embedding.backe"),
    ("[discord]\napi_base = 'discord.com'\n", "config key discord.api_base: use an http:// or "),
    ("[discord]\ngateway_url = 'https://x'\n", "config key discord.gateway_url: use a ws:// or "),
    ("[discord]\nguild_id = 'my server'\n", "config key discord.guild_id: expected an integer"),
    ("[discord]\nadmin_role = 42\n", "config key discord.admin_role: expected a string, got int"),
    ("[discord]\nchannels = '123'\n", "config key discord.channels: expected a list of strings"),
    ("[discord]\nchannels = ['general']\n", "config key discord.channels: list channel ids"),
    ("[discord]\ncooldown_seconds = -1\n", "config key discord.cooldown_seconds: use 0 or more"),
    ("[discord]\nworkers = 100\n", "config key discord.workers: use 1 to 32"),
    ("[discord]\ntoken = 'secret'\n", "unknown config key discord.token: known keys are "),
    ("[answer\ntop_k = 3\n", "is not valid TOML: "),
    (b"[answer]\ntop_k = 3 # \xff\xfe\n", "is not valid TOML: "),
]


def _fails_with_one_line(capsys: pytest.CaptureFixture[str], argv: list[str], expected: str):
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 1 and out == ""
    assert err.startswith("error: ") and err.endswith("\n") and err.count("\n") == 1, err
    assert expected in err, err
    assert "Traceback" not in err


@pytest.mark.parametrize(("text", "expected"), BAD_FILES)
@pytest.mark.parametrize("command", ["ask", "index", "discord"])
def test_a_bad_config_file_is_one_error_line(capsys, tmp_path, command, text, expected):
    config = tmp_path / "newsbot.toml"
    config.write_bytes(text if isinstance(text, bytes) else text.encode())
    argv = [command, "--config", str(config), *(["a question"] if command == "ask" else [])]
    _fails_with_one_line(capsys, argv, expected)


BAD_ENVIRONMENT = [
    ("NEWSBOT_DISCORD_WORKERS", "many", "config key discord.workers (from NEWSBOT_DISCORD_W"),
    ("NEWSBOT_DISCORD_CHANNELS", "12,general", "config key discord.channels: list channel ids"),
    ("NEWSBOT_DISCORD_GUILD_ID", "x", "config key discord.guild_id (from NEWSBOT_DISCORD_GUILD"),
    ("NEWSBOT_ANSWER_MIN_SCORE", "2", "config key answer.min_score: use -1.0 to 1.0"),
    ("NEWSBOT_SEARCH_CLAUSES", "maybe", "config key search.clauses (from NEWSBOT_SEARCH_CLAUSES)"),
    ("NEWSBOT_CORPUS_MAX_FILE_MB", "-5", "config key corpus.max_file_mb: use a size in MB"),
    ("NEWSBOT_INDEX_COLOUR", "red", "unknown config key index.colour: known keys are "),
    ("NEWSBOT_CONFIG", "/nonexistent/newsbot.toml", "does not exist: check NEWSBOT_CONFIG"),
]


@pytest.mark.parametrize(("name", "value", "expected"), BAD_ENVIRONMENT)
def test_a_bad_environment_override_is_one_error_line(capsys, monkeypatch, name, value, expected):
    monkeypatch.setenv(name, value)
    _fails_with_one_line(capsys, ["ask", "a question"], expected)


def test_a_missing_or_folder_config_file(capsys, tmp_path):
    missing = tmp_path / "nope.toml"
    _fails_with_one_line(capsys, ["ask", "--config", str(missing), "q"], "check --config")
    _fails_with_one_line(capsys, ["ask", "--config", str(tmp_path), "q"], "is a folder")


def test_a_corpus_that_does_not_exist_or_is_a_file(capsys, tmp_path):
    index = str(tmp_path / "index")
    missing = tmp_path / "no-such-corpus"
    _fails_with_one_line(
        capsys,
        ["index", "--index-dir", index, "--corpus", str(missing)],
        f"corpus folder {missing} does not exist: pass --corpus or set corpus.path",
    )
    config = tmp_path / "newsbot.toml"
    config.write_text(f"[corpus]\npath = '{config}'\n")
    _fails_with_one_line(
        capsys,
        ["index", "--config", str(config), "--index-dir", index],
        f"corpus path {config} is a file: pass a folder to --corpus or corpus.path",
    )
    assert not (tmp_path / "index").exists()


def test_an_index_dir_that_is_a_file(capsys, monkeypatch, tmp_path, sample_corpus):
    monkeypatch.setenv("DISCORD_TOKEN", "not-a-real-token")  # the bot then opens the index
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)  # `newsbot discord` sets it
    file = tmp_path / "index"
    file.write_text("not a folder")
    _fails_with_one_line(
        capsys,
        ["index", "--index-dir", str(file), "--corpus", str(sample_corpus)],
        f"config key index.path: {file} is a file; choose a folder",
    )
    for command in (["ask", "q"], ["discord"]):
        _fails_with_one_line(
            capsys,
            [command[0], "--index-dir", str(file), *command[1:]],
            f"index path {file} is a file: set index.path or --index-dir",
        )
    assert file.read_text() == "not a folder"


def test_a_model_directory_that_does_not_exist(capsys, tmp_path, sample_corpus):
    config = tmp_path / "newsbot.toml"
    config.write_text(f"[embedding]\nmodel = '{tmp_path / 'models' / 'mini'}'\n")
    _fails_with_one_line(
        capsys,
        [
            "index",
            "--config",
            str(config),
            "--index-dir",
            str(tmp_path / "i"),
            "--corpus",
            str(sample_corpus),
        ],
        f"config key embedding.model: {tmp_path / 'models' / 'mini'} is not a sentence-tra",
    )


def test_a_device_this_machine_lacks(capsys, tmp_path, sample_corpus):
    config = tmp_path / "newsbot.toml"
    config.write_text("[embedding]\nbackend = 'torch'\ndevice = 'cuda:7'\n")
    code = main(["index", "--config", str(config), "--index-dir", str(tmp_path / "i"),
                 "--corpus", str(sample_corpus), "-q"])  # fmt: skip
    out, err = capsys.readouterr()
    if code == 0:  # a machine with that GPU: the build simply works
        assert out.startswith("indexed 5 articles")
        return
    assert code == 1 and err.count("\n") == 1
    assert err.startswith("error: config key embedding.device: cuda:7 is not available here")


def test_discord_without_a_token_after_a_good_config(capsys, monkeypatch, tmp_path: Path):
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    config = tmp_path / "newsbot.toml"
    config.write_text("[discord]\nchannels = ['123']\nworkers = 3\n")
    code = main(["discord", "--config", str(config), "--index-dir", str(tmp_path)])
    _, err = capsys.readouterr()
    assert code == 1 and err.count("\n") == 1 and "DISCORD_TOKEN" in err
