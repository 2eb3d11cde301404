"""How a plan's sentence reads: what to do, or a report of what was done."""

from __future__ import annotations

import pytest

from storage.rules.wording import reads_as_action, reads_as_report


@pytest.mark.parametrize(
    "note",
    [
        "Potential training providers have been identified",
        "We have ensured that new Community Engagement Guidance is used",
        "Training was delivered to 40 staff in May",
        "The group has now agreed its terms of reference",
        "The inclusive language guide is now in place",
        "Customer service standards have been defined and a plan is under way",
    ],
)
def test_a_report_of_work_done_reads_as_a_progress_note(note: str) -> None:
    assert reads_as_report(note)
    assert not reads_as_action(note)


@pytest.mark.parametrize(
    "action",
    [
        "Identify BSL training providers for front-line staff",
        "Ensure staff who have been affected by the restructure are supported",
        "Prioritise the gender pay gap actions",
        "Review how complaints were handled last year",
        "Create an EDI toolkit to support the work of BLs",
    ],
)
def test_an_action_says_what_to_do_even_when_it_mentions_work_done(action: str) -> None:
    assert reads_as_action(action)
    assert not reads_as_report(action)


@pytest.mark.parametrize(
    "text",
    [
        "All managers will have completed EDI training",  # an aim, in the future
        "Staff who have experienced harassment feel supported",  # an outcome, its perfect in a clause
        "Improved staff awareness of EDI",  # an outcome a plan aims at
        "Delivery of One View project - Ongoing Project",  # a title, not a sentence
        "Done",
    ],
)
def test_aims_outcomes_and_titles_are_neither_reports_nor_instructions(text: str) -> None:
    assert not reads_as_report(text)
    assert not reads_as_action(text)
