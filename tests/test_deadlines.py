"""Deadline cells read the way a UK plan owner means them: "Sept 23" is due at the end of September 2023."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storage.rules.deadlines import MAX_DEADLINE_CHARS, Deadline, DeadlineKind, interpret_deadline
from storage.rules.deadlines.fast import FAST_SHAPE, read_fast
from storage.rules.deadlines.ranges import read_part_in_full
from storage.rules.deadlines.reading import read_cell, read_cell_in_full


def reads(
    cell: str,
    kind: DeadlineKind,
    *,
    start: date | None = None,
    due: date | None = None,
    recurrence: str | None = None,
    milestones: tuple[date, ...] = (),
    today: date | None = None,
) -> Deadline:
    deadline = interpret_deadline(cell, today=today)
    assert deadline.text == cell
    assert (deadline.kind, deadline.start, deadline.due, deadline.recurrence, deadline.milestones) == (
        kind,
        start,
        due,
        recurrence,
        milestones,
    ), deadline
    return deadline


def only_warning(deadline: Deadline) -> str:
    assert len(deadline.warnings) == 1, deadline.warnings
    return deadline.warnings[0]


# -- dated -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "due"),
    [
        ("June 23", date(2023, 6, 30)),
        ("Sept 23", date(2023, 9, 30)),
        ("Apr-20", date(2020, 4, 30)),
        ("June 2024", date(2024, 6, 30)),
        ("Due July 2025", date(2025, 7, 31)),
        ("October 23", date(2023, 10, 31)),
        ("Dec 23", date(2023, 12, 31)),
        ("March 24", date(2024, 3, 31)),
        ("Nov 2022", date(2022, 11, 30)),
        ("November 2022", date(2022, 11, 30)),
        ("Feb 24", date(2024, 2, 29)),
        ("Feb 23", date(2023, 2, 28)),
    ],
)
def test_a_month_and_year_is_due_on_the_last_day_of_that_month(cell: str, due: date) -> None:
    assert not reads(cell, "dated", due=due).warnings


@pytest.mark.parametrize(
    "cell",
    [
        "31/3/24",
        "30th June 2019",
        "31.03.2024",
        "2024-03-31",
        "31 March 2024",
        "by 31/3/24",
        "31/03/2024",
        "31st March 2024",
        "March 31st, 2024",
        "31-Mar-24",
        "2024-03-31 00:00:00",
        "Deadline: 31/3/24",
    ],
)
def test_a_written_day_is_due_that_day(cell: str) -> None:
    expected = {"30th June 2019": date(2019, 6, 30)}.get(cell, date(2024, 3, 31))
    assert not reads(cell, "dated", due=expected).warnings


@pytest.mark.parametrize(
    ("cell", "start", "due"),
    [
        ("Q3 2024", date(2024, 7, 1), date(2024, 9, 30)),
        ("Q1 2024", date(2024, 1, 1), date(2024, 3, 31)),
        ("Q1 2024/25", date(2024, 4, 1), date(2024, 6, 30)),
        ("Q1 2024-25", date(2024, 4, 1), date(2024, 6, 30)),
        ("Q4 23/24", date(2024, 1, 1), date(2024, 3, 31)),
        ("Q3 FY24/25", date(2024, 10, 1), date(2024, 12, 31)),
    ],
)
def test_quarters_run_from_their_first_day_to_their_last(cell: str, start: date, due: date) -> None:
    reads(cell, "dated", start=start, due=due)


@pytest.mark.parametrize(
    ("cell", "start", "due"),
    [
        ("Q1 2024 - Q2 2024", date(2024, 1, 1), date(2024, 6, 30)),
        ("Q4 2024 – Q4 2025", date(2024, 10, 1), date(2025, 12, 31)),
        ("Q4 2024 — Q4 2025", date(2024, 10, 1), date(2025, 12, 31)),
        ("Jan – Mar 2024", date(2024, 1, 1), date(2024, 3, 31)),
        ("Nov – Feb 2025", date(2024, 11, 1), date(2025, 2, 28)),
        ("2023-2025", date(2023, 1, 1), date(2025, 12, 31)),
        ("April 2023 to March 2024", date(2023, 4, 1), date(2024, 3, 31)),
        ("Between April 2023 and March 2024", date(2023, 4, 1), date(2024, 3, 31)),
        ("3 – 7 June 2024", date(2024, 6, 3), date(2024, 6, 7)),
    ],
)
def test_a_range_starts_with_its_first_period_and_is_due_at_the_end_of_its_last(
    cell: str, start: date, due: date
) -> None:
    reads(cell, "dated", start=start, due=due)


def test_two_consecutive_calendar_years_are_a_range_with_a_note_about_financial_years() -> None:
    warning = only_warning(reads("2023-2024", "dated", start=date(2023, 1, 1), due=date(2024, 12, 31)))
    assert "financial year" in warning and "2023/24" in warning


def test_a_range_that_ends_before_it_starts_is_not_guessed() -> None:
    warning = only_warning(reads("March 2024 - Jan 2024", "unknown"))
    assert "ends before it starts" in warning


def test_either_of_two_months_is_due_at_the_end_of_the_later() -> None:
    reads("June/July 2024", "dated", due=date(2024, 7, 31))


def test_a_year_alone_is_due_on_the_last_day_of_december() -> None:
    reads("2023", "dated", due=date(2023, 12, 31))


@pytest.mark.parametrize("cell", ["2024/25", "2024-25", "FY 2024/25", "2024/2025"])
def test_a_financial_year_alone_runs_april_to_march(cell: str) -> None:
    reads(cell, "dated", start=date(2024, 4, 1), due=date(2025, 3, 31))


@pytest.mark.parametrize(
    ("cell", "due"),
    [
        ("before April 2024", date(2024, 3, 31)),
        ("by end of Q2 2024", date(2024, 6, 30)),
        ("End of 2024", date(2024, 12, 31)),
        ("w/c 3 June 2024", date(2024, 6, 3)),
        ("week commencing 03/06/2024", date(2024, 6, 3)),
    ],
)
def test_deadline_words_around_a_date_are_understood(cell: str, due: date) -> None:
    reads(cell, "dated", due=due)


@pytest.mark.parametrize(
    ("cell", "due"),
    [
        ("Sept. 23", date(2023, 9, 30)),
        ("SEPT 2023", date(2023, 9, 30)),
        ("sep 2023", date(2023, 9, 30)),
        ("  June 2024  ", date(2024, 6, 30)),
        ("June 2024.", date(2024, 6, 30)),
        ("<p>June 23</p>", date(2023, 6, 30)),
        ("• March 24", date(2024, 3, 31)),
        ("April '24", date(2024, 4, 30)),
        ("Jun-2024", date(2024, 6, 30)),
        ("June\u00a02024", date(2024, 6, 30)),
        ("(March 2024)", date(2024, 3, 31)),
    ],
)
def test_spelling_case_spacing_and_stray_punctuation_do_not_matter(cell: str, due: date) -> None:
    reads(cell, "dated", due=due)


def test_two_digit_years_are_this_century_whatever_the_clock_says() -> None:
    reads("Q2 99", "dated", start=date(2099, 4, 1), due=date(2099, 6, 30))
    reads("1/6/99", "dated", due=date(2099, 6, 1))
    reads("1 June 99", "dated", due=date(2099, 6, 1))


def test_a_season_is_read_as_its_three_months_with_a_note() -> None:
    warning = only_warning(reads("Autumn 2024", "dated", start=date(2024, 9, 1), due=date(2024, 11, 30)))
    assert "season" in warning and "September 2024 to November 2024" in warning


# -- ongoing, recurring, complete --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cell",
    [
        "Ongoing",
        "Throughout year",
        "Continuous",
        "On-going",
        "ongoing",
        "Ongoing ",
        "Throughout the year",
        "Ongoing – Update to be provided as part of EDI Annual update",
        "Ongoing – Update to be provided as part of EDI Annual update and Workforce Strategy Annual Update",
        "Business as usual",
        "As required",
    ],
)
def test_ongoing_work_has_no_due_date(cell: str) -> None:
    assert not reads(cell, "ongoing").warnings


@pytest.mark.parametrize(
    ("cell", "recurrence"),
    [
        ("Annually", "P1Y"),
        ("Quarterly", "P3M"),
        ("Monthly", "P1M"),
        ("Weekly", "P1W"),
        ("Every 6 months", "P6M"),
        ("Twice a year", "P6M"),
        ("Each year", "P1Y"),
        ("Yearly", "P1Y"),
        ("Every 3 months", "P3M"),
        ("Every 2 weeks", "P2W"),
        ("Fortnightly", "P2W"),
        ("Six-monthly", "P6M"),
        ("Every 12 months", "P1Y"),
    ],
)
def test_regular_work_repeats_with_its_period(cell: str, recurrence: str) -> None:
    assert not reads(cell, "recurring", recurrence=recurrence).warnings


@pytest.mark.parametrize(
    ("cell", "recurrence", "other_meaning"),
    [
        ("Bi-annual", "P6M", "every two years"),
        ("Biannually", "P6M", "every two years"),
        ("Tri-annually", "P4M", "every three years"),
        ("Termly", "P4M", "school calendar"),
    ],
)
def test_ambiguous_repeat_words_say_how_they_were_read(
    cell: str, recurrence: str, other_meaning: str
) -> None:
    warning = only_warning(reads(cell, "recurring", recurrence=recurrence))
    assert warning.startswith(f"'{cell}'")
    assert other_meaning in warning
    assert f"every {recurrence[1]} months" in warning


def test_a_repeat_with_a_month_uses_today_to_find_the_next_one() -> None:
    reads("Annually in March", "recurring", recurrence="P1Y")
    reads("Annually in March", "recurring", recurrence="P1Y", due=date(2025, 3, 31), today=date(2024, 6, 5))


@pytest.mark.parametrize(
    ("cell", "start"),
    [
        ("From April 2019", date(2019, 4, 1)),
        ("Start date April 2024", date(2024, 4, 1)),
        ("Starting Jan 2025", date(2025, 1, 1)),
        ("March 2024 onwards", date(2024, 3, 1)),
        ("Sept 2022 – ongoing", date(2022, 9, 1)),
        ("From 3/6/24", date(2024, 6, 3)),
    ],
)
def test_work_that_starts_on_a_date_then_carries_on_has_a_start_and_no_due_date(
    cell: str, start: date
) -> None:
    reads(cell, "ongoing", start=start)


@pytest.mark.parametrize(
    ("cell", "due"),
    [
        ("Nov 2022 & Ongoing", date(2022, 11, 30)),
        ("Apr-19 and ongoing", date(2019, 4, 30)),
        ("Sept 2022 & Ongoing", date(2022, 9, 30)),
        ("March 2024 then ongoing", date(2024, 3, 31)),
    ],
)
def test_a_first_deadline_followed_by_ongoing_work_keeps_that_deadline(cell: str, due: date) -> None:
    assert not reads(cell, "ongoing", due=due).warnings


@pytest.mark.parametrize(
    "cell", ["Complete", "Completed", "Published", "Achieved", "Done", "Delivered", "complete"]
)
def test_finished_work_is_complete(cell: str) -> None:
    assert not reads(cell, "complete").warnings


def test_complete_by_a_date_is_an_instruction_not_a_report() -> None:
    reads("Complete by March 2024", "dated", due=date(2024, 3, 31))
    reads("Completed March 2023", "complete", due=date(2023, 3, 31))


# -- several dates, dates in words -------------------------------------------------------------------------


def test_two_dates_in_one_cell_are_due_at_the_earlier_with_the_later_as_a_milestone() -> None:
    deadline = reads("Sept 23 and March 24", "dated", due=date(2023, 9, 30), milestones=(date(2024, 3, 31),))
    warning = only_warning(deadline)
    assert "30 September 2023" in warning and "31 March 2024" in warning


def test_one_date_per_line_is_read_as_a_deadline_and_sorted_milestones() -> None:
    deadline = reads(
        "Due July 2025\nJuly 2024\nOctober 2024",
        "dated",
        due=date(2024, 7, 31),
        milestones=(date(2024, 10, 31), date(2025, 7, 31)),
    )
    assert "31 October 2024, 31 July 2025" in only_warning(deadline)


def test_a_date_buried_in_a_sentence_counts_and_the_owner_is_told_the_cell_says_more() -> None:
    warning = only_warning(reads(FIRST_ROUND, "dated", due=date(2024, 3, 31)))
    assert "says more than a date" in warning and "31 March 2024" in warning


def test_a_note_after_a_date_is_kept_as_text_with_a_warning() -> None:
    assert "says more than a date" in only_warning(reads("March 2024 (tbc)", "dated", due=date(2024, 3, 31)))


# -- unknown -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cell", ["", "   ", "\n", "<p></p>"])
def test_an_empty_cell_is_unknown_without_complaint(cell: str) -> None:
    assert not reads(cell, "unknown").warnings


@pytest.mark.parametrize(
    ("cell", "says"),
    [
        ("Next staff survey", "'Next staff survey' is not a date I understand"),
        ("TBC", "still to be confirmed"),
        ("TBA", "still to be confirmed"),
        ("–", "placeholder"),
        ("N/A", "no deadline"),
        ("Febuary 2024", "not a date I understand"),
        ("Policy, Communities and Engagement", "not a date I understand"),
        ("Ongoing project and it is important that this action remains", "not a date I understand"),
    ],
)
def test_a_cell_without_a_date_is_unknown_and_the_owner_is_told_why(cell: str, says: str) -> None:
    assert says in only_warning(reads(cell, "unknown"))


def test_a_reporting_note_with_no_date_is_unknown_even_though_it_mentions_annual_updates() -> None:
    warning = only_warning(reads(f"– {BOTH_UPDATES}", "unknown"))
    assert warning.startswith("'– Update to be provided") and "not a date I understand" in warning


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        ("Sept 32", "September has no 32nd day"),
        ("31/2/24", "February 2024 has only 29 days"),
        ("30 February 2023", "February 2023 has only 28 days"),
        ("2024-13-01", "there is no month 13"),
    ],
)
def test_an_impossible_date_is_flagged_not_guessed(cell: str, reason: str) -> None:
    warning = only_warning(reads(cell, "unknown"))
    assert "not a real date" in warning and reason in warning


# -- relative phrases, with and without today --------------------------------------------------------------

WEDNESDAY = date(2024, 6, 5)


@pytest.mark.parametrize(
    ("cell", "due"),
    [
        ("end of March", date(2025, 3, 31)),
        ("end of June", date(2024, 6, 30)),
        ("next Friday", date(2024, 6, 7)),
        ("in 2 weeks", date(2024, 6, 19)),
        ("in 3 days", date(2024, 6, 8)),
        ("in a month", date(2024, 7, 5)),
        ("31/3", date(2025, 3, 31)),
        ("5/6", date(2024, 6, 5)),
        ("30 June", date(2024, 6, 30)),
        ("tomorrow", date(2024, 6, 6)),
        ("end of month", date(2024, 6, 30)),
        ("end of next month", date(2024, 7, 31)),
        ("by Friday", date(2024, 6, 7)),
        ("end of the financial year", date(2025, 3, 31)),
    ],
)
def test_relative_phrases_count_from_today(cell: str, due: date) -> None:
    reads(cell, "dated", due=due, today=WEDNESDAY)


@pytest.mark.parametrize(
    "cell", ["end of March", "next Friday", "in 2 weeks", "31/3", "tomorrow", "end of month"]
)
def test_relative_phrases_without_today_ask_for_a_reference_date(cell: str) -> None:
    assert "needs a reference date" in only_warning(reads(cell, "unknown"))


def test_next_friday_said_early_in_the_week_says_which_friday_it_chose() -> None:
    warning = only_warning(reads("next Friday", "dated", due=date(2024, 6, 7), today=WEDNESDAY))
    assert "Friday 7 June 2024" in warning


def test_the_same_cell_on_different_days_is_worked_out_afresh() -> None:
    assert interpret_deadline("tomorrow", today=date(2024, 1, 1)).due == date(2024, 1, 2)
    assert interpret_deadline("tomorrow", today=date(2024, 2, 1)).due == date(2024, 2, 2)


def test_a_datetime_can_stand_for_today() -> None:
    reads("tomorrow", "dated", due=date(2024, 6, 6), today=datetime(2024, 6, 5, 9, 30))


def test_absolute_dates_ignore_today() -> None:
    reads("June 23", "dated", due=date(2023, 6, 30), today=WEDNESDAY)


# -- the published plans -----------------------------------------------------------------------------------

# Every deadline cell in ../shared/plans, as the importer hands them over (HTML left in).
BOTH_UPDATES = "Update to be provided as part of EDI Annual update and Workforce Strategy Annual Update"
FIRST_ROUND = "First round of project to be deliver by 31/3/24 with further projects to be agreed"
PLAN_CELLS: list[tuple[str, DeadlineKind, date | None]] = [
    # 000: Local Trust, column "When"
    ("June 23", "dated", date(2023, 6, 30)),
    ("<p>June 23</p>", "dated", date(2023, 6, 30)),
    ("Sept 23", "dated", date(2023, 9, 30)),
    ("<p>Sept 23</p>", "dated", date(2023, 9, 30)),
    ("Dec 23", "dated", date(2023, 12, 31)),
    ("October 23", "dated", date(2023, 10, 31)),
    ("March 24", "dated", date(2024, 3, 31)),
    ("<p>March 24</p>", "dated", date(2024, 3, 31)),
    ("Ongoing", "ongoing", None),
    # 002: Maidstone, column "Timescale for delivery"
    ("Ongoing – Update to be provided as part of EDI Annual update", "ongoing", None),
    ("<p>Ongoing – Update to be provided as part of EDI Annual update</p>", "ongoing", None),
    (f"Ongoing – {BOTH_UPDATES}", "ongoing", None),
    (f"<p>– {BOTH_UPDATES}</p>", "unknown", None),
    ("June 2024", "dated", date(2024, 6, 30)),
    ("June/July 2024", "dated", date(2024, 7, 31)),
    ("March 2024", "dated", date(2024, 3, 31)),
    ("<p>March 2024</p>", "dated", date(2024, 3, 31)),
    ("October 2024", "dated", date(2024, 10, 31)),
    ("<p>October 2024</p>", "dated", date(2024, 10, 31)),
    ("<p>Due July 2025</p> <p>July 2024</p> <p>October 2024</p>", "dated", date(2024, 7, 31)),
    (FIRST_ROUND, "dated", date(2024, 3, 31)),
    ("Start date April 2024", "ongoing", None),
    ("", "unknown", None),
    # 004: B&NES, column "By when"
    ("Nov 2022 & Ongoing", "ongoing", date(2022, 11, 30)),
    ("Nov 2022 & Ongoing", "ongoing", date(2022, 11, 30)),
    ("Nov 22 & Ongoing", "ongoing", date(2022, 11, 30)),
    ("Oct 22 & Ongoing", "ongoing", date(2022, 10, 31)),
    ("Sept 2022 & Ongoing", "ongoing", date(2022, 9, 30)),
    ("Sept 2022 & ongoing", "ongoing", date(2022, 9, 30)),
    ("April 23 & Ongoing", "ongoing", date(2023, 4, 30)),
    ("November 2022", "dated", date(2022, 11, 30)),
    ("Nov 2022", "dated", date(2022, 11, 30)),
    ("Nov 22", "dated", date(2022, 11, 30)),
    ("Oct 22", "dated", date(2022, 10, 31)),
    ("Sept 22", "dated", date(2022, 9, 30)),
    ("Dec 22", "dated", date(2022, 12, 31)),
    ("Dec 2022", "dated", date(2022, 12, 31)),
    ("Jan 23", "dated", date(2023, 1, 31)),
    ("Jan 2022", "dated", date(2022, 1, 31)),
    ("Sept 23", "dated", date(2023, 9, 30)),
    ("Dec 23", "dated", date(2023, 12, 31)),
    ("April 2023", "dated", date(2023, 4, 30)),
    ("2023", "dated", date(2023, 12, 31)),
    ("Ongoing ", "ongoing", None),
    ("Complete", "complete", None),
    ("complete", "complete", None),
    ("Published", "complete", None),
    ("Bi-annual", "recurring", None),
    ("TBC", "unknown", None),
]


@pytest.mark.parametrize(("cell", "kind", "due"), PLAN_CELLS)
def test_every_deadline_cell_in_the_published_plans_reads_sensibly(
    cell: str, kind: DeadlineKind, due: date | None
) -> None:
    deadline = interpret_deadline(cell)
    assert (deadline.kind, deadline.due) == (kind, due)
    assert deadline.text == cell


def test_the_maidstone_multi_date_cell_keeps_its_later_dates_as_milestones() -> None:
    deadline = interpret_deadline("<p>Due July 2025</p> <p>July 2024</p> <p>October 2024</p>")
    assert deadline.milestones == (date(2024, 10, 31), date(2025, 7, 31))
    assert only_warning(deadline).startswith("'Due July 2025 / July 2024 / October 2024' names several dates")


# -- warnings are for people -------------------------------------------------------------------------------

EVERY_EXAMPLE = [cell for cell, _, _ in PLAN_CELLS] + [
    "Sept 32",
    "31/2/24",
    "Next staff survey",
    "TBC",
    "–",
    "Bi-annual",
    "Tri-annually",
    "Termly",
    "2023-2024",
    "Sept 23 and March 24",
    "Spring 2024",
    "next Friday",
    "March 2024 - Jan 2024",
    "31/3",
    "June 1066",
]


@pytest.mark.parametrize("cell", EVERY_EXAMPLE)
def test_warnings_quote_the_cell_and_read_as_plain_english(cell: str) -> None:
    for warning in interpret_deadline(cell).warnings:
        assert warning.startswith("'"), warning
        assert warning[0].isupper() or warning[1] in "'–0123456789" or warning[1].isalpha()
        for jargon in ("datetime", "None", "P1Y", "P6M", "P4M", "ISO", "parse", "regex", "\n"):
            assert jargon not in warning, warning


# -- properties --------------------------------------------------------------------------------------------

FRAGMENTS = st.sampled_from(
    [
        "June",
        "Sept",
        "Q1",
        "Q4",
        "2024",
        "24",
        "23/24",
        "2024/25",
        "31",
        "3",
        "/",
        "-",
        "–",
        " ",
        "and",
        "&",
        "Ongoing",
        "from",
        "by",
        "end of",
        "next",
        "Friday",
        "in",
        "2",
        "weeks",
        "Annually",
        "TBC",
        "\n",
        "<p>",
        "</p>",
        "to",
        "or",
        "w/c",
        "29",
        "Feb",
        "0",
        "9999",
        "Spring",
        "(",
        ")",
        ".",
    ]
)
DEADLINE_LIKE = st.lists(FRAGMENTS, max_size=7).map(" ".join) | st.lists(FRAGMENTS, max_size=7).map("".join)
TODAY = st.none() | st.dates()


def assert_consistent(text: str, deadline: Deadline) -> None:
    assert deadline.text == text
    if deadline.start is not None and deadline.due is not None:
        assert deadline.due >= deadline.start
    if deadline.kind == "dated":
        assert deadline.due is not None
    if deadline.kind == "unknown":
        assert deadline.due is None and deadline.start is None
    assert list(deadline.milestones) == sorted(set(deadline.milestones))
    if deadline.milestones:
        assert deadline.due is not None and deadline.milestones[0] > deadline.due


@settings(max_examples=300, deadline=None)
@given(st.text(), TODAY)
def test_any_text_at_all_is_read_without_error_and_kept_exactly(text: str, today: date | None) -> None:
    assert_consistent(text, interpret_deadline(text, today=today))


@settings(max_examples=400, deadline=None)
@given(DEADLINE_LIKE, TODAY)
def test_near_misses_of_real_deadlines_stay_consistent(text: str, today: date | None) -> None:
    assert_consistent(text, interpret_deadline(text, today=today))


# The commonest shapes ("Sept 23", "31/3/24", "Q1 2024/25", "2025") are read by a quick path; it must give
# exactly what the full grammar gives, or step aside.
QUICK_SHAPES = st.from_regex(FAST_SHAPE, fullmatch=True) | st.builds(
    "{}{}{}{}{}".format,
    st.sampled_from(["", "Due ", "by ", "by end of ", "By the end of ", "end of ", "in "]),
    st.sampled_from(
        [
            "Sept",
            "Sep",
            "sept.",
            "June",
            "JUN",
            "March",
            "May",
            "Feb",
            "Q1",
            "q4",
            "31",
            "1",
            "12th",
            "29th Feb",
            "31st Apr",
            "0",
            "2nd Jan",
            "3rd Sept",
        ]
    ),
    st.sampled_from(["", " ", "-", "/", ", ", "'", " '", ".", " March "]),
    st.sampled_from(["", "3", "03", "12", "13"]),
    st.sampled_from(["23", "24", "31", "32", "99", "00", "2024", "2024/25", "24/25", "/2024", "-24", "1899"]),
)


@settings(max_examples=600, deadline=None)
@given(QUICK_SHAPES)
def test_the_quick_reading_of_common_shapes_is_the_full_reading(text: str) -> None:
    quick = read_fast(text)
    if quick is not None:
        assert quick == read_part_in_full(text, None) == read_cell_in_full(text, None)


# -- length: a phrase too long to be a date is refused at once, and reading time grows with length, no faster


def seconds_taken(read: Callable[[], object], *, repeats: int = 5) -> float:
    """The quickest of several runs, in this process's CPU time: the least disturbed by whatever else the
    machine is doing (wall-clock time on a loaded machine counts the other processes' turns too)."""
    best = float("inf")
    enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeats):
            started = time.process_time()
            read()
            best = min(best, time.process_time() - started)
    finally:
        if enabled:
            gc.enable()
    return best


@pytest.mark.parametrize("length", [40_000, 100_000])
def test_a_date_phrase_as_long_as_a_slack_message_is_refused_at_once(length: int) -> None:
    # Once this took 8.5 s for 40,000 characters and 53 s for 100 KB, and everyone else waited behind it.
    text = ("31/3/27 " * (length // 8 + 1))[:length]
    seconds = seconds_taken(lambda: interpret_deadline(text, today=date(2025, 11, 3)), repeats=1)
    deadline = reads(text, "unknown")
    assert f"is {length - 1:,} characters long, too long to be a date; kept as text" in only_warning(deadline)
    assert seconds < 0.5


def test_a_phrase_just_within_the_limit_is_still_read_and_markup_does_not_count_towards_it() -> None:
    sentence = "First round to be delivered by 31/3/24 with further projects to be agreed. "
    within = (sentence * 10)[: MAX_DEADLINE_CHARS - 1].strip()
    assert reads(within, "dated", due=date(2024, 3, 31)).warnings
    span = "<span style='font-family: Calibri, sans-serif; font-size: 11pt; color: #000000'>"
    styled = f"<p>{span * 4}June 2024{'</span>' * 4}</p>"
    assert len(styled) > MAX_DEADLINE_CHARS
    reads(styled, "dated", due=date(2024, 6, 30))
    assert "too long to be a date" in only_warning(interpret_deadline("a" * (MAX_DEADLINE_CHARS + 1)))


@settings(max_examples=15, deadline=None)
@given(DEADLINE_LIKE.filter(str.strip))
def test_reading_time_grows_in_step_with_the_length_of_the_text(phrase: str) -> None:
    # The grammar itself, without the length limit in front of it: n and 8n characters of the same phrase
    # repeated. Linear time takes about 8 times as long for the longer text; square time would take 64.
    def text(length: int) -> str:
        return ((phrase + " ") * (length // (len(phrase) + 1) + 1))[:length]

    short, long = text(2_000), text(16_000)
    ratios = []
    for _ in range(3):  # a busy machine can slow one measurement; a square-time reader is slow every time
        ratios.append(
            seconds_taken(lambda: read_cell(long, None)) / seconds_taken(lambda: read_cell(short, None))
        )
        if ratios[-1] < 24:
            break
    assert min(ratios) < 24, ratios
