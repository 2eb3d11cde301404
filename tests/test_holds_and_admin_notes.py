"""Leave, escalation contacts, a plan's own ladder, and the notes plan admins get from the scheduler."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, select

from bot.console import FakeClock
from handlers.messages import Reply
from schedules.delivery import deliver
from schedules.planning import sweep
from schedules.sending import Undeliverable
from storage.db import Database
from storage.models import OutboxMessage, Person, Plan
from storage.queries import plan_named
from storage.store import Store
from tests.nudging import NudgeWorld, Row, Someone, say
from tests.nudging import at as at_london
from tests.transcript import Transcript, nothing_changes

LONDON = ZoneInfo("Europe/London")


class Inbox:
    """A sender that keeps what each person was sent; some people can be made unreachable."""

    def __init__(self, unreachable: set[str] = frozenset()) -> None:  # type: ignore[assignment]
        self.messages: list[tuple[str, str]] = []
        self.unreachable = unreachable

    def __call__(self, person: Person, reply: Reply) -> str:
        if person.name in self.unreachable:
            raise Undeliverable("no Slack or Teams id in the people directory")
        self.messages.append((person.name, reply.plain_text()))
        return f"id-{len(self.messages)}"

    def to(self, name: str) -> list[str]:
        return [text for who, text in self.messages if who == name]


def at(clock: FakeClock, moment: str) -> datetime:
    clock.set(datetime.fromisoformat(moment).replace(tzinfo=LONDON))
    return clock.now()


def round_at(store: Database, clock: FakeClock, moment: str, inbox: Inbox) -> None:
    now = at(clock, moment)
    sweep(store, now=now, zone=LONDON)
    deliver(store, now=now, zone=LONDON, send=inbox)


def test_someone_away_hears_nothing_until_they_are_back_then_once(
    transcript: Transcript, store: Database, clock: FakeClock
) -> None:
    transcript.say("@Amina Khan", "/edi away until 14 November")
    transcript.expect_reply("No reminders until after Friday 14 November")
    inbox = Inbox()
    round_at(store, clock, "2025-11-10T09:31", inbox)
    assert inbox.to("Amina Khan") == []
    assert inbox.to("Tom Okafor")  # NO-2 is overdue; Tom, its other owner, is not away
    round_at(store, clock, "2025-11-17T09:31", inbox)
    round_at(store, clock, "2025-11-17T09:45", inbox)
    assert len(inbox.to("Amina Khan")) == 1 and "NO-2" in inbox.to("Amina Khan")[0]


def test_away_with_a_date_that_has_passed_or_no_date_is_refused(transcript: Transcript) -> None:
    transcript.say("@Amina Khan", "/edi away until 1 October 2025")
    transcript.expect_reply("has passed")
    transcript.say("@Amina Khan", "/edi away sometime")
    transcript.expect_reply("Usage: `/edi away until 2 Jan`")
    transcript.say("@Amina Khan", "/edi away off")
    transcript.expect_reply("You aren't marked as away.")


def test_a_date_as_long_as_a_slack_message_is_refused_at_once_and_changes_nothing(
    transcript: Transcript, store: Database
) -> None:
    # 40,000 characters of dates once took 8.5 s to read, and everyone else's commands waited behind them.
    phrase = "31/3/27 " * 5_000
    started = time.perf_counter()
    with nothing_changes(store):
        # Longer than a command may be (COMMAND_LIMIT), so each is refused before any date is read.
        for command in (
            f"/edi away until {phrase}",
            f"/edi due NO-6 {phrase}",
            f"/edi snooze NO-6 until {phrase}",
        ):
            transcript.say("@Amina Khan", command)
            transcript.expect_reply(
                "I read at most 4,000 in one command or reply.", "I haven't changed anything."
            )
        transcript.say(
            "@Amina Khan", f"/edi due NO-6 {phrase[:3_000]}"
        )  # within it: the deadline's own bound
        transcript.expect_reply(
            "A deadline may be at most 100 characters as written", "I haven't changed NO-6."
        )
        transcript.say("@Amina Khan", f"/edi snooze NO-6 until {phrase[:3_000]}")
        transcript.expect_reply("is not a snooze I understand", "I haven't changed NO-6.")
    assert time.perf_counter() - started < 3
    with store.session() as session:
        amina = session.scalars(select(Person).where(Person.name == "Amina Khan")).one()
        assert amina.away_until is None


def test_the_plan_lead_chooses_who_hears_about_overdue_actions(
    transcript: Transcript, store: Database, clock: FakeClock
) -> None:
    transcript.say("@Priya Shah", '/edi plan escalate "Northbridge EDI Plan" @Tom Okafor')
    transcript.expect_reply("now escalate to Tom Okafor after 14 days")
    inbox = Inbox()
    round_at(store, clock, "2025-11-10T09:31", inbox)  # the owners' welcome lists what is overdue
    assert not [text for who, text in inbox.messages if "Escalation" in text]
    round_at(store, clock, "2025-11-17T09:31", inbox)  # their first weekly reminder
    round_at(store, clock, "2025-11-24T09:31", inbox)  # two reminders since 10 November, no reply
    escalations = [text for who, text in inbox.messages if "Escalation" in text]
    assert escalations and all(who == "Tom Okafor" for who, text in inbox.messages if "Escalation" in text)
    assert not any("Escalation" in text for text in inbox.to("Priya Shah"))


def test_a_plan_can_have_its_own_reminder_days(transcript: Transcript, store: Database) -> None:
    transcript.say("@Priya Shah", '/edi plan reminders "Northbridge EDI Plan" 7,1')
    transcript.expect_reply("owners are reminded 7 days before, 1 day before.")
    with store.session() as session:
        plan = plan_named(session, "Northbridge EDI Plan")
        assert plan is not None and plan.reminder_days == [7, 1]
    transcript.say("@Priya Shah", '/edi plan reminders "Northbridge EDI Plan" soon')
    transcript.expect_reply("should be days before the deadline")
    transcript.say("@Amina Khan", '/edi plan reminders "Northbridge EDI Plan" 1')
    transcript.expect_reply("Only a plan admin can use `/edi plan`")


def test_admins_hear_on_mondays_which_roles_have_nobody_to_remind_once_a_week(
    transcript: Transcript, store: Database, clock: FakeClock
) -> None:
    inbox = Inbox()
    round_at(store, clock, "2025-11-10T09:31", inbox)  # a Monday, the plan's first round
    round_at(store, clock, "2025-11-10T11:00", inbox)  # again the same day: nothing new
    # The plan's adoption summary says it this week; no second note about the same roles.
    [summary] = [text for text in inbox.to("Priya Shah") if "no one to remind" in text]
    assert "Comms & Events — 1 action" in summary and "Health & Safety" in summary
    assert not [text for text in inbox.to("Priya Shah") if "nobody to remind" in text]
    round_at(store, clock, "2025-11-11T09:31", inbox)  # Tuesday: no note
    round_at(store, clock, "2025-11-17T09:31", inbox)  # next Monday: the weekly note
    notes = [text for text in inbox.to("Priya Shah") if "nobody to remind" in text]
    assert len(notes) == 1
    assert "Comms & Events — 1 open action" in notes[0] and "Health & Safety" in notes[0]
    round_at(store, clock, "2025-11-17T11:00", inbox)
    round_at(store, clock, "2025-11-24T09:31", inbox)  # and the next
    assert len([t for t in inbox.to("Priya Shah") if "nobody to remind" in t]) == 2


def test_someone_reminders_cannot_reach_is_reported_to_the_admins_once_and_others_still_get_theirs(
    transcript: Transcript, store: Database, clock: FakeClock
) -> None:
    inbox = Inbox(unreachable={"Tom Okafor"})
    round_at(store, clock, "2025-11-10T09:31", inbox)
    round_at(store, clock, "2025-11-12T09:31", inbox)  # NO-2's next overdue reminder fails again
    round_at(store, clock, "2025-11-12T09:35", inbox)
    told = [text for text in inbox.to("Priya Shah") if "couldn't deliver reminders to Tom Okafor" in text]
    assert len(told) == 1
    assert inbox.to("Amina Khan")  # her reminders were not held up
    with store.session() as session:
        failed = session.scalars(select(OutboxMessage).where(OutboxMessage.status == "failed")).all()
        assert failed and all("no Slack or Teams id" in (m.last_error or "") for m in failed)
        assert session.scalar(select(Plan.name)) == "Northbridge EDI Plan"


def test_a_plan_admin_sets_how_long_overdue_before_escalation(
    transcript: Transcript, store: Database
) -> None:
    transcript.say("@Priya Shah", '/edi plan escalate "Northbridge EDI Plan" after 3 weeks')
    transcript.expect_reply("an action 21 days overdue now escalates")
    with store.session() as session:
        plan = plan_named(session, "Northbridge EDI Plan")
        assert plan is not None and plan.escalate_after_days == 21
    transcript.say("@Priya Shah", '/edi plan escalate "Northbridge EDI Plan" after a while')
    transcript.expect_reply("should say how long overdue")
    with store.session() as session:
        plan = plan_named(session, "Northbridge EDI Plan")
        assert plan is not None and plan.escalate_after_days == 21


def test_a_plan_admin_sets_how_often_ongoing_actions_are_checked_in(
    transcript: Transcript, store: Database, clock: FakeClock
) -> None:
    transcript.say("@Priya Shah", '/edi plan checkins "Northbridge EDI Plan" quarterly')
    transcript.expect_reply("ongoing actions get a progress check-in every 3 months")
    inbox = Inbox()
    round_at(store, clock, "2025-12-03T09:31", inbox)  # a month after the import: no check-in now
    assert not [text for _, text in inbox.messages if "check-in" in text]
    round_at(store, clock, "2026-02-09T09:31", inbox)  # the first Monday three months after it
    checkins = [text for _, text in inbox.messages if "check-in" in text]
    assert checkins and all("Quarterly check-in" in text for text in checkins)
    transcript.say("@Priya Shah", '/edi plan checkins "Northbridge EDI Plan" weekly')
    transcript.expect_reply("how many months between check-ins")
    with store.session() as session:
        plan = plan_named(session, "Northbridge EDI Plan")
        assert plan is not None and plan.checkin_months == 3


def test_a_plan_admin_restricts_a_plan_to_its_owners_and_opens_it_again(transcript: Transcript) -> None:
    transcript.say("@Ewan Campbell", '/edi plan restrict "Northbridge EDI Plan"')
    transcript.expect_reply("Only a plan admin can use `/edi plan`")
    transcript.say("@Ewan Campbell", "/edi show NO-6")
    transcript.expect_reply("NO-6 · Review recruitment adverts")
    transcript.say("@Priya Shah", '/edi plan restrict "Northbridge EDI Plan"')
    transcript.expect_reply("is restricted: only its actions' owners and the plan admins can see them")
    transcript.say("@Ewan Campbell", "/edi show NO-6")
    transcript.expect_reply("NO-6 is in a restricted plan")
    transcript.say("@Amina Khan", "/edi show NO-6")  # an owner still sees it
    transcript.expect_reply("NO-6 · Review recruitment adverts")
    transcript.say("@Priya Shah", '/edi plan unrestrict "Northbridge EDI Plan"')
    transcript.expect_reply("is open again")
    transcript.say("@Ewan Campbell", "/edi show NO-6")
    transcript.expect_reply("NO-6 · Review recruitment adverts")


@pytest.mark.usefixtures("transcript")  # the sample plan and its people
def test_once_the_weekly_note_is_out_later_monday_rounds_do_not_count_unmapped_roles_again(
    store: Database, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counting unmapped roles reads every action's owners; a scheduler sweeping all Monday must not repeat
    it."""
    counted = []
    real = Store.unmapped_owners

    def counting(self: Store) -> object:
        counted.append(1)
        return real(self)

    monkeypatch.setattr(Store, "unmapped_owners", counting)
    inbox = Inbox()
    round_at(store, clock, "2025-11-10T09:31", inbox)  # the plan's first round: its summary says it all
    round_at(store, clock, "2025-11-10T14:00", inbox)
    assert counted == []
    round_at(store, clock, "2025-11-17T09:31", inbox)
    round_at(store, clock, "2025-11-17T09:36", inbox)
    round_at(store, clock, "2025-11-17T14:00", inbox)
    assert len([text for text in inbox.to("Priya Shah") if "nobody to remind" in text]) == 1
    assert len(counted) == 1


@pytest.mark.usefixtures("transcript")  # the sample plan and its people
def test_the_weekly_note_counts_only_the_actions_of_unmapped_roles_never_the_whole_store(
    store: Database,
) -> None:
    """Monday's sweep asks which roles have nobody to remind; on a store of 100,000 actions, reading every
    action's owners to answer it made the sweep miss its second. Each statement must reach actions through an
    index."""
    if store.engine.dialect.name != "sqlite":
        pytest.skip("the plan shape is checked on SQLite, whose planner needs no statistics")
    statements: list[tuple[str, object]] = []

    def remember(_conn: object, _cursor: object, statement: str, parameters: object, *_: object) -> None:
        statements.append((statement, parameters))

    event.listen(store.engine, "before_cursor_execute", remember)
    try:
        with store.session() as session:
            unmapped = Store(session).unmapped_owners()
    finally:
        event.remove(store.engine, "before_cursor_execute", remember)
    assert ("Comms & Events", 1) in [(owner.name, count) for owner, count in unmapped]
    with store.engine.connect() as connection:
        for statement, parameters in statements:
            plan = [
                row[-1] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            ]  # type: ignore[arg-type]
            scans = [step for step in plan if step.startswith(("SCAN action_owners", "SCAN actions"))]
            assert not scans, f"{statement}\n{plan}"


def test_the_weekly_note_leaves_out_done_and_archived_actions_and_roles_with_none_left(
    transcript: Transcript, store: Database
) -> None:
    with store.session() as session:
        before = {owner.name: count for owner, count in Store(session).unmapped_owners()}
    assert before["Comms & Events"] == 1
    transcript.say("@Priya Shah", "/edi people unmapped")
    transcript.expect_reply("Comms & Events — 1 open action")
    with store.session() as session:
        (action,) = [a for a in Store(session).actions_matching(owner="Comms & Events")]
        action.status = "done"
        others = Store(session).actions_matching(owner="Health & Safety")
        for other in others:
            other.archived = True
    with store.session() as session:
        after = {owner.name: count for owner, count in Store(session).unmapped_owners()}
    assert "Comms & Events" not in after and "Health & Safety" not in after
    assert {
        name: count for name, count in before.items() if name not in ("Comms & Events", "Health & Safety")
    } == after


# -- quiet hours ----------------------------------------------------------------------------------------


@pytest.fixture
def world(store: Database, clock: FakeClock) -> Iterator[NudgeWorld]:
    made = NudgeWorld(store, clock)
    made.people(Someone("Amina Khan", "HR Manager"), Someone("Priya Shah", "EDI Lead", admin=True))
    yield made
    made.close()


def test_quiet_hours_are_set_shown_and_switched_off_in_the_persons_own_words(
    transcript: Transcript, store: Database
) -> None:
    transcript.say("@Amina Khan", "/edi quiet 12-1")
    transcript.expect_reply(
        "Quiet hours set: 12:00–13:00 every day (Europe/London). A reminder due then waits until 13:00"
    )
    transcript.say("@Amina Khan", "/edi quiet")
    transcript.expect_reply("Your quiet hours are 12:00–13:00 every day")
    transcript.say("@Amina Khan", "/edi quiet 22:00-07:00")
    transcript.expect_reply("22:00–07:00 (overnight)")
    with nothing_changes(store):
        transcript.say("@Amina Khan", "/edi quiet lunchtime")
    transcript.expect_reply("I can't read 'lunchtime' as quiet hours", "`/edi quiet 12:00-13:00`")
    with nothing_changes(store):
        transcript.say("@Amina Khan", "/edi quiet 9am-6pm")
    transcript.expect_reply("would leave no time in your working day (09:30–17:30)")
    transcript.say("@Amina Khan", "/edi quiet off")
    transcript.expect_reply("Quiet hours off")
    with store.session() as session:
        amina = session.scalar(select(Person).where(Person.name == "Amina Khan"))
        assert amina is not None and amina.quiet_hours is None


@pytest.mark.parametrize(
    ("due", "before_change", "after_change"),
    [
        ("30/03/26", "2026-03-27T10:00:00+00:00", "2026-03-30T09:00:00+00:00"),  # GMT, then BST
        ("26/10/26", "2026-10-23T09:00:00+00:00", "2026-10-26T10:00:00+00:00"),  # BST, then GMT
    ],
)
def test_a_reminder_due_in_quiet_hours_waits_for_their_end_on_the_local_clock_across_the_clock_change(
    world: NudgeWorld, due: str, before_change: str, after_change: str
) -> None:
    first = datetime.fromisoformat(before_change)
    world.plan([Row("Review recruitment adverts", "HR Manager", due)], imported=first - timedelta(hours=16))
    world.move(first - timedelta(hours=10))
    assert "Quiet hours set: 09:00–10:00" in say(world, "Amina Khan", "/edi quiet 9-10")

    world.run_until(datetime.fromisoformat(after_change) + timedelta(hours=8), every=timedelta(minutes=15))

    received = world.inbox("Amina Khan")
    assert [m.at for m in received] == [first, datetime.fromisoformat(after_change)]
    assert [m.local().strftime("%H:%M") for m in received] == ["10:00", "10:00"]  # never 09:00 or 11:00


def test_a_reminder_that_comes_due_during_lunch_waits_until_lunch_is_over(world: NudgeWorld) -> None:
    world.move("2025-11-03T08:00")
    say(world, "Amina Khan", "/edi quiet 12:00-13:00")
    world.plan(
        [Row("Review recruitment adverts", "HR Manager", "31/10/25")], imported=at_london("2025-11-03T12:05")
    )

    world.run_until("2025-11-03T17:00", every=timedelta(minutes=10), start="2025-11-03T12:10")

    assert [m.local().strftime("%a %H:%M") for m in world.inbox("Amina Khan")] == ["Mon 13:00"]


def test_overnight_quiet_hours_hold_an_early_send_time_until_they_end(world: NudgeWorld) -> None:
    with world.store.session() as session:
        amina = session.scalar(select(Person).where(Person.name == "Amina Khan"))
        assert amina is not None
        amina.send_time = "07:00"
    world.move("2025-11-02T20:00")
    say(world, "Amina Khan", "/edi quiet 21:00-07:45")
    world.plan(
        [Row("Review recruitment adverts", "HR Manager", "31/10/25")], imported=at_london("2025-11-02T20:00")
    )

    world.run_until("2025-11-03T12:00", every=timedelta(minutes=15), start="2025-11-02T20:15")

    assert [m.local().strftime("%a %H:%M") for m in world.inbox("Amina Khan")] == ["Mon 07:45"]
