"""Config: defaults, the committed file, environment overrides, errors naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.config import Config, load_config
from index.errors import ConfigError

REPO_CONFIG = Path(__file__).resolve().parent.parent / "config" / "newsbot.toml"


def _toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "newsbot.toml"
    path.write_text(text, "utf-8")
    return path


def test_committed_config_is_valid_and_matches_defaults():
    assert load_config(REPO_CONFIG, environ={}) == Config()


def test_environment_overrides_file(tmp_path):
    path = _toml(tmp_path, "[answer]\ntop_k = 4\n")
    config = load_config(path, environ={"NEWSBOT_ANSWER_MIN_SCORE": "0.5",
                                        "NEWSBOT_INDEX_PATH": "/srv/idx"})  # fmt: skip
    assert (config.answer.top_k, config.answer.min_score) == (4, 0.5)
    assert config.index.path == Path("/srv/idx")


@pytest.mark.parametrize(
    ("text", "env", "message"),
    [
        ("[answer]\ntop_k = 'three'\n", {}, "answer.top_k: expected an integer"),
        ("[answer]\ntop_k = 99\n", {}, "answer.top_k: use 1 to 25"),
        ("[answer]\ntopk = 3\n", {}, "unknown config key answer.topk"),
        ("[anwser]\n", {}, "unknown config section [anwser]"),
        ("[chunk]\ntarget_words = 100\nmax_words = 50\n", {}, "chunk.max_words"),
        ("answer = 3\n", {}, "config key answer: must be a table"),
        ("[answer\n", {}, "is not valid TOML"),
        ("", {"NEWSBOT_ANSWER_TOP_K": "lots"}, "answer.top_k (from NEWSBOT_ANSWER_TOP_K)"),
        ("", {"NEWSBOT_CHUNK_SIZE": "3"}, "unknown config key chunk.size"),
        ("[discord]\napi_base = 'discord.com'\n", {}, "discord.api_base: use an http"),
        ("[discord]\ngateway_url = 'https://x'\n", {}, "discord.gateway_url: use a ws"),
        ("", {"NEWSBOT_DISCORD_CHANNELS": "12,general"}, "discord.channels: list channel ids"),
        ("[discord]\ncooldown_seconds = -1\n", {}, "discord.cooldown_seconds: use 0 or more"),
        ("[discord]\nworkers = 0\n", {}, "discord.workers: use 1 to 32"),
        ("[discord]\nguild_id = 'abc'\n", {}, "discord.guild_id: expected an integer"),
        ("[index]\nwatch_debounce_ms = 0\n", {}, "index.watch_debounce_ms: use 50 to 600000"),
        ("", {"NEWSBOT_INDEX_WATCH_DEBOUNCE_MS": "1.5"}, "index.watch_debounce_ms (from NEWSBOT"),
    ],
)
def test_bad_values_name_the_key(tmp_path, text, env, message):
    with pytest.raises(ConfigError) as info:
        load_config(_toml(tmp_path, text), environ=env)
    assert message in str(info.value)


def test_missing_config_file_is_reported(tmp_path):
    with pytest.raises(ConfigError, match="does not exist: check --config"):
        load_config(tmp_path / "missing.toml", environ={})
    with pytest.raises(ConfigError, match="check NEWSBOT_CONFIG"):
        load_config(None, environ={"NEWSBOT_CONFIG": str(tmp_path / "missing.toml")})


def test_discord_settings_from_environment(tmp_path):
    env = {
        "NEWSBOT_DISCORD_CHANNELS": "111, 222",
        "NEWSBOT_DISCORD_GUILD_ID": "333",
        "NEWSBOT_DISCORD_COOLDOWN_SECONDS": "2.5",
        "NEWSBOT_DISCORD_API_BASE": "http://127.0.0.1:8080/api/v10",
    }
    discord = load_config(_toml(tmp_path, ""), environ=env).discord
    assert discord.channels == ("111", "222")
    assert (discord.guild_id, discord.cooldown_seconds) == (333, 2.5)
    assert discord.api_base == "http://127.0.0.1:8080/api/v10"
    assert discord.admin_role is None
