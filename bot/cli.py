"""The ``newsbot`` command: build the index, ask questions from a terminal, run the
Discord bot.

Exit codes: 0 success, 1 a user-facing error (printed as ``error: …``), 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import textwrap
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from index.answer import answer_as_dict
from index.config import Config, load_config
from index.errors import ConfigError, NewsbotError
from index.models import Answer, Filters, QuotedPassage, Source

if TYPE_CHECKING:  # heavy imports (faiss, bm25s, torch): only the commands using them load them
    from index.build import BuildReport
    from index.embed import Embedder

log = logging.getLogger("newsbot")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    command: Callable[[argparse.Namespace], int] = args.command
    try:
        return command(args)
    except NewsbotError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsbot", description="Answer questions over news articles with verbatim quotes."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    build = sub.add_parser("index", help="build the index of a corpus folder")
    _common(build)
    build.add_argument("--corpus", type=Path, help="folder of articles (default: corpus.path)")
    build.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    build.add_argument(
        "--full", action="store_true", help="rebuild from scratch, reusing no cached work"
    )
    build.add_argument(
        "--watch", action="store_true", help="keep running and rebuild when the corpus changes "
        "(Ctrl-C stops)",
    )  # fmt: skip
    build.set_defaults(command=run_index)

    ask = sub.add_parser("ask", help="answer questions from the index")
    _common(ask)
    ask.add_argument("--top-k", type=_top_k, help="passages per answer (1-25)")
    ask.add_argument("--json", action="store_true", help="one JSON object per question")
    ask.add_argument("--since", metavar="DATE", help="only articles published on or after DATE")
    ask.add_argument("--until", metavar="DATE", help="only articles published on or before DATE")
    ask.add_argument("--outlet", help="only articles from this outlet (any case)")
    ask.add_argument(
        "questions", nargs="+", metavar="QUESTION", help='each argument is one question; "-" reads '
        "one question per line from standard input",
    )  # fmt: skip
    ask.set_defaults(command=run_ask)

    bot = sub.add_parser("discord", help="run the Discord bot (token from $DISCORD_TOKEN)")
    _common(bot)
    bot.set_defaults(command=run_bot)
    return parser


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="TOML config (default: config/newsbot.toml)")
    parser.add_argument("--index-dir", type=Path, help="index folder (default: index.path)")


def _top_k(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 1 <= value <= 25:
        raise argparse.ArgumentTypeError("must be between 1 and 25")
    return value


def _config(args: argparse.Namespace) -> tuple[Config, Path]:
    config = load_config(args.config)
    return config, args.index_dir or config.index.path


def run_index(args: argparse.Namespace) -> int:
    from index.build import build_index
    from index.embed import load_embedder
    from index.ingest import check_corpus

    config, root = _config(args)
    corpus = args.corpus or config.corpus.path
    check_corpus(corpus)  # before the model takes seconds to load
    if root.exists() and not root.is_dir():
        raise ConfigError(f"config key index.path: {root} is a file; choose a folder")
    embedder = load_embedder(config.embedding)
    if args.watch:
        return watch_index(corpus, root, config, embedder)
    report = build_index(corpus, root, config, embedder, progress=not args.quiet, full=args.full)
    _warn_skipped(report)
    print(build_summary(corpus, report))
    return 0


def build_summary(corpus: Path, report: BuildReport) -> str:
    """One line on what a build did and what it reused."""
    if report.up_to_date:
        return (
            f"index is up to date: nothing changed in {corpus} ({report.articles} articles, "
            f"{report.passages} passages, {len(report.skipped)} skipped; --full rebuilds "
            f"anyway) → {report.path}"
        )
    reuse = (
        f"full rebuild: {report.full_reason}"
        if report.full_reason
        else f"{report.files_reused} unchanged files reused"
    )
    return (
        f"indexed {report.articles} articles, {report.passages} passages from {corpus} "
        f"in {report.seconds:.1f} s ({report.embedded} passages embedded, {reuse}, "
        f"{len(report.skipped)} skipped) "
        f"→ {report.path}"
    )


def watch_index(corpus: Path, root: Path, config: Config, embedder: Embedder) -> int:
    """Build, then rebuild whenever the corpus changes, one line per build, until
    Ctrl-C: the normal way to stop a watcher, so it exits 0. A failed rebuild prints
    ``error: …`` and the watch goes on (the previous build keeps serving)."""
    from index.watch import watch_corpus

    built: list[BuildReport] = []

    def on_build(report: BuildReport) -> None:
        if not built:
            _warn_skipped(report)  # once: later lines give the count
        built.append(report)
        print(f"{_now()} {build_summary(corpus, report)}", flush=True)

    def on_error(exc: NewsbotError) -> None:
        print(f"error: {exc}", file=sys.stderr, flush=True)

    print(f"watching {corpus} for changes (Ctrl-C to stop)", file=sys.stderr, flush=True)
    try:
        watch_corpus(corpus, root, config, embedder,
                     on_build=on_build, on_error=on_error, stop=threading.Event())  # fmt: skip
    except KeyboardInterrupt:
        print("stopped watching", file=sys.stderr)
    return 0


def _warn_skipped(report: BuildReport) -> None:
    for skipped in report.skipped:
        print(f"warning: skipped {skipped.path}: {skipped.reason}", file=sys.stderr)


def _now() -> str:
    return datetime.now().astimezone().strftime("%Y-%m-%d %H:%M:%S")


def run_ask(args: argparse.Namespace) -> int:
    from index.answer import open_answerer

    config, root = _config(args)
    questions = _questions(args.questions)
    answerer = open_answerer(config, root)
    filters = Filters(since=args.since, until=args.until, outlet=args.outlet)
    for question in questions:
        answer = answerer.ask(question, args.top_k, filters=filters)
        if args.json:
            print(json.dumps(answer_as_dict(answer), ensure_ascii=False), flush=True)
        else:
            print(format_answer(answer, bold=sys.stdout.isatty()), flush=True)
    return 0


def run_bot(args: argparse.Namespace) -> int:
    from bot.run import run_discord

    config, root = _config(args)
    return run_discord(config, root)


def _questions(given: list[str]) -> list[str]:
    questions: list[str] = []
    for item in given:
        if item == "-":
            questions.extend(line.strip() for line in sys.stdin if line.strip())
        else:
            questions.append(item)
    return questions


def format_answer(answer: Answer, bold: bool = False) -> str:
    """Readable text: each quote, then "— Title, Outlet, date, path"."""
    lines = [f"Q: {answer.question}", ""]
    if not answer.answered:
        best = "nothing" if answer.best_score is None else f"best match {answer.best_score:.2f}"
        lines.append(f"Not in the corpus: no passage answers this closely enough ({best}).")
        if answer.related:
            lines.append("Closest topics: " + "; ".join(answer.related))
        return "\n".join(lines) + "\n"
    for number, passage in enumerate(answer.passages, start=1):
        lines.extend(_format_passage(number, passage, bold))
    return "\n".join(lines)


def _format_passage(number: int, passage: QuotedPassage, bold: bool) -> list[str]:
    text = " ".join(passage.text.split())
    highlight = " ".join(passage.highlight.split())
    marked = text.replace(highlight, f"\x01{highlight}\x02", 1) if bold else text
    wrapped = textwrap.wrap(f"“{marked}”", width=88, initial_indent=f"[{number}] ",
                            subsequent_indent="    ")  # fmt: skip
    out = [line.replace("\x01", "\033[1m").replace("\x02", "\033[0m") for line in wrapped]
    if not bold:
        out.append(f"    best: {highlight}")
    out.extend(f"    — {citation(source)}" for source in passage.sources)
    out.append(f"    (score {passage.score:.2f})")
    out.append("")
    return out


def citation(source: Source) -> str:
    """ "Title, Outlet, 2021-01-28, path" with missing parts left out."""
    where = source.path if source.line is None else f"{source.path}:{source.line}"
    parts = [source.title, source.outlet, source.published, where]
    return ", ".join(part for part in parts if part)


if __name__ == "__main__":
    sys.exit(main())
