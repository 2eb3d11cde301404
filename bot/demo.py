"""The newcomer's tour: import a plan, map people, hold a conversation, then re-import a revision — on a fake
clock."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from importlib.resources import as_file, files
from pathlib import Path

from rich.console import Console
from rich.rule import Rule

from bot.console import ConsoleSession, FakeClock, render, run_script
from bot.render import print_action, print_history, print_import
from handlers.messages import Context, Fields, Heading, Reply, Text
from handlers.registry import command_layer
from schedules.runner import NudgeRound, outbox_now
from schedules.sending import Channel, Recipient
from storage.db import MARKER, Database, sqlite_url, why_unusable
from storage.importing.service import import_plan
from storage.people import import_people
from storage.queries import action_by_ref, history_of

SAMPLE = "northbridge_edi_plan.csv"
REVISED = "northbridge_edi_plan_revised.csv"
PEOPLE = "northbridge_people.csv"
CONVERSATION = "demo_conversation.txt"
PLAN = "Northbridge EDI Plan"


DEMO_MARK = ".edibot-demo"  # in a folder the demo made: the demo may empty this folder, and no other
_DEMO_FILES = frozenset(
    {
        DEMO_MARK,
        MARKER,
        "edibot.sqlite3",
        "edibot.sqlite3-wal",
        "edibot.sqlite3-shm",
        "edibot.sqlite3.scheduler.lock",
    }
)


class DemoFolderRefused(Exception):
    """The demo was pointed at a folder it did not make (or the live data folder); the message says why."""


def claim_demo_folder(data_dir: Path, *, live: Path) -> None:
    """Makes `data_dir` the demo's fresh folder: a new or empty folder, or one the demo made before, emptied
    of the demo's own files only. Any other folder — the live data folder, a file, a folder holding anything
    the demo did not make — is refused with DemoFolderRefused, and nothing in it is touched."""
    if data_dir.resolve() == live.resolve():
        raise DemoFolderRefused(
            f"{data_dir} is edibot's live data folder (EDIBOT_DATA_DIR), so the demo won't use it; "
            "give the demo its own folder with --data-dir, e.g. --data-dir data/demo."
        )
    if data_dir.exists() and not data_dir.is_dir():
        raise DemoFolderRefused(
            f"{data_dir} is a file, not a folder; give the demo a folder with --data-dir."
        )
    try:
        _empty_demo_folder(data_dir)
    except OSError as error:
        raise DemoFolderRefused(
            f"The demo can't make its folder {data_dir}: {why_unusable(data_dir, error)}. Give it a folder "
            "this user can write with --data-dir."
        ) from None


def _empty_demo_folder(data_dir: Path) -> None:
    """The demo's folder made, or emptied of the demo's own files (DemoFolderRefused if it holds others)."""
    if data_dir.is_dir():
        found = {entry.name for entry in data_dir.iterdir()}
        others = sorted(found - _DEMO_FILES)
        if others or (found and DEMO_MARK not in found):
            listed = ", ".join(others[:3] or sorted(found)[:3]) + (", …" if len(others or found) > 3 else "")
            raise DemoFolderRefused(
                f"{data_dir} holds files the demo did not make ({listed}), so the demo won't touch it; "
                "give the demo an empty or new folder with --data-dir."
            )
        for name in found - {DEMO_MARK}:
            (data_dir / name).unlink()
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / DEMO_MARK).write_text(
        "The edibot demo made this folder; `edibot demo` empties it and starts again each time it runs.\n",
        encoding="utf-8",
    )


def run_demo(*, data_dir: Path, now: datetime, console: Console, live: Path) -> None:
    """Runs on a fresh SQLite database in `data_dir` (see claim_demo_folder), so it tells the same story every
    time."""
    claim_demo_folder(data_dir, live=live)
    database = Database.open(sqlite_url(data_dir), create="if-missing")
    samples = files("bot") / "samples"
    clock = FakeClock(now)
    try:
        console.print(Rule(f"1. Importing the sample plan ({SAMPLE})"))
        with as_file(samples / SAMPLE) as path:
            print_import(console, import_plan(database, path, now=now, plan_name=PLAN))

        console.print(Rule(f"2. Who answers for which owner role ({PEOPLE})"))
        with as_file(samples / PEOPLE) as path:
            people = import_people(database, path, now=now)
        console.print(
            f"{people.people_added} people added; {people.roles_mapped} owner roles mapped to them."
        )

        console.print(Rule(f"3. Staff update their actions in chat ({CONVERSATION})"))
        session = ConsoleSession(
            command_layer(database, clock),
            write=lambda line: console.print(line, markup=False, highlight=False, soft_wrap=True),
            outbox=outbox_now(database, clock=clock, zone=now.tzinfo or UTC),  # type: ignore[arg-type]
        )
        with as_file(samples / CONVERSATION) as path:
            run_script(
                session,
                path.read_text(encoding="utf-8").splitlines(),
                clock=clock,
                zone=now.tzinfo or UTC,
            )

        later = now + timedelta(days=30)
        console.print(Rule(f"4. A month later the plan owner sends a revision ({REVISED})"))
        with as_file(samples / REVISED) as path:
            second = import_plan(database, path, now=later, plan_name=PLAN)
        summary = second.summary
        console.print(
            f"Re-import: {summary.added} added, {summary.changed} changed, {summary.unchanged} unchanged, "
            f"{summary.archived} archived — references stay the same, nothing is duplicated.",
            soft_wrap=True,
        )
        changed = next(a for a in second.actions if a["title"].startswith("Train report authors"))
        console.print(
            Rule(f"5. One action in full, with its history from chat and from the plan: {changed['ref']}")
        )
        with database.session() as db_session:
            action = action_by_ref(db_session, changed["ref"])
            assert action is not None
            print_action(console, action)
            print_history(console, history_of(db_session, action), zone=now.tzinfo or UTC)
        later = _two_months_of_reminders(database, session, clock=clock, start=later, console=console)
    finally:
        database.dispose()
    console.print(Rule("Try it yourself"))
    edibot = f"EDIBOT_DATA_DIR={data_dir} .venv/bin/edibot --now {later:%Y-%m-%dT%H:%M}"
    console.print(
        f"The demo database is in {data_dir}, and the demo's clock stopped at {later:%d %B %Y}. Explore it:\n"
        f"  {edibot} actions --overdue\n"
        f"  {edibot} show {changed['ref']}\n"
        f'  {edibot} console --as "Amina Khan"     (then type /edi mine, or /edi help)\n'
        'Import your own plan with: .venv/bin/edibot import YOUR_PLAN.docx --plan "Our EDI plan" --dry-run\n'
        "Put edibot in your Slack workspace: README.md, “Connecting Slack” (edibot slack manifest, then "
        "edibot run --slack-socket); in Microsoft Teams: README.md, “Microsoft Teams” (edibot teams package, "
        "then edibot run --teams).",
        highlight=False,
        soft_wrap=True,
    )


# What people answer to their reminders in the demo's two months, by day: (who, what they type).
REPLIES: dict[date, list[tuple[str, str]]] = {
    date(2025, 12, 4): [
        ("Amina Khan", "new date end of February"),
        ("Grace Liu", "done ✅ template published"),
    ],
    date(2025, 12, 17): [
        ("Tom Okafor", "amber - objectives go to SMT in January"),
        ("Dafydd Evans", "snooze 1 week"),
    ],
    date(2026, 1, 5): [("Sam Patel", "green, networks met twice in December")],
    date(2026, 1, 15): [("Amina Khan", "not mine")],
}


def _two_months_of_reminders(
    database: Database, session: ConsoleSession, *, clock: FakeClock, start: datetime, console: Console
) -> datetime:
    """Every working morning for two months: the scheduler's round, then whatever people reply; the working
    group's channel gets the plan's weekly digest."""
    console.print(
        Rule("6. Two months pass in a minute: reminders, replies, an escalation, a check-in and digests")
    )
    zone = start.tzinfo or UTC
    clock.set(start)
    console.print(
        f"  {start:%a %-d %b} @Priya Shah: {DIGEST_SUBSCRIPTION}",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    session.say("Priya Shah", DIGEST_SUBSCRIPTION)
    round_ = NudgeRound(
        database,
        clock=clock,
        zone=zone,  # type: ignore[arg-type]  # the demo's clock is in Europe/London, a ZoneInfo
        send=_DemoSender(session, clock=clock, console=console),
    )
    day = start.date() + timedelta(days=1)
    end = day + timedelta(days=60)
    while day <= end:
        clock.set(datetime.combine(day, time(9, 31), tzinfo=zone))
        round_()
        for name, text in REPLIES.get(day, []):
            console.print(
                f"  {clock.now():%a %-d %b} @{name}: {text}", markup=False, highlight=False, soft_wrap=True
            )
            session.say(name, text)
        day += timedelta(days=1)
    return clock.now()


DIGEST_SUBSCRIPTION = "/edi digest subscribe #edi-working-group plan:Northbridge"


class _DemoSender:
    """The console's platform: each reminder as one line (the person can reply to it, as in a thread), and
    the channel's digest as the working group reads it, the first in full."""

    def __init__(self, session: ConsoleSession, *, clock: FakeClock, console: Console) -> None:
        self.session, self.clock, self.console = session, clock, console
        self.numbers = itertools.count(1)
        self.digests = 0

    def _said(self, line: str) -> None:
        self.console.print(line, markup=False, highlight=False, soft_wrap=True)

    def __call__(self, person: Recipient, reply: Reply) -> str:
        self._said(f"  {self.clock.now():%a %-d %b %H:%M} → {person.name}: {_in_one_line(reply)}")
        sent = f"demo-{person.id}-{self.clock.now():%Y%m%d%H%M%S}-{next(self.numbers)}"
        self.session.reminded(person.name, reply, message_id=sent)
        return sent

    def to_channel(self, channel: Channel, reply: Reply) -> str:
        self.digests += 1
        heading = reply.blocks[0].text if reply.blocks and isinstance(reply.blocks[0], Heading) else "a post"
        self._said(f"  {self.clock.now():%a %-d %b %H:%M} → {channel.name}: {heading}")
        if self.digests == 1:  # the first in full, as the working group reads it
            for line in render(reply):
                self._said(f"      {line}")
        return f"demo-{channel.id}-{self.clock.now():%Y%m%d%H%M%S}-{next(self.numbers)}"


def _in_one_line(reply: Reply) -> str:
    """A reminder as the demo lists it: whom it addresses, then each action and why it is sent now (a step
    before the deadline, overdue, a check-in, a request for a date); an escalation names the owners and their
    last word; an admin note gives its first line."""
    if not reply.blocks or not isinstance(reply.blocks[0], Heading):
        return f"admin note: {reply.plain_text().splitlines()[0].rstrip(':') if reply.blocks else ''}"
    heading = reply.blocks[0].text
    if heading.startswith("Welcome to edibot"):
        cards = [
            b.text.split(" · ", 1)[0] for b in reply.blocks[1:] if isinstance(b, Heading) and " · " in b.text
        ]
        return f"{heading} — with buttons for {', '.join(cards) or 'none open'}"
    if heading.endswith(" is on edibot") and len(reply.blocks) > 1 and isinstance(reply.blocks[1], Text):
        return f"{heading} — {reply.blocks[1].text}"
    parts: list[str] = []
    ref: str | None = None
    for block in reply.blocks:
        if isinstance(block, Heading) and block.text.startswith("Escalation: "):
            heading = "" if block is reply.blocks[0] else heading
            ref = block.text.removeprefix("Escalation: ").split()[0]
        elif isinstance(block, Heading) and " · " in block.text:
            ref = block.text.split(" · ", 1)[0].strip("*")
        elif isinstance(block, Fields) and ref:
            facts = dict(block.items)
            if "Last said" in facts:
                parts.append(
                    f"{ref} escalated: owned by {facts.get('Owners')}, last said “{facts['Last said']}”"
                )
        elif isinstance(block, Context) and ref:
            line = block.text
            if line.startswith("Why now: "):
                parts.append(f"{ref} {line.removeprefix('Why now: ').split('. ', 1)[0]}")
            elif "check-in" in line:
                parts.append(f"{ref} {line.split(':', 1)[0].lower()}")
            elif "no date yet" in line:
                parts.append(f"{ref} needs a date")
    return f"{heading} — {'; '.join(parts)}" if heading else "; ".join(parts)
