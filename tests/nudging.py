"""A small world for nudge tests: a plan and its people imported as an EDI lead would, a fake clock, and a
stand-in chat platform that records every reminder it is handed (who, when, what it said).

    world = NudgeWorld(store, clock)
    world.people(Someone("Amina Khan", "HR Manager"))
    world.plan([Row("Review recruitment adverts", "HR Manager", "17/11/25")], imported=at("2025-10-01T09:00"))
    world.round("2025-11-14T09:30")  # one sweep and one delivery at that moment
    world.run_until("2025-11-30T18:00", every=timedelta(minutes=30))  # a scheduler left running
    world.inbox("Amina Khan")        # what Amina received: who, when, the text, the buttons

A world made `settled=True` is one where the plan has been in use a while: its people have had their welcome
(as a store upgraded from before welcomes is marked by its migration), so its stories are about the reminders
that follow, not the first day.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.console import FakeClock, render
from handlers.core import Actor
from handlers.messages import Context, Heading, Reply
from handlers.registry import command_layer
from schedules.delivery import DeliveryReport, deliver
from schedules.planning import SweepReport, sweep
from schedules.runner import NudgeRound
from schedules.sending import Channel, Recipient
from storage.db import Database
from storage.importing.service import import_plan
from storage.models import (
    Action,
    DigestSubscription,
    Nudge,
    OutboxMessage,
    Person,
    Plan,
    action_owners,
    person_roles,
)
from storage.observances import add_own_observance, subscribe
from storage.people import import_people
from storage.reminding import mark_welcomed, welcomed
from storage.rules.calendar import WEEKLY_CAP
from storage.rules.deadlines import interpret_deadline
from tests.slack_standin import SlackStandIn

LONDON = ZoneInfo("Europe/London")
# The sample plan's people with Slack and Teams ids, Grace in New York: whom previews and the CLI list.
_PEOPLE_ACROSS_ZONES = """owner,name,email,timezone,slack_id,teams_id,admin
EDI Lead,Priya Shah,priya.shah@northbridge.example,Europe/London,U0PRIYA,29:priya,yes
Chief Executive,Tom Okafor,tom.okafor@northbridge.example,Europe/London,U0TOM,29:tom,
HR Manager,Amina Khan,amina.khan@northbridge.example,Europe/London,U0AMINA,29:amina,
Internal Comms,Amina Khan,amina.khan@northbridge.example,Europe/London,U0AMINA,29:amina,
Policy Team,Grace Liu,grace.liu@northbridge.example,America/New_York,U0GRACE,,
Legal Services,Grace Liu,grace.liu@northbridge.example,America/New_York,U0GRACE,,
People Services,Sam Patel,sam.patel@northbridge.example,Europe/London,,29:sam,
"""
PLAN = "Northbridge EDI Plan"


def at(moment: str, zone: ZoneInfo = LONDON) -> datetime:
    """ "2025-11-03T09:30" as an aware time (London unless the text carries an offset)."""
    parsed = datetime.fromisoformat(moment)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)


# -- in-memory actions, for the ladder ----------------------------------------------------------------


def plan_settings(**settings: object) -> Plan:
    """A plan as the ladder sees it: its reminder settings, nothing stored."""
    values: dict[str, object] = {
        "name": PLAN,
        "ref_prefix": "NO",
        "paused": False,
        "restricted": False,
        "reminder_days": [14, 3, 0],
        "escalate_after_days": 14,
        "checkin_months": 1,
        "escalation_person_id": None,
    }
    values.update(settings)
    return Plan(**values)


def action_due(deadline: str, *, created: date, **fields: object) -> Action:
    """An action whose deadline cell says `deadline`, read as the importer reads it on the day it was
    created."""
    reading = interpret_deadline(deadline, today=created)
    imported = datetime.combine(created, time(9, 0), tzinfo=LONDON)
    values: dict[str, object] = {
        "ref": "NO-1",
        "title": "Review recruitment adverts for inclusive language",
        "deadline_text": deadline,
        "deadline_kind": reading.kind,
        "start_date": reading.start,
        "due_date": reading.due,
        "recurrence": reading.recurrence,
        "status": "open",
        "archived": False,
        "snoozed_until": None,
        "created_at": imported,
        "updated_at": imported,
    }
    values.update(fields)
    return Action(**values)


# -- a stored world -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Someone:
    """A row of the people directory: a person and the owner role they answer for."""

    name: str
    role: str
    timezone: str = "Europe/London"
    nation: str = "england"
    working_days: str = "Mon-Fri"
    send_time: str = "09:30"
    admin: bool = False
    slack_id: str = ""


@dataclass(frozen=True)
class Row:
    """A row of a plan: the action, who leads it, its timescale as written, RAG and progress note."""

    action: str
    lead: str
    timescale: str
    rag: str = ""
    progress: str = ""
    theme: str = "Workforce"


@dataclass(frozen=True)
class Received:
    """One reminder as its recipient saw it."""

    to: str
    at: datetime  # when the platform was handed it (UTC)
    text: str  # as the console shows it
    reply: Reply
    platform_id: str

    def local(self, zone: str = "Europe/London") -> datetime:
        return self.at.astimezone(ZoneInfo(zone))


class Platform:
    """A stand-in chat platform: records each message, answers with its id, or fails as told to."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.received: list[Received] = []
        self.failures: dict[str, list[BaseException]] = {}  # name -> errors to raise, in order

    def fail(self, name: str, *errors: BaseException) -> None:
        self.failures.setdefault(name, []).extend(errors)

    def __call__(self, person: Recipient, reply: Reply) -> str:
        return self._receive(person.name, reply)

    def to_channel(self, channel: Channel, reply: Reply) -> str:
        """A post in a channel: recorded under the channel's name ("#edi-leads"); fails as told to, by that
        name."""
        return self._receive(channel.name, reply)

    def _receive(self, name: str, reply: Reply) -> str:
        queued = self.failures.get(name)
        if queued:
            raise queued.pop(0)
        platform_id = f"msg-{len(self.received) + 1}"
        text = "\n".join(render(reply))
        self.received.append(Received(name, self.clock.now(), text, reply, platform_id))
        return platform_id


class NudgeWorld:
    """A plan and its people in the test store, a clock, and the platform the reminders go to."""

    def __init__(
        self, store: Database, clock: FakeClock, *, zone: ZoneInfo = LONDON, settled: bool = False
    ) -> None:
        self.store = store
        self.clock = clock
        self.zone = zone
        self.settled = settled
        self.platform = Platform(clock)
        self._files = TemporaryDirectory()
        self.folder = Path(self._files.name)

    def close(self) -> None:
        self._files.cleanup()

    # -- setting up -----------------------------------------------------------------------------------
    def people(self, *rows: Someone) -> None:
        path = self.folder / "people.csv"
        header = [
            "owner",
            "name",
            "email",
            "timezone",
            "slack_id",
            "teams_id",
            "admin",
            "nation",
            "working_days",
            "send_time",
        ]
        with path.open("w", newline="", encoding="utf-8") as file:
            writer = csv.writer(file)
            writer.writerow(header)
            for p in rows:
                email = p.name.lower().replace(" ", ".") + "@northbridge.example"
                writer.writerow(
                    [
                        p.role,
                        p.name,
                        email,
                        p.timezone,
                        p.slack_id,
                        "",
                        "yes" if p.admin else "",
                        p.nation,
                        p.working_days,
                        p.send_time,
                    ]
                )
        summary = import_people(self.store, path, now=self.clock.now())
        assert not summary.problems, summary.problems
        if self.settled:
            self.settle()

    def plan(self, rows: Iterable[Row], *, name: str = PLAN, imported: datetime | None = None) -> None:
        path = self.folder / f"{name}.csv"
        with path.open("w", newline="", encoding="utf-8") as file:
            writer = csv.writer(file)
            writer.writerow(["Theme", "Action", "Lead", "Timescale", "RAG", "Progress update"])
            for row in rows:
                writer.writerow([row.theme, row.action, row.lead, row.timescale, row.rag, row.progress])
        import_plan(self.store, path, now=imported or self.clock.now(), plan_name=name)
        if self.settled:
            self.settle()

    def settle(self) -> None:
        """Everyone answering for a plan's actions has had their welcome, and every plan is adopted."""
        settle(self.store, now=self.clock.now())

    def set_plan(self, name: str = PLAN, **settings: object) -> None:
        with self.store.session() as session:
            plan = session.scalar(select(Plan).where(Plan.name == name))
            assert plan is not None
            for key, value in settings.items():
                setattr(plan, key, value)

    def person_id(self, name: str) -> int:
        with self.store.session() as session:
            found = session.scalar(select(Person.id).where(Person.name == name))
            assert found is not None, name
            return found

    # -- running --------------------------------------------------------------------------------------
    def move(self, moment: str | datetime) -> None:
        self.clock.set(at(moment) if isinstance(moment, str) else moment)

    def sweep(self, *, daily_cap: int = 1) -> SweepReport:
        return sweep(self.store, now=self.clock.now(), zone=self.zone, daily_cap=daily_cap)

    def deliver(self, send: Callable[[Recipient, Reply], str] | None = None) -> DeliveryReport:
        return deliver(self.store, now=self.clock.now(), zone=self.zone, send=send or self.platform)

    def round(self, moment: str | datetime | None = None, *, daily_cap: int = 1) -> DeliveryReport:
        if moment is not None:
            self.move(moment)
        self.sweep(daily_cap=daily_cap)
        return self.deliver()

    def runner(
        self, database: Database | None = None, *, daily_cap: int = 1, weekly_cap: int = WEEKLY_CAP
    ) -> NudgeRound:
        return NudgeRound(
            database or self.store,
            clock=self.clock,
            zone=self.zone,
            send=self.platform,
            daily_cap=daily_cap,
            weekly_cap=weekly_cap,
        )

    def run_until(
        self,
        end: str | datetime,
        *,
        every: timedelta = timedelta(hours=1),
        start: str | datetime | None = None,
        daily_cap: int = 1,
    ) -> None:
        """Sweeps and delivers every `every` from `start` (or the clock's time) until `end`, as a scheduler
        would."""
        if start is not None:
            self.move(start)
        stop = at(end) if isinstance(end, str) else end
        while self.clock.now() <= stop:
            self.round(daily_cap=daily_cap)
            self.clock.set(self.clock.now() + every)

    # -- looking ----------------------------------------------------------------------------------------
    def inbox(self, name: str) -> list[Received]:
        return [r for r in self.platform.received if r.to == name]

    def outbox(self) -> list[OutboxMessage]:
        return outbox(self.store)

    def nudges(self) -> list[Nudge]:
        with self.store.session() as session:
            return list(session.scalars(select(Nudge).order_by(Nudge.id)))

    def steps_sent(self, ref: str) -> list[tuple[str, str, str]]:
        """(recipient, step, local day sent) of every reminder step about `ref` that went out."""
        with self.store.session() as session:
            rows = session.execute(
                select(Person.name, Nudge.step, OutboxMessage.sent_at)
                .join(Action, Action.id == Nudge.action_id)
                .join(Person, Person.id == Nudge.person_id)
                .join(OutboxMessage, OutboxMessage.id == Nudge.message_id)
                .where(Action.ref == ref, OutboxMessage.status == "sent")
                .order_by(OutboxMessage.sent_at, Person.name)
            ).all()
        return [(name, step, _london_day(sent)) for name, step, sent in rows]


def _london_day(sent: datetime | None) -> str:
    assert sent is not None, "a sent message has its time"
    return sent.astimezone(LONDON).date().isoformat()


def duplicates(keys: Iterable[object]) -> dict[object, int]:
    return {key: n for key, n in Counter(keys).items() if n > 1}


_REF = re.compile(r"^(?:Escalation: )?([A-Z]+-\d+)\b")


def refs(received: Received) -> list[str]:
    """The actions a reminder lists, in order (an escalation counts as its action)."""
    found = []
    for block in received.reply.blocks:
        if isinstance(block, Heading):
            match = _REF.match(block.text)
            if match:
                found.append(match.group(1))
    return found


def reasons(received: Received) -> list[str]:
    """The "why now" line under each action of a reminder."""
    return [block.text for block in received.reply.blocks if isinstance(block, Context)]


# -- people talking to edibot -------------------------------------------------------------------------


def say(world: NudgeWorld, who: str, text: str) -> str:
    """`who` types a command; edibot's answer as the console shows it."""
    outcome = command_layer(world.store, world.clock).handle(Actor(surface="console", name=who), text)
    return "\n".join(render(outcome.reply))


def press(world: NudgeWorld, who: str, reminder: Received, label: str, ref: str) -> str:
    """`who` presses the button labelled `label` under `ref` on a reminder they received."""
    button = next(
        (b for b in reminder.reply.buttons if b.label == label and b.value.partition("|")[0] == ref), None
    )
    assert button is not None, f"no {label!r} button for {ref} on:\n{reminder.text}"
    outcome = command_layer(world.store, world.clock).press(
        Actor(surface="console", name=who), button.action_id, button.value
    )
    return "\n".join(render(outcome.reply))


def people_across_zones(folder: Path) -> Path:
    """The sample plan's people directory, in London and (Grace) New York, written in `folder`."""
    path = folder / "people.csv"
    path.write_text(_PEOPLE_ACROSS_ZONES, encoding="utf-8")
    return path


def settle(store: Database, *, now: datetime) -> None:
    """Make the store's plans ones in use a while: everyone answering for a plan's actions has had their
    welcome and every plan is adopted, so a round sends reminders rather than day one's welcomes."""
    with store.session() as session:
        pairs: set[tuple[int, int]] = {
            (person_id, plan_id)
            for person_id, plan_id in session.execute(
                select(person_roles.c.person_id, Action.plan_id)
                .join(action_owners, action_owners.c.owner_id == person_roles.c.owner_id)
                .join(Action, Action.id == action_owners.c.action_id)
                .distinct()
            )
        }
        mark_welcomed(session, pairs - welcomed(session, pairs), at=now)
        session.execute(update(Plan).where(Plan.adopted_at.is_(None)).values(adopted_at=now))


# -- the world, for tests that drive a real edibot ----------------------------------------------------------


def fifty_reminders_due(store: Database, slack: SlackStandIn, *, on: datetime) -> None:
    """Fifty people on Slack, each with an action overdue on the morning of `on`."""
    world = NudgeWorld(store, FakeClock(on))
    try:
        world.people(
            *[
                Someone(f"Person {n}", f"Role {n}", slack_id=slack.add_user(f"Person {n}").id)
                for n in range(1, 51)
            ]
        )
        world.plan(
            [Row(f"Action {n}", f"Role {n}", "31/10/25", "R") for n in range(1, 51)],
            imported=on - timedelta(days=33),
        )
    finally:
        world.close()


def day_of_our_own(session: Session, *, key: str, name: str, day: str, at: datetime) -> None:
    """One of the organisation's own days, celebrated every year on `day` ("12 November")."""
    add_own_observance(
        session,
        key=key,
        name=name,
        category="organisation",
        tone="celebration",
        rule=day,
        description=f"{name}: a day of our own.",
        source=None,
        at=at,
    )


def channel_following(
    session: Session,
    *,
    plan_id: int,
    channel: str,
    name: str,
    by: str,
    at: datetime,
    working_days_only: bool,
) -> None:
    """A channel that takes the plan's weekly digest and the organisation's own days, a week ahead and on
    the day."""
    session.add(
        DigestSubscription(channel=channel, channel_name=name, plan_id=plan_id, created_by=by, created_at=at)
    )
    subscribe(
        session,
        channel=channel,
        channel_name=name,
        workspace=None,
        categories=["organisation"],
        lead_days=[7, 0],
        working_days_only=working_days_only,
        at=at,
    )


def outbox(store: Database) -> list[OutboxMessage]:
    """Every message queued, oldest first."""
    with store.session() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
