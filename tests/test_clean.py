"""Metadata and boilerplate on each seed article, and the cleaning rules on small texts."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.clean import clean_text


def _body(text: str) -> str:
    cleaned = clean_text(text)
    return "\n".join(text[s.start : s.end] for s in cleaned.body)


def _seed(sample_corpus: Path, prefix: str) -> str:
    (path,) = sample_corpus.glob(f"{prefix}_*.txt")
    return path.read_bytes().decode("utf-8")


@pytest.mark.parametrize(
    ("seed", "title", "byline", "outlet", "published", "dateline"),
    [
        ("000", None, None, None, None, "BEIJING"),
        (
            "001",
            "China: 'New historical starting point' with US military",
            "Associated Press",
            "Associated Press",
            "2021-01-28",
            "BEIJING",
        ),
        (
            "002",
            "China, US militaries to enhance dialogue, manage differences",
            "Zhang Zhihao",
            None,
            "2020-10-29",
            None,
        ),
        ("003", None, None, None, None, "WASHINGTON"),
        (
            "004",
            "Top US, China officials talk for first time in over a year",
            None,
            None,
            None,
            None,
        ),
    ],
)
def test_seed_metadata(sample_corpus, seed, title, byline, outlet, published, dateline):
    cleaned = clean_text(_seed(sample_corpus, seed))
    assert (cleaned.title, cleaned.byline, cleaned.outlet) == (title, byline, outlet)
    assert (cleaned.published, cleaned.dateline) == (published, dateline)


def test_dateline_is_cut_from_the_first_paragraph(sample_corpus):
    text = _seed(sample_corpus, "001")
    first = clean_text(text).body[0]
    assert text[first.start : first.end].startswith("Putting frictions aside for now")


def test_001_header_and_most_popular_list_are_dropped(sample_corpus):
    body = _body(_seed(sample_corpus, "001"))
    for junk in ("Home", "World", "By Associated Press", "2021/01/28", "Updated :",
                 "MOST POPULAR", "Taipei Metro condemns", "NT$20,000", "Alexa"):  # fmt: skip
        assert junk not in body
    assert body.rstrip().endswith('on the right track," Wu said.')


def test_002_read_more_lines_and_captions_are_dropped(sample_corpus):
    body = _body(_seed(sample_corpus, "002"))
    junk_lines = ("READ MORE", "ALSO READ", "This undated photo shows", "(PHOTO", "Published:",
                  "Wu Qian, Ministry of National Defense spokesman\n", "By Zhang")  # fmt: skip
    for junk in junk_lines:
        assert junk not in body
    assert "clarified US media reports" in body


def test_003_read_links_are_dropped(sample_corpus):
    body = _body(_seed(sample_corpus, "003"))
    assert "READ:" not in body
    assert "Liu, 59, is just not below Western sanctions." in body


def test_004_repeated_paragraph_appears_once(sample_corpus):
    body = _body(_seed(sample_corpus, "004"))
    assert body.count("fruition of the latest meeting") == 1
    assert "Read next:" not in body and "Read more:" not in body
    assert "Righting the wrongs" not in body


def test_markdown_headings_are_titles_not_quotes():
    text = "# Storm hits coast\n\nThe storm reached the coast on Monday and cut power to homes.\n"
    cleaned = clean_text(text, markdown=True)
    assert cleaned.title == "Storm hits coast"
    assert _body(text) == "The storm reached the coast on Monday and cut power to homes."


def test_byline_names_an_agency_as_outlet():
    text = (
        "Quake shakes city\nBy Jane Doe | Reuters\n\n"
        "A strong quake shook the city on Friday, officials said.\n"
    )
    cleaned = clean_text(text)
    assert cleaned.outlet == "Reuters"
    assert cleaned.byline == "Jane Doe | Reuters"


def test_hard_wrapped_paragraph_is_one_span():
    text = (
        "Officials said the bridge would reopen\n"
        "next week after repairs to its deck\n"
        "were finished ahead of schedule.\n"
    )
    (span,) = clean_text(text).body
    assert text[span.start : span.end] == text.strip()


def test_caption_between_paragraphs_splits_them():
    text = (
        "The council voted on Tuesday to approve the new budget for schools.\n\n"
        "Council members at the vote (AP Photo/John Smith)\n\n"
        "The budget adds money for teachers and buildings over two years.\n"
    )
    assert [text[s.start : s.end] for s in clean_text(text).body] == [
        "The council voted on Tuesday to approve the new budget for schools.",
        "The budget adds money for teachers and buildings over two years.",
    ]
