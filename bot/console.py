"""The console adapter: chat with edibot in a terminal, or run a scripted conversation, on the same command
layer."""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

from handlers.core import Actor, CommandLayer
from handlers.messages import (
    Attachment,
    Button,
    Buttons,
    Choices,
    Context,
    Fields,
    Form,
    Heading,
    Outcome,
    Reply,
    Text,
)
from schedules.sending import Channel, Recipient, Sender

_SCRIPT_LINE = re.compile(r"^@([^:]+?)\s*:\s*(.*)$")


class ScriptError(Exception):
    """A conversation script line we cannot run; the message names the line."""


class FakeClock:
    """A clock the demo and tests move by hand (`:time 2025-03-03T09:00`)."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def now(self) -> datetime:
        return self.current

    def set(self, moment: datetime) -> None:
        self.current = moment


class FastClock:
    """A clock that reads `start` until the wall clock reads `anchor` (seconds since the epoch), then runs
    `speed` times as fast: a day of reminders rehearsed in a minute (`edibot run --now … --speed …`).
    Processes given the same start and anchor agree on the time, so replicas can rehearse together; one that
    is ready before the anchor waits at `start` for the others rather than rehearsing days before it."""

    def __init__(self, start: datetime, *, speed: float, anchor: float) -> None:
        self.start = start
        self.speed = speed
        self.anchor = anchor

    def now(self) -> datetime:
        return self.start + timedelta(seconds=max(time.time() - self.anchor, 0.0) * self.speed)


class SystemClock:
    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone

    def now(self) -> datetime:
        return datetime.now(self.zone)


class ConsoleSender:
    """Delivers reminders by printing them: the console adapter's end of the outbox.

    Not a `KeyedSender`: a terminal keeps no history to look a message up in, so a crash between printing and
    the outbox marking it sent prints it again on the next round.
    """

    def __init__(self, *, write: Callable[[str], None], files_to: Path | None = None) -> None:
        self.write = write
        self.files_to = files_to
        self.sent = 0

    def __call__(self, person: Recipient, reply: Reply, /) -> str:
        self.sent += 1
        self.write(f"edibot → {person.name} (direct message):")
        for line in render(reply, files_to=self.files_to):
            self.write(f"  {line}")
        return f"console-{self.sent}"

    def to_channel(self, channel: Channel, reply: Reply, /) -> str:
        """A plan's escalation posted in its channel, printed as the console would show the channel."""
        self.sent += 1
        self.write(f"edibot → {channel.name} (channel):")
        for line in render(reply):
            self.write(f"  {line}")
        return f"console-{self.sent}"


def render(reply: Reply, *, files_to: Path | None = None) -> list[str]:
    """A reply as console lines: buttons numbered so they can be pressed by typing the number; files sent with
    it saved in `files_to`, where a terminal user can open them."""
    lines: list[str] = []
    number = 0
    for block in reply.blocks:
        if isinstance(block, Heading):
            lines.append(f"*{block.text}*")
        elif isinstance(block, Text):
            lines.extend(block.text.splitlines() or [""])
        elif isinstance(block, Fields):
            lines.extend(f"  {label}: {value}" for label, value in block.items)
        elif isinstance(block, Context):
            lines.append(f"  ({block.text})")
        elif isinstance(block, Buttons):
            labels = []
            for button in block.buttons:
                number += 1
                labels.append(f"[{number}] {button.label}")
            lines.append("  " + "  ".join(labels))
        elif isinstance(block, Choices):
            lines.append(f"  {block.label}: " + ", ".join(choice.label for choice in block.choices))
        else:
            for form_field in block.fields:
                error = f" ({form_field.error})" if form_field.error else ""
                lines.append(f"  ? {form_field.label}{error} — reply with your answer")
    lines.extend(_file_line(file, files_to) for file in reply.files)
    return lines


def _file_line(file: Attachment, folder: Path | None) -> str:
    """A file as one line, saved in `folder` first (never over an earlier file: a number is added)."""
    about = f"[file: {file.name}, {len(file.content):,} bytes"
    if folder is None:
        return f"  {about}]"
    name = Path(file.name).name  # the name only: a file never lands outside the folder
    path = folder / name
    for number in itertools.count(2):
        if not path.exists():
            break
        path = folder / f"{Path(name).stem}-{number}{Path(name).suffix}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path.write_bytes(file.content)
    except OSError as error:
        return f"  {about}: I couldn't save it in {folder} ({error.strerror or error})]"
    return f"  {about}, saved as {path}]"


@dataclass
class _Conversation:
    """What the console remembers for one person: the action being discussed, its buttons, an open
    question."""

    ref: str | None = None
    buttons: list[Button] = field(default_factory=list)
    form: Form | None = None
    reminder: str | None = (
        None  # the id of the reminder a plain reply answers, as a reply in its thread would
    )


# Delivers these outbox messages now, through this sender (schedules.runner.outbox_now).
Outbox = Callable[[Collection[str], Sender], object]


class ConsoleSession:
    """One terminal conversation with any number of people; prints what the bot says to each.

    What the bot tells others (the plan admins on "not mine") is queued in the outbox by the command layer;
    with an `outbox` to deliver it through, the session prints each notice under the line that caused it, as
    it leaves the outbox. Without one, notices wait there for the scheduler (`edibot run`).
    """

    def __init__(
        self,
        layer: CommandLayer,
        *,
        write: Callable[[str], None],
        surface: str = "console",
        outbox: Outbox | None = None,
        files_to: Path | None = None,
    ) -> None:
        self.layer = layer
        self.write = write
        self.surface = surface
        self.outbox = outbox
        self.files_to = files_to
        self.conversations: dict[str, _Conversation] = {}
        self._told = 0

    def say(self, name: str, text: str) -> Outcome:
        """`name` says `text`: a /edi command, a number pressing a button, an answer, or a plain reply."""
        actor = Actor(surface=self.surface, name=name)
        talk = self.conversations.setdefault(name.casefold(), _Conversation())
        text = text.strip()
        if talk.form is not None and not text.lower().startswith("/edi"):
            form, talk.form = talk.form, None
            values = {form.fields[0].name: text} if form.fields else {}
            outcome = self.layer.submit(actor, form.form_id, form.state, values)
        elif text.isdigit() and talk.buttons:
            index = int(text) - 1
            if not 0 <= index < len(talk.buttons):
                outcome = Outcome(
                    Reply.say(f"There is no button {text}; the last message had {len(talk.buttons)}.")
                )
            else:
                button = talk.buttons[index]
                outcome = self.layer.press(actor, button.action_id, button.value)
        elif talk.reminder is not None and not text.lower().startswith("/edi"):
            # As in a Slack or Teams thread: one action's reminder takes the reply; several need its ref.
            outcome = self.layer.reply_to_message(actor, text, message_id=talk.reminder)
        else:
            outcome = self.layer.handle(actor, text, thread_ref=talk.ref)
        self._remember(talk, outcome)
        self._show(outcome)
        return outcome

    def reminded(self, name: str, reply: Reply, *, message_id: str | None = None) -> None:
        """A message with buttons reached `name`, and its buttons work. A reminder (sent as `message_id`)
        takes a plain reply that follows, as a reply in its thread does on Slack and Teams; another message
        (a channel post) makes its first action the one being discussed."""
        talk = self.conversations.setdefault(name.casefold(), _Conversation())
        talk.reminder, talk.ref = message_id, None
        if reply.buttons:
            talk.buttons = reply.buttons
            if message_id is None:
                talk.ref = reply.buttons[0].value.partition("|")[0]

    def _remember(self, talk: _Conversation, outcome: Outcome) -> None:
        if outcome.ref:
            talk.ref, talk.reminder = outcome.ref, None
        buttons = outcome.reply.buttons
        if buttons:
            talk.buttons = buttons
        talk.form = outcome.reply.form

    def _show(self, outcome: Outcome) -> None:
        if outcome.duplicate:
            return
        for line in render(outcome.reply, files_to=self.files_to):
            self.write(f"  edibot: {line}")
        if outcome.notices and self.outbox is not None:
            self.outbox([notice.key for notice in outcome.notices], self._tell)

    def _tell(self, person: Recipient, reply: Reply, /) -> str:
        """A notice leaving the outbox, printed under the line that caused it."""
        self._told += 1
        self.write(f"  edibot → {person.name}:")
        for line in render(reply, files_to=self.files_to):
            self.write(f"    {line}")
        return f"console-notice-{self._told}"


def run_script(session: ConsoleSession, lines: Iterable[str], *, clock: FakeClock, zone: tzinfo) -> None:
    """Runs `@Person Name: message` lines, `# comments` and `:time ISO` clock moves.

    Every line is checked before any is run: a script with a bad line (or a name nobody has) raises
    ScriptError naming each such line, and nothing in it has been said — so a fixed script can simply be run
    again."""
    steps: list[tuple[datetime | None, str, str]] = []  # (a clock move) or (None, who, what they say)
    problems: list[str] = []
    for number, raw in enumerate(lines, start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith(":time"):
            value = stripped.removeprefix(":time").strip()
            try:
                moment = datetime.fromisoformat(value)
            except ValueError:
                problems.append(f"Line {number}: '{value[:40]}' is not a time such as 2025-03-03T09:00")
                continue
            steps.append((moment if moment.tzinfo else moment.replace(tzinfo=zone), "", ""))
            continue
        match = _SCRIPT_LINE.match(stripped)
        if not match or not match.group(2).strip():
            problems.append(
                f"Line {number}: write '@Person Name: message', '# a comment' or ':time 2025-03-03T09:00' "
                f"(got '{stripped[:80]}')"
            )
            continue
        name, message = match.group(1).strip(), match.group(2).strip()
        if not session.layer.knows(Actor(surface=session.surface, name=name)):
            problems.append(f"Line {number}: nobody called '{name}' is in the people directory")
            continue
        steps.append((None, name, message))
    if problems:
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise ScriptError(f"{shown}. Nothing in the script was run: every line is checked first.")
    for when, name, message in steps:
        if when is not None:
            clock.set(when)
            session.write(f"-- {clock.now():%A %-d %B %Y, %H:%M}")
            continue
        session.write(f"@{name}: {message}")
        session.say(name, message)
