"""What the bot says, as pure functions: answers, corpus stats and notices → embeds and
texts within Discord's limits. Nothing here talks to Discord; callers send the result.

Quotes are markdown-escaped with their best sentence in bold. When an answer is too
long, quotes are shortened (whole sentences around the highlight first, "…" where
text is left out) and whole passages are dropped last; a citation is never cut.
Lengths are counted in UTF-16 code units: never fewer than the characters Discord
counts, so whatever fits here fits there.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import discord
from discord.utils import escape_markdown

from index.build import BuildReport
from index.chunk import sentence_spans
from index.models import Answer, CorpusStats, Filters, QuotedPassage, Source

CONTENT_LIMIT = 2000
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FOOTER_LIMIT = 2048
AUTHOR_LIMIT = 256
FIELDS_LIMIT = 25
EMBEDS_LIMIT = 10
TOTAL_LIMIT = 6000

ELLIPSIS = "…"
MIN_QUOTE = 80  # a quote shorter than this says too little: drop the passage instead
ANSWER_COLOUR = discord.Colour(0x2B6CB0)
NOT_FOUND_COLOUR = discord.Colour(0x8A8F98)

APOLOGY = "Sorry, something went wrong on my side. Please try again in a moment."
HELP = "Ask me about the news corpus: mention me with a question, DM me, or use `/ask`."
NOT_HERE = "I don't answer questions in this channel."
EXPIRED = "That answer is too old for its buttons now; please ask the question again."
REINDEX_BUSY = "The index is already being rebuilt; I'll report when it is done."


def dlen(text: str) -> int:
    """Length as Discord may count it (UTF-16 code units, ≥ characters)."""
    return len(text.encode("utf-16-le")) // 2


@dataclass(frozen=True)
class AnswerReply:
    """An answer as one embed, and how many passages it shows (More continues after)."""

    embed: discord.Embed
    shown: int


def answer_reply(answer: Answer, first: int = 1) -> AnswerReply:
    """The embed for ``answer``; its footer counts the passages shown from ``first``."""
    if not answer.answered:
        return AnswerReply(_not_found(answer), 0)
    blocks = _fit_passages(answer.passages, DESCRIPTION_LIMIT)
    embed = discord.Embed(
        title=shorten(answer.question, TITLE_LIMIT),
        description="\n\n".join(blocks) or "No further passages answer this question.",
        colour=ANSWER_COLOUR,
    )
    embed.set_footer(text=_footer(answer, first, len(blocks)))
    return AnswerReply(embed, len(blocks))


def _not_found(answer: Answer) -> discord.Embed:
    if answer.best_score is None and answer.filters.active:
        text = f"No article in the corpus matches {_filters_text(answer.filters)}."
    else:
        text = "I couldn't find that in the corpus."
    if answer.related:
        topics = "\n".join(f"• {shorten(topic, 200)}" for topic in answer.related[:5])
        text += f"\n\nClosest topics:\n{topics}"
    embed = discord.Embed(
        title=shorten(answer.question, TITLE_LIMIT), description=text, colour=NOT_FOUND_COLOUR
    )
    embed.set_footer(text=_footer(answer, 1, 0))
    return embed


def _footer(answer: Answer, first: int, shown: int) -> str:
    parts = []
    if shown:
        parts.append(f"passage {first}" if shown == 1 else f"passages {first}–{first + shown - 1}")
    index = answer.index
    parts.append(f"index of {_count(index.articles, 'article')}, built {_when(index.built_at)}")
    if answer.filters.active:
        parts.append(_filters_text(answer.filters))
    return _cut_plain(" · ".join(parts), FOOTER_LIMIT)


def _filters_text(filters: Filters) -> str:
    parts = []
    if filters.since:
        parts.append(f"since {filters.since}")
    if filters.until:
        parts.append(f"until {filters.until}")
    if filters.outlet:
        parts.append(f"outlet {_cut_plain(filters.outlet, 100)}")
    return ", ".join(parts)


# --------------------------------------------------------------------- passages


def _fit_passages(passages: Sequence[QuotedPassage], limit: int) -> list[str]:
    """One block per passage ("> quote" then its citation) in at most ``limit`` units
    joined by blank lines. Quotes share the room; trailing passages go if it is too tight."""
    citations = [_citation(p.sources) for p in passages]
    count = len(passages)
    while count > 1 and _fixed_cost(citations[:count]) + MIN_QUOTE * count > limit:
        count -= 1
    wanted = [dlen(_quote(p, math.inf)) for p in passages[:count]]
    budgets = _share(limit - _fixed_cost(citations[:count]), wanted)
    return [
        f"> {_quote(p, budget)}\n{citation}"
        for p, citation, budget in zip(passages, citations, budgets, strict=False)
    ]


def _fixed_cost(citations: Sequence[str]) -> int:
    """Everything but the quotes: "> ", the newline, citations, blank lines between."""
    return sum(3 + dlen(c) for c in citations) + 2 * max(0, len(citations) - 1)


def _share(total: int, wanted: Sequence[int]) -> list[int]:
    """Split ``total`` fairly: no one gets more than it wants, leftovers go to the rest."""
    budgets = [0] * len(wanted)
    remaining = total
    order = sorted(range(len(wanted)), key=lambda i: wanted[i])
    for position, i in enumerate(order):
        budgets[i] = min(wanted[i], remaining // (len(order) - position))
        remaining -= budgets[i]
    return budgets


def _quote(passage: QuotedPassage, budget: float) -> str:
    """The escaped quote with its highlight in bold, shortened around the highlight."""
    text = " ".join(passage.text.split())
    highlight = " ".join(passage.highlight.split())
    at = text.find(highlight) if highlight else -1
    if at < 0:
        return _window(_sentences(text), None, budget)
    before = _sentences(text[:at])
    after = _sentences(text[at + len(highlight) :])
    return _window([*before, highlight, *after], len(before), budget)


def _window(pieces: list[str], bold: int | None, budget: float) -> str:
    """The widest run of whole sentences around ``pieces[bold]`` that fits ``budget``."""
    i = bold if bold is not None else 0
    j = i + 1
    if dlen(_render(pieces, i, j, bold)) > budget:
        return _cut_single(pieces, i, bold, int(budget))
    grown = True
    while grown:  # alternate: one more sentence after, then one before
        grown = False
        if j < len(pieces) and dlen(_render(pieces, i, j + 1, bold)) <= budget:
            j, grown = j + 1, True
        if i > 0 and dlen(_render(pieces, i - 1, j, bold)) <= budget:
            i, grown = i - 1, True
    return _render(pieces, i, j, bold)


def _render(pieces: list[str], i: int, j: int, bold: int | None) -> str:
    parts = [ELLIPSIS] if i > 0 else []
    parts += [
        f"**{escape(p)}**" if k == bold else escape(p) for k, p in enumerate(pieces) if i <= k < j
    ]
    if j < len(pieces):
        parts.append(ELLIPSIS)
    return " ".join(parts)


def _cut_single(pieces: list[str], i: int, bold: int | None, budget: int) -> str:
    """One sentence that alone is over budget, cut between words."""
    prefix = f"{ELLIPSIS} " if i > 0 else ""
    room = budget - dlen(prefix) - (4 if i == bold else 0)
    cut = shorten(pieces[i], max(room, 1))
    return prefix + (f"**{cut}**" if i == bold else cut)


def _sentences(text: str) -> list[str]:
    return [text[s.start : s.end] for s in sentence_spans(text)]


# -------------------------------------------------------------------- citations


def _citation(sources: Sequence[Source]) -> str:
    """ "— [Title](url) · Outlet · date", then "also reported by …" for other copies."""
    first = sources[0]
    parts = [_title(first), shorten(first.outlet or "", 100), escape(first.published or "")]
    line = "— " + " · ".join(part for part in parts if part)
    others = _also_reported(first, sources[1:])
    return f"{line}\nalso reported by {others}" if others else line


def _title(source: Source) -> str:
    label = shorten(source.title or source.path, 200, escape=_escape_all)
    url = _safe_url(source.url)
    return f"[{label}]({url})" if url else label


def _also_reported(first: Source, others: Sequence[Source], most: int = 5) -> str:
    names: list[str] = []
    for source in others:
        name = source.outlet or source.title or source.path
        if name not in names and name != first.outlet:
            names.append(name)
    shown = ", ".join(shorten(name, 60) for name in names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


def _safe_url(url: str | None) -> str | None:
    """A URL usable as a link target, or None: http(s) only, no markdown-breaking characters."""
    if not url or not url.startswith(("http://", "https://")):
        return None
    safe = re.sub(r"[\s()<>]", lambda m: f"%{ord(m.group()):02X}", url)
    return safe if len(safe) <= 512 else None


# ---------------------------------------------------------------- text and limits


# Bidirectional embeddings, overrides and isolates: in a quote they could reorder what
# follows on screen (the bold marks, the citation); they carry no words, so shown
# text drops them. Other control characters go too.
_INVISIBLE = re.compile(r"[\u202a-\u202e\u2066-\u2069\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def escape(text: str) -> str:
    """Markdown-escaped text without invisible reordering or control characters; URLs are
    left whole so they still link."""
    return escape_markdown(_INVISIBLE.sub("", text))


def _escape_all(text: str) -> str:
    # Link labels need brackets escaped too, which escape_markdown leaves alone.
    return re.sub(r"([\\`*_~|\[\]()<>#-])", r"\\\1", _INVISIBLE.sub("", text))


def shorten(text: str, limit: int, *, escape: Callable[[str], str] = escape) -> str:
    """``text`` escaped in at most ``limit`` units: whole when it fits, else cut after a
    sentence (when that keeps at least half the room), else after a word, marked "…"."""
    text = " ".join(text.split())
    if dlen(escape(text)) <= limit:
        return escape(text)
    sentences = _sentences(text)
    n = _longest(len(sentences), lambda k: dlen(escape(" ".join(sentences[:k]))) + 2 <= limit)
    if n and dlen(escape(" ".join(sentences[:n]))) * 2 >= limit:
        return f"{escape(' '.join(sentences[:n]))} {ELLIPSIS}"
    words = text.split(" ")
    n = _longest(len(words), lambda k: dlen(escape(" ".join(words[:k]))) + 1 <= limit)
    if n:
        return escape(" ".join(words[:n])) + ELLIPSIS
    n = _longest(len(text), lambda k: dlen(escape(text[:k])) + 1 <= limit)
    return escape(text[:n]) + ELLIPSIS


def _longest(n: int, fits: Callable[[int], bool]) -> int:
    """The largest k in 0..n with fits(k), for fits true up to some k and false after."""
    low, high = 0, n
    while low < high:
        middle = (low + high + 1) // 2
        if fits(middle):
            low = middle
        else:
            high = middle - 1
    return low


def _cut_plain(text: str, limit: int) -> str:
    """For places that show text as is (footers, notices): cut, no escaping."""
    return shorten(text, limit, escape=lambda s: s)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _when(iso: str) -> str:
    try:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return iso
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def limit_problems(content: str | None, embeds: Sequence[discord.Embed]) -> list[str]:
    """Every way a message would break Discord's limits (empty when it fits)."""
    problems = []
    if content and dlen(content) > CONTENT_LIMIT:
        problems.append(f"content is {dlen(content)} > {CONTENT_LIMIT}")
    if len(embeds) > EMBEDS_LIMIT:
        problems.append(f"{len(embeds)} embeds > {EMBEDS_LIMIT}")
    total = 0
    for n, embed in enumerate(embeds):
        texts = _embed_texts(embed)
        if len(embed.fields) > FIELDS_LIMIT:
            problems.append(f"embed {n} has {len(embed.fields)} fields > {FIELDS_LIMIT}")
        for name, text, limit in texts:
            if dlen(text) > limit:
                problems.append(f"embed {n} {name} is {dlen(text)} > {limit}")
        total += sum(dlen(text) for _, text, _ in texts)
    if total > TOTAL_LIMIT:
        problems.append(f"embeds total {total} > {TOTAL_LIMIT}")
    return problems


def _embed_texts(embed: discord.Embed) -> list[tuple[str, str, int]]:
    texts = [
        ("title", embed.title or "", TITLE_LIMIT),
        ("description", embed.description or "", DESCRIPTION_LIMIT),
        ("footer", embed.footer.text or "", FOOTER_LIMIT),
        ("author", embed.author.name or "", AUTHOR_LIMIT),
    ]
    for field in embed.fields:
        texts.append(("field name", field.name or "", FIELD_NAME_LIMIT))
        texts.append(("field value", field.value or "", FIELD_VALUE_LIMIT))
    return texts


# ------------------------------------------------------------ other replies


def sources_embed(stats: CorpusStats) -> discord.Embed:
    """/sources: what the index holds."""
    lines = [f"**{_count(stats.articles, 'article')}** in **{_count(stats.passages, 'passage')}**"]
    if stats.first_published and stats.last_published:
        lines.append(f"Published {stats.first_published} to {stats.last_published}")
    lines.append(f"Index built {_when(stats.built_at)}")
    embed = discord.Embed(title="What I quote from", description="\n".join(lines),
                          colour=ANSWER_COLOUR)  # fmt: skip
    embed.add_field(name="Outlets", value=_outlets(stats.outlets), inline=False)
    return embed


def _outlets(outlets: Sequence[tuple[str, int]]) -> str:
    if not outlets:
        return "No outlet names are recorded in these articles."
    lines: list[str] = []
    for n, (outlet, articles) in enumerate(outlets):
        line = f"{shorten(outlet, 100)} — {_count(articles, 'article')}"
        rest = f"…and {len(outlets) - n} more"
        if dlen("\n".join([*lines, line, rest])) > FIELD_VALUE_LIMIT:
            return "\n".join([*lines, rest])
        lines.append(line)
    return "\n".join(lines)


def notice(text: str) -> str:
    """A short text message (errors, notices) within the content limit."""
    return _cut_plain(text, CONTENT_LIMIT)


def cooldown_notice(seconds: float) -> str:
    wait = max(1, math.ceil(seconds))
    return f"You're asking a little fast; please wait {wait} s before your next question."


def reindex_denied(admin_role: str | None) -> str:
    who = "members with the Manage Server permission"
    if admin_role:
        who += f" or the {admin_role} role"
    return notice(f"Only {who} can rebuild the index.")


def reindex_progress(seconds: float) -> str:
    return f"Rebuilding the index from the corpus… ({int(seconds)} s so far)"


def reindex_done(report: BuildReport) -> str:
    skipped = f", {_count(len(report.skipped), 'file')} skipped" if report.skipped else ""
    if report.up_to_date:
        return notice(
            f"The index is up to date: nothing in the corpus changed "
            f"({_count(report.articles, 'article')}, {_count(report.passages, 'passage')}"
            f"{skipped})."
        )
    return notice(
        f"Index rebuilt: {_count(report.articles, 'article')}, "
        f"{_count(report.passages, 'passage')} in {report.seconds:.1f} s{skipped}. "
        "New questions are answered from it."
    )


def vote_thanks(helpful: bool) -> str:
    return "Thanks, noted that this helped." if helpful else "Thanks, noted that this didn't help."
