"""How often an action recurs: "Annually" is kept as P1Y, steps a year at a time and is said "every year"."""

from __future__ import annotations

from datetime import date

import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import given
from hypothesis import strategies as st

from storage.rules.deadlines import interpret_deadline
from storage.rules.recurrence import period_of, say_recurrence, step_of


@pytest.mark.parametrize(
    ("written", "period", "said", "after_31_january_2025"),
    [
        ("Annually", "P1Y", "every year", date(2026, 1, 31)),
        ("Every other year", "P2Y", "every 2 years", date(2027, 1, 31)),
        ("Bi-annual", "P6M", "every 6 months", date(2025, 7, 31)),
        ("Termly", "P4M", "every 4 months", date(2025, 5, 31)),
        ("Quarterly", "P3M", "every quarter", date(2025, 4, 30)),
        ("Bi-monthly", "P2M", "every 2 months", date(2025, 3, 31)),
        ("Monthly", "P1M", "every month", date(2025, 2, 28)),
        ("Every 18 months", "P18M", "every 18 months", date(2026, 7, 31)),
        ("Every 24 months", "P2Y", "every 2 years", date(2027, 1, 31)),
        ("Fortnightly", "P2W", "every 2 weeks", date(2025, 2, 14)),
        ("Every 14 days", "P2W", "every 2 weeks", date(2025, 2, 14)),
        ("Weekly", "P1W", "every week", date(2025, 2, 7)),
        ("Every 10 days", "P10D", "every 10 days", date(2025, 2, 10)),
        ("Daily", "P1D", "every day", date(2025, 2, 1)),
    ],
)
def test_a_recurrence_is_kept_as_a_period_stepped_by_and_said_back_in_words(
    written: str, period: str, said: str, after_31_january_2025: date
) -> None:
    deadline = interpret_deadline(written)
    assert (deadline.kind, deadline.recurrence) == ("recurring", period)
    step = step_of(period)
    assert step is not None and date(2025, 1, 31) + step == after_31_january_2025
    assert say_recurrence(period) == said


@pytest.mark.parametrize("period", [None, "", "P0Y", "P1X", "1Y", "P1Y2M", "yearly"])
def test_a_period_we_cannot_step_by_is_no_step_and_is_said_as_written(period: str | None) -> None:
    assert step_of(period) is None
    assert say_recurrence(period) == f"recurring ({period})"


def test_every_zero_of_anything_is_no_period() -> None:
    assert period_of(0, "month") is None
    assert interpret_deadline("Every 0 months").recurrence is None


@given(st.integers(min_value=1, max_value=999), st.sampled_from(["day", "week", "month", "year"]))
def test_any_period_written_can_be_read_back_as_the_same_step(amount: int, unit: str) -> None:
    period = period_of(amount, unit)
    assert period is not None
    as_written = {
        "day": relativedelta(days=amount),
        "week": relativedelta(weeks=amount),
        "month": relativedelta(months=amount),
        "year": relativedelta(years=amount),
    }[unit]
    step = step_of(period)
    assert step is not None and date(2025, 1, 31) + step == date(2025, 1, 31) + as_written
    assert say_recurrence(period).startswith("every ")
