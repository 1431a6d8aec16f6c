"""Reading questions: clauses and named dates."""

from __future__ import annotations

from index.query import clauses, named_dates

TEMPORAL = (
    "After the report by The Sydney Morning Herald on October 1, 2023, stating the Federal "
    "Reserve's stance on interest rates, and the subsequent report by Fortune on October 6, "
    "2023, regarding the Federal Reserve's actions, was there disagreement?"
)


def test_a_many_part_question_splits_into_clauses():
    question = (
        "Which company, featured in multiple TechCrunch articles, is responsible for developing "
        "GPT-4 Turbo and prioritizes ChatGPT as a platform while also planning an app store?"
    )
    assert clauses(question) == [
        "Which company featured in multiple TechCrunch articles",
        "is responsible for developing GPT-4 Turbo and prioritizes ChatGPT as a platform",
        "also planning an app store",
    ]


def test_dates_are_not_split_and_short_fragments_join_their_neighbour():
    parts = clauses(TEMPORAL)
    assert parts[0] == "After the report by The Sydney Morning Herald on October 1, 2023"
    assert any(p.startswith("the subsequent report by Fortune on October 6, 2023") for p in parts)
    assert all(len(p.split()) >= 4 for p in parts)


def test_a_simple_question_has_no_clauses():
    assert clauses("What did Liu Zhenli say about Taiwan?") == []


def test_named_dates_include_the_neighbouring_days():
    assert named_dates(TEMPORAL) == {
        "2023-09-30", "2023-10-01", "2023-10-02", "2023-10-05", "2023-10-06", "2023-10-07",
    }  # fmt: skip
    assert named_dates("What happened on 2021-01-28?") == {"2021-01-27", "2021-01-28", "2021-01-29"}
    assert named_dates("What happened last Thursday?") == set()
