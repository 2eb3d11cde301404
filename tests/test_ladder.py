"""The reminder ladder: which reminders an action earns, and on which day, from its deadline and its plan's
settings.

Pure date arithmetic: actions and plans are built in memory, and each test walks the calendar day by day as a
sweep would, listing every new step the action reaches (its name and the day it belongs to).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storage.models import Action, Plan
from storage.rules.ladder import Reminded, Step, current_steps, next_step_on, promised_reminders
from tests.nudging import action_due, plan_settings

CREATED = date(2025, 11, 3)  # the plan was imported on Monday 3 November 2025


class Delivered:
    """The owners' inbox as the ladder is told of it: each overdue reminder is delivered the day it is
    reached."""

    def __init__(self) -> None:
        self.rounds: dict[str, date] = {}

    def so_far(self) -> Reminded | None:
        return Reminded(len(self.rounds), min(self.rounds.values())) if self.rounds else None

    def steps(self, action: Action, plan: Plan, day: date) -> list[Step]:
        found = current_steps(action, plan, day, reminded=self.so_far())
        for step in found:
            if step.name == "overdue":
                self.rounds.setdefault(step.occurrence, day)
        return found


def reminders(action: Action, plan: Plan, *, until: date, start: date = CREATED) -> list[tuple[str, date]]:
    """Each new step the action reaches from `start` to `until`, in order, as a daily sweep first sees it."""
    seen: dict[tuple[str, str], date] = {}
    inbox = Delivered()
    day = start
    while day <= until:
        for step in inbox.steps(action, plan, day):
            seen.setdefault((step.name, step.occurrence), step.on)
        day += timedelta(days=1)
    return sorted(((name, on) for (name, _), on in seen.items()), key=lambda item: (item[1], item[0]))


def reminders_seen_by_sweep(action: Action, plan: Plan, *, until: date, start: date = CREATED) -> set[Step]:
    """The steps a sweep sees when it looks at the action only on the days `next_step_on` names."""
    seen: set[Step] = set()
    inbox = Delivered()
    day: date | None = start
    while day is not None and day <= until:
        seen.update(inbox.steps(action, plan, day))
        following = next_step_on(action, plan, day, reminded=inbox.so_far())
        assert following is None or following > day, f"next_step_on({day}) went backwards: {following}"
        day = following
    return seen


def every_step(action: Action, plan: Plan, *, until: date, start: date = CREATED) -> set[Step]:
    seen: set[Step] = set()
    inbox = Delivered()
    day = start
    while day <= until:
        seen.update(inbox.steps(action, plan, day))
        day += timedelta(days=1)
    return seen


def test_an_action_is_reminded_14_days_before_3_days_before_and_on_the_day() -> None:
    action = action_due("31/12/25", created=CREATED)
    plan = plan_settings()

    assert reminders(action, plan, until=date(2025, 12, 31)) == [
        ("before-14", date(2025, 12, 17)),
        ("before-3", date(2025, 12, 28)),
        ("due", date(2025, 12, 31)),
    ]
    assert next_step_on(action, plan, CREATED) == date(2025, 12, 17)
    assert current_steps(action, plan, date(2025, 12, 20)) == [
        Step("before", "2025-12-31", date(2025, 12, 17), days_before=14)
    ]
    assert [step.describe() for step in current_steps(action, plan, date(2025, 12, 28))] == ["due in 3 days"]


def test_a_plan_imported_late_reminds_only_the_latest_step_reached() -> None:
    # imported on 3 November, due on the 5th: the 14-day reminder (22 October) is stale, the 3-day one is not
    action = action_due("5/11/25", created=CREATED)

    assert current_steps(action, plan_settings(), CREATED) == [
        Step("before", "2025-11-05", date(2025, 11, 2), days_before=3)
    ]
    assert reminders(action, plan_settings(), until=date(2025, 11, 5)) == [
        ("before-3", date(2025, 11, 2)),
        ("due", date(2025, 11, 5)),
    ]

    due_today = action_due("3/11/25", created=CREATED)
    assert current_steps(due_today, plan_settings(), CREATED) == [Step("due", "2025-11-03", CREATED)]


def test_an_overdue_action_is_reminded_the_day_after_then_weekly_and_escalated_after_14_days() -> None:
    action = action_due("31/10/25", created=date(2025, 10, 1))

    assert reminders(action, plan_settings(), until=date(2025, 11, 30), start=date(2025, 11, 1)) == [
        ("overdue", date(2025, 11, 1)),
        ("overdue", date(2025, 11, 8)),
        ("escalate", date(2025, 11, 14)),
        ("overdue", date(2025, 11, 15)),
        ("overdue", date(2025, 11, 22)),
        ("overdue", date(2025, 11, 29)),
    ]
    twice = Reminded(2, date(2025, 11, 1))
    escalation = next(
        s for s in current_steps(action, plan_settings(), date(2025, 12, 20), reminded=twice) if s.escalation
    )
    assert (escalation.name, escalation.on, escalation.describe()) == (
        "escalate",
        date(2025, 11, 14),
        "overdue and escalated",
    )


def test_a_plan_can_escalate_sooner() -> None:
    action = action_due("31/10/25", created=date(2025, 10, 1))

    steps = reminders(
        action, plan_settings(escalate_after_days=5), until=date(2025, 11, 10), start=date(2025, 11, 1)
    )

    assert steps == [
        ("overdue", date(2025, 11, 1)),
        ("escalate", date(2025, 11, 5)),
        ("overdue", date(2025, 11, 8)),
    ]


def test_a_long_overdue_action_imported_late_escalates_only_after_its_owners_have_had_their_reminders() -> (
    None
):
    action = action_due("Sept 25", created=CREATED)  # due 30 September, five weeks ago
    plan = plan_settings()

    assert promised_reminders(plan) == 2  # the day after the deadline, and a week later
    assert current_steps(action, plan, CREATED) == [Step("overdue", "2025-09-30+4w", date(2025, 10, 29))]
    assert next_step_on(action, plan, CREATED) == date(2025, 11, 5)
    once = Reminded(1, CREATED)
    assert [s.name for s in current_steps(action, plan, date(2025, 11, 25), reminded=once)] == ["overdue"]
    # Two reminders from 3 November: the owners have the ladder's 14 days from the first to answer.
    twice = Reminded(2, CREATED)
    assert next_step_on(action, plan, date(2025, 11, 12), reminded=twice) == date(2025, 11, 16)
    assert current_steps(action, plan, date(2025, 11, 16), reminded=twice)[1] == Step(
        "escalate", "2025-09-30", date(2025, 11, 16)
    )


def test_ongoing_actions_get_a_monthly_check_in() -> None:
    action = action_due("Ongoing", created=CREATED)

    assert reminders(action, plan_settings(), until=date(2026, 2, 28)) == [
        ("checkin", date(2025, 12, 3)),
        ("checkin", date(2026, 1, 3)),
        ("checkin", date(2026, 2, 3)),
    ]
    assert current_steps(action, plan_settings(), date(2025, 12, 10))[0].describe() == "progress check-in"


def test_a_plan_can_space_check_ins_out_to_every_three_months() -> None:
    action = action_due("Ongoing", created=CREATED)

    assert reminders(action, plan_settings(checkin_months=3), until=date(2026, 8, 31)) == [
        ("checkin", date(2026, 2, 3)),
        ("checkin", date(2026, 5, 3)),
        ("checkin", date(2026, 8, 3)),
    ]


def test_an_ongoing_action_with_a_start_date_checks_in_monthly_from_its_start() -> None:
    action = action_due("From January 2026", created=CREATED)

    assert reminders(action, plan_settings(), until=date(2026, 3, 31)) == [
        ("checkin", date(2026, 2, 1)),
        ("checkin", date(2026, 3, 1)),
    ]


def test_an_annual_action_is_reminded_before_each_occurrence() -> None:
    action = action_due("Annually (March)", created=CREATED)  # every year, by 31 March
    assert (action.deadline_kind, action.due_date, action.recurrence) == (
        "recurring",
        date(2026, 3, 31),
        "P1Y",
    )

    assert reminders(action, plan_settings(), until=date(2027, 4, 30)) == [
        ("before-14", date(2026, 3, 17)),
        ("before-3", date(2026, 3, 28)),
        ("due", date(2026, 3, 31)),
        ("before-14", date(2027, 3, 17)),
        ("before-3", date(2027, 3, 28)),
        ("due", date(2027, 3, 31)),
    ]
    # a recurring action is never "overdue": the next occurrence takes over the day after
    assert next_step_on(action, plan_settings(), date(2026, 3, 31)) == date(2026, 4, 1)
    assert current_steps(action, plan_settings(), date(2026, 4, 1)) == []


def test_a_quarterly_action_with_no_date_counts_its_quarters_from_the_import() -> None:
    action = action_due("Quarterly", created=CREATED)

    assert reminders(action, plan_settings(), until=date(2026, 5, 3)) == [
        ("before-14", date(2026, 1, 20)),
        ("before-3", date(2026, 1, 31)),
        ("due", date(2026, 2, 3)),
        ("before-14", date(2026, 4, 19)),
        ("before-3", date(2026, 4, 30)),
        ("due", date(2026, 5, 3)),
    ]


@pytest.mark.parametrize(
    ("written", "first_due"), [("Every 2 years", date(2027, 11, 3)), ("Every 6 weeks", date(2025, 12, 15))]
)
def test_an_action_recurring_every_few_years_or_weeks_is_still_reminded(
    written: str, first_due: date
) -> None:
    action = action_due(written, created=CREATED)
    assert action.deadline_kind == "recurring"

    assert ("due", first_due) in reminders(action, plan_settings(), until=first_due)


def test_an_action_with_no_date_asks_its_owner_for_one_every_two_weeks() -> None:
    action = action_due("Next staff survey", created=CREATED)
    assert action.deadline_kind == "unknown"

    assert reminders(action, plan_settings(), until=date(2025, 12, 14)) == [
        ("set-date", date(2025, 11, 3)),
        ("set-date", date(2025, 11, 17)),
        ("set-date", date(2025, 12, 1)),
    ]
    assert current_steps(action, plan_settings(), date(2025, 11, 20))[0].describe() == "needs a date"


@pytest.mark.parametrize(
    ("why", "change"),
    [
        ("done", {"status": "done"}),
        ("archived", {"archived": True}),
        ("complete when imported", {"deadline_kind": "complete"}),
    ],
)
def test_finished_or_archived_actions_get_no_reminders(why: str, change: dict[str, object]) -> None:
    action = action_due("31/10/25", created=date(2025, 10, 1), **change)

    assert reminders(action, plan_settings(), until=date(2026, 1, 31), start=date(2025, 10, 1)) == [], why
    assert next_step_on(action, plan_settings(), date(2025, 11, 5)) is None


def test_a_paused_plan_gets_no_reminders_and_resumes_where_the_ladder_has_got_to() -> None:
    action = action_due("31/10/25", created=date(2025, 10, 1))

    assert current_steps(action, plan_settings(paused=True), date(2025, 11, 20)) == []
    assert next_step_on(action, plan_settings(paused=True), date(2025, 11, 20)) is None
    twice = Reminded(2, date(2025, 11, 1))
    assert current_steps(action, plan_settings(paused=False), date(2025, 11, 20), reminded=twice) == [
        Step("overdue", "2025-10-31+2w", date(2025, 11, 15)),
        Step("escalate", "2025-10-31", date(2025, 11, 14)),
    ]


def test_a_snoozed_action_is_quiet_until_the_snooze_ends_then_picks_up_the_latest_step() -> None:
    action = action_due("28/11/25", created=CREATED, snoozed_until=date(2025, 11, 26))

    assert reminders(action, plan_settings(), until=date(2025, 11, 28)) == [
        # 14 days before (14 November) fell inside the snooze; 3 days before is reminded the day the snooze
        # ends
        ("before-3", date(2025, 11, 25)),
        ("due", date(2025, 11, 28)),
    ]
    assert current_steps(action, plan_settings(), date(2025, 11, 25)) == []
    assert next_step_on(action, plan_settings(), date(2025, 11, 20)) == date(2025, 11, 26)


def test_an_action_due_then_ongoing_is_reminded_before_its_due_then_checked_in_monthly() -> None:
    action = action_due("Nov 2025 & Ongoing", created=CREATED)
    assert (action.deadline_kind, action.due_date) == ("ongoing", date(2025, 11, 30))

    assert reminders(action, plan_settings(), until=date(2026, 1, 31)) == [
        ("before-14", date(2025, 11, 16)),
        ("before-3", date(2025, 11, 27)),
        ("due", date(2025, 11, 30)),
        ("checkin", date(2025, 12, 30)),
        ("checkin", date(2026, 1, 30)),
    ]


def test_a_plan_chooses_its_own_reminder_days() -> None:
    action = action_due("31/12/25", created=CREATED)

    assert reminders(action, plan_settings(reminder_days=[7, 1]), until=date(2025, 12, 31)) == [
        ("before-7", date(2025, 12, 24)),
        ("before-1", date(2025, 12, 30)),
    ]
    assert reminders(action, plan_settings(reminder_days=[30, 0]), until=date(2025, 12, 31)) == [
        ("before-30", date(2025, 12, 1)),
        ("due", date(2025, 12, 31)),
    ]
    assert current_steps(action, plan_settings(reminder_days=[1]), date(2025, 12, 30))[0].describe() == (
        "due in 1 day"
    )


DEADLINES = [
    "31/12/25",
    "5/11/25",
    "Sept 25",
    "Ongoing",
    "Nov 2025 & Ongoing",
    "Annually",
    "Quarterly",
    "Monthly",
    "Annually (March)",
    "Next staff survey",
    "From April 2025",
    "Q3 2025 - Q4 2025",
    "Fortnightly",
]


@settings(max_examples=60, deadline=None)
@given(
    written=st.sampled_from(DEADLINES),
    created=st.dates(min_value=date(2025, 1, 1), max_value=date(2026, 6, 30)),
    reminder_days=st.lists(st.integers(min_value=0, max_value=40), max_size=4),
    escalate_after=st.integers(min_value=0, max_value=40),
    checkin_months=st.integers(min_value=1, max_value=6),
    snooze=st.one_of(st.none(), st.integers(min_value=1, max_value=60)),
)
def test_a_sweep_that_looks_only_on_the_next_step_day_misses_no_reminder(
    written: str,
    created: date,
    reminder_days: list[int],
    escalate_after: int,
    checkin_months: int,
    snooze: int | None,
) -> None:
    snoozed = created + timedelta(days=snooze) if snooze else None
    action = action_due(written, created=created, snoozed_until=snoozed)
    plan = plan_settings(
        reminder_days=reminder_days, escalate_after_days=escalate_after, checkin_months=checkin_months
    )
    until = created + timedelta(days=200)

    assert reminders_seen_by_sweep(action, plan, start=created, until=until) == every_step(
        action, plan, start=created, until=until
    )


@pytest.mark.parametrize(
    "name", ["before-14", "before-3", "due", "overdue", "escalate", "checkin", "set-date"]
)
def test_a_step_keeps_the_name_databases_already_hold(name: str) -> None:
    """Nudge keys and the outbox store a step by name; read back, it is the same step under the same name."""
    step = Step.from_name(name, occurrence="2025-12-31", on=date(2025, 12, 17))

    assert step.name == name
    assert step.escalation == (name == "escalate")
    assert (step.kind, step.days_before) == (
        ("before", int(name[7:])) if name.startswith("before-") else (name, None)
    )


def test_a_step_name_that_is_no_step_is_refused() -> None:
    with pytest.raises(ValueError, match="'before-soon' is not a reminder step"):
        Step.from_name("before-soon", occurrence="x", on=CREATED)
    with pytest.raises(ValueError, match="'weekly' is not a reminder step"):
        Step.from_name("weekly", occurrence="x", on=CREATED)
