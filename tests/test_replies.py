"""Replies: answers, stats and notices rendered within Discord's limits."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import replies
from bot.replies import (
    DESCRIPTION_LIMIT,
    TITLE_LIMIT,
    answer_reply,
    dlen,
    limit_problems,
    notice,
    reindex_done,
    shorten,
    sources_embed,
)
from index.build import BuildReport
from index.models import Answer, CorpusStats, Filters, IndexInfo, QuotedPassage, Source

INFO = IndexInfo("2026-11-22T02:21:46Z", 5, 32)
AP = Source("d1", "001.txt", "China and the US talk", "Associated Press", "2021-01-28",
            "https://apnews.com/article/china-us", 0, 100)  # fmt: skip
TEXT = (
    "The two militaries spoke by video. Liu said the issue of Taiwan concerns China's "
    "core interests. He urged the US to act prudently."
)
HIGHLIGHT = "Liu said the issue of Taiwan concerns China's core interests."


def _answer(*passages: QuotedPassage, question: str = "What did Liu say?", **kw) -> Answer:
    return Answer(question, True, passages, INFO, passages[0].score if passages else None, **kw)


def _passage(text: str = TEXT, highlight: str = HIGHLIGHT, *sources: Source) -> QuotedPassage:
    return QuotedPassage(text, highlight, 0.7, sources or (AP,))


def test_an_answer_quotes_with_the_highlight_in_bold_and_cites_its_source():
    reply = answer_reply(_answer(_passage()))
    embed = reply.embed
    assert reply.shown == 1
    assert embed.title == "What did Liu say?"
    assert f"**{HIGHLIGHT}**" in (embed.description or "")
    assert (embed.description or "").startswith("> The two militaries spoke by video. **Liu said")
    assert (
        "— [China and the US talk](https://apnews.com/article/china-us) · Associated Press · "
        "2021-01-28" in (embed.description or "")
    )
    assert embed.footer.text == "passage 1 · index of 5 articles, built 2026-11-22 02:21 UTC"


def test_several_sources_are_also_reported_and_a_source_without_url_is_not_linked():
    copy = Source("d2", "000.txt", "Talks", "Yahoo News", "2021-01-28", None, 0, 100)
    same_outlet = Source("d3", "002.txt", "Talks again", "Associated Press", None, None, 0, 9)
    reply = answer_reply(_answer(_passage(TEXT, HIGHLIGHT, copy, AP, same_outlet)))
    description = reply.embed.description or ""
    assert "— Talks · Yahoo News · 2021-01-28\nalso reported by Associated Press" in description
    assert "](" not in description


def test_numbering_and_filters_show_in_the_footer():
    answer = _answer(_passage(), _passage(), filters=Filters("2021-01-01", None, "AP"))
    footer = answer_reply(answer, first=4).embed.footer.text
    assert footer == (
        "passages 4–5 · index of 5 articles, built 2026-11-22 02:21 UTC · "
        "since 2021-01-01, outlet AP"
    )


def test_quoted_markdown_and_mentions_are_escaped():
    text = "Officials said *nothing* about `code` or __this__ @everyone. See https://x.org/a_b."
    description = answer_reply(_answer(_passage(text, text))).embed.description or ""
    assert r"\*nothing\*" in description and r"\`code\`" in description
    assert r"\_\_this\_\_" in description
    assert "https://x.org/a_b" in description  # links stay clickable


def test_an_unanswered_question_names_closest_topics_not_weak_quotes():
    answer = Answer("Which chef won?", False, (), INFO, 0.12, ("RIMPAC drills", "Li *Shangfu*"))
    reply = answer_reply(answer)
    assert reply.shown == 0
    assert reply.embed.description == (
        "I couldn't find that in the corpus.\n\n"
        "Closest topics:\n• RIMPAC drills\n• Li \\*Shangfu\\*"
    )
    assert ">" not in (reply.embed.description or "")


def test_filters_that_match_nothing_are_said_so():
    answer = Answer("Taiwan?", False, (), INFO, None, (), Filters(since="2030-01-01"))
    assert answer_reply(answer).embed.description == (
        "No article in the corpus matches since 2030-01-01."
    )


def test_no_further_passages():
    reply = answer_reply(Answer("Taiwan?", True, (), INFO, 0.8), first=4)
    assert reply.shown == 0
    assert reply.embed.description == "No further passages answer this question."


def test_long_passages_are_cut_at_sentences_around_the_highlight_and_keep_citations():
    sentence = "This sentence is filler about nothing in particular at all. "
    text = sentence * 40 + HIGHLIGHT + " " + sentence * 40
    answer = _answer(*[_passage(text, HIGHLIGHT) for _ in range(5)])
    reply = answer_reply(answer)
    description = reply.embed.description or ""
    assert limit_problems(None, [reply.embed]) == []
    assert reply.shown == 5
    assert description.count(f"**{HIGHLIGHT}**") == 5
    assert description.count("— [China and the US talk](https://apnews.com/article/china-us)") == 5
    for block in description.split("\n\n"):
        quote = block.split("\n")[0]
        assert quote.startswith("> … This sentence") and quote.endswith("particular at all. …")


def test_twenty_five_huge_passages_drop_the_last_ones_rather_than_break_limits():
    long = Source("d", "p.txt", "T" * 900, "O" * 300, "2021-01-01", "https://e.com/" + "a" * 490,
                  0, 1)  # fmt: skip
    answer = _answer(*[_passage("word " * 2000, "", long) for _ in range(25)])
    reply = answer_reply(answer)
    assert limit_problems(None, [reply.embed]) == []
    assert 1 <= reply.shown < 25
    assert (reply.embed.description or "").count("https://e.com/") == reply.shown


def test_a_long_question_title_is_cut_at_a_word_with_an_ellipsis():
    question = "Why " + "really " * 100 + "did it happen?"
    title = answer_reply(_answer(_passage(), question=question)).embed.title or ""
    assert dlen(title) <= TITLE_LIMIT and title.endswith("really…")


def test_shorten_prefers_sentence_boundaries():
    text = "First sentence is here. Second one follows it. Third is the last."
    assert shorten(text, 50) == "First sentence is here. Second one follows it. …"
    assert shorten(text, 30) == "First sentence is here. …"
    assert shorten(text, 20) == "First sentence is…"
    assert shorten("x" * 50, 10) == "x" * 9 + "…"
    assert shorten("a_b " * 10, 12) == r"a\_b a\_b…"


def test_sources_embed_lists_outlets_within_the_field_limit():
    outlets = tuple((f"Outlet number {n}", 500 - n) for n in range(500))
    stats = CorpusStats(9000, 90000, "2026-11-22T02:21:46Z", outlets, "2020-01-01", "2021-12-31")
    embed = sources_embed(stats)
    assert limit_problems(None, [embed]) == []
    assert "**9000 articles** in **90000 passages**" in (embed.description or "")
    assert "Published 2020-01-01 to 2021-12-31" in (embed.description or "")
    value = embed.fields[0].value or ""
    assert value.startswith("Outlet number 0 — 500 articles\n")
    assert re.search(r"…and \d+ more$", value)


def test_sources_without_outlets():
    stats = CorpusStats(1, 3, "2026-11-22T02:21:46Z", (), None, None)
    assert sources_embed(stats).fields[0].value == "No outlet names are recorded in these articles."


def test_notices_fit_the_content_limit():
    assert dlen(notice("error: " + "path/" * 1000)) <= replies.CONTENT_LIMIT
    assert replies.cooldown_notice(7.2) == (
        "You're asking a little fast; please wait 8 s before your next question."
    )
    assert replies.reindex_denied("newsbot-admin") == (
        "Only members with the Manage Server permission or the newsbot-admin role can rebuild "
        "the index."
    )


def test_limit_problems_reports_each_broken_limit():
    import discord

    embed = discord.Embed(title="t" * 300, description="d" * 5000)
    for n in range(26):
        embed.add_field(name=str(n), value="v" * 1100)
    problems = limit_problems("c" * 2001, [embed] * 11)
    joined = "\n".join(problems)
    for expected in ("content", "11 embeds", "26 fields", "title is 300", "description is 5000",
                     "field value is 1100", "embeds total"):  # fmt: skip
        assert expected in joined


# ----------------------------------------------------------------- property tests

ODD_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("*_~`|>#-[]()\\@<:!.?… \n\t")),
        st.characters(codec="utf-8", exclude_categories=("Cs",)),
    ),
    min_size=1,
    max_size=3000,
)
SOURCE = st.builds(
    Source,
    doc_id=st.just("d"),
    path=st.text(min_size=1, max_size=300),
    title=st.none() | ODD_TEXT,
    outlet=st.none() | st.text(max_size=400),
    published=st.none() | st.just("2021-01-28"),
    url=st.none() | st.text(max_size=800).map(lambda s: "https://example.com/" + s),
    start=st.just(0),
    end=st.just(1),
)


@st.composite
def passages(draw: st.DrawFn) -> QuotedPassage:
    text = draw(ODD_TEXT)
    sentences = [text[s.start : s.end] for s in replies.sentence_spans(text)] or [text]
    highlight = draw(st.sampled_from(sentences))
    sources = tuple(draw(st.lists(SOURCE, min_size=1, max_size=12)))
    return QuotedPassage(text, highlight, 0.5, sources)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(passages(), min_size=1, max_size=25), ODD_TEXT, st.integers(1, 100))
def test_any_answer_fits_discords_limits_and_keeps_citations_whole(quoted, question, first):
    reply = answer_reply(_answer(*quoted, question=question), first=first)
    assert limit_problems(None, [reply.embed]) == []
    assert 1 <= reply.shown <= len(quoted)
    description = reply.embed.description or ""
    for passage in quoted[: reply.shown]:
        assert replies._citation(passage.sources) in description


@settings(max_examples=200, deadline=None)
@given(ODD_TEXT, st.integers(1, DESCRIPTION_LIMIT))
def test_shorten_never_exceeds_its_limit(text, limit):
    out = shorten(text, limit)
    assert dlen(out) <= limit
    assert out == replies.escape(" ".join(text.split())) or out.endswith("…")


def test_reindex_done_says_when_nothing_changed(tmp_path):
    kept = BuildReport(tmp_path, 5, 21, [], 0.2, 0.0, up_to_date=True)
    assert "up to date" in reindex_done(kept) and "5 articles" in reindex_done(kept)
    rebuilt = BuildReport(tmp_path, 6, 23, [], 1.5, 1.0, embedded=2)
    assert reindex_done(rebuilt).startswith("Index rebuilt: 6 articles, 23 passages")
