"""What the bot says, as plain data every adapter renders: Block Kit, an Adaptive Card or console text."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Heading:
    text: str


@dataclass(frozen=True)
class Fields:
    """Label/value pairs shown side by side: Owners, Due, RAG…"""

    items: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Context:
    """A small, quiet line: where something came from, what to try next."""

    text: str


@dataclass(frozen=True)
class Button:
    label: str
    action_id: str  # what the press means: "status", "snooze", "note", "not_mine"…
    value: str  # what it acts on, e.g. "LT-4|amber"
    style: Literal["primary", "danger"] | None = None


@dataclass(frozen=True)
class Buttons:
    buttons: tuple[Button, ...]


@dataclass(frozen=True)
class Choice:
    label: str
    value: str


@dataclass(frozen=True)
class Choices:
    """A pick-one list, e.g. how long to snooze."""

    label: str
    action_id: str
    choices: tuple[Choice, ...]


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    multiline: bool = False
    required: bool = True
    max_length: int = 1000
    initial: str = ""
    error: str | None = None  # shown on the field when a submission was refused
    choices: tuple[Choice, ...] = ()  # pick one of these rather than type (a select menu, a choice set)


@dataclass(frozen=True)
class Form:
    """Questions to answer before something can be done: a modal in Slack, card inputs in Teams, a prompt in a
    console."""

    form_id: str  # what submitting it does, e.g. "status"
    title: str
    fields: tuple[FormField, ...]
    state: str = ""  # carried back on submit, e.g. "LT-4|amber"
    submit_label: str = "Save"


Block = Text | Heading | Fields | Context | Buttons | Choices | Form


@dataclass(frozen=True)
class ReportRequest:
    """A progress report that goes with a message as a file: which plan, as of when, in what format.

    The outbox keeps this recipe, never the file: the file is made when the message is sent
    (handlers.reports.attach_report). A plan as of a past moment is the same whenever it is rebuilt (history
    is only ever added to, at the time of the change), so the file sent is the file asked for."""

    plan: str
    form: str  # html, xlsx, csv, md
    as_of: str  # ISO 8601, with its offset
    since: str
    theme: str | None = None


@dataclass(frozen=True)
class Attachment:
    """A file sent with a message, made at sending time: its name, media type, bytes and title."""

    name: str
    media_type: str
    content: bytes
    title: str


@dataclass
class Reply:
    """One message from the bot. `private` replies are for the person who asked alone (ephemeral).

    `report` asks for a report file to go with it; `files` are the files made for it when it is sent (never
    written down by reply_as_data)."""

    blocks: list[Block] = field(default_factory=list)
    private: bool = True
    report: ReportRequest | None = None
    files: list[Attachment] = field(default_factory=list)

    @classmethod
    def say(cls, text: str, *, private: bool = True) -> Reply:
        return cls([Text(text)], private=private)

    def add(self, *blocks: Block) -> Reply:
        self.blocks.extend(blocks)
        return self

    @property
    def form(self) -> Form | None:
        return next((block for block in self.blocks if isinstance(block, Form)), None)

    @property
    def buttons(self) -> list[Button]:
        return [button for block in self.blocks if isinstance(block, Buttons) for button in block.buttons]

    def plain_text(self) -> str:
        """The reply as plain text: notification previews, logs-free fallbacks, and tests."""
        lines: list[str] = []
        for block in self.blocks:
            if isinstance(block, Text | Heading | Context):
                lines.append(block.text)
            elif isinstance(block, Fields):
                lines.extend(f"{label}: {value}" for label, value in block.items)
            elif isinstance(block, Buttons):
                lines.append(" | ".join(f"[{button.label}]" for button in block.buttons))
            elif isinstance(block, Choices):
                lines.append(f"{block.label}: " + " | ".join(choice.label for choice in block.choices))
            else:
                lines.append(block.title)
                lines.extend(f"{f.label}{' — ' + f.error if f.error else ''}" for f in block.fields)
        return "\n".join(lines)


def reply_as_data(reply: Reply) -> dict[str, Any]:
    """A reply as plain JSON-able data, to be kept (a notice waiting in the outbox) and read back by
    reply_from_data."""
    data: dict[str, Any] = {
        "private": reply.private,
        "blocks": [{"type": type(block).__name__, **asdict(block)} for block in reply.blocks],
    }
    if reply.report is not None:
        data["report"] = asdict(reply.report)
    return data


def reply_from_data(data: dict[str, Any]) -> Reply:
    """The reply reply_as_data wrote down."""
    report = data.get("report")
    return Reply(
        [_block(dict(item)) for item in data.get("blocks") or []],
        private=bool(data.get("private", True)),
        report=ReportRequest(**report) if isinstance(report, dict) else None,
    )


def _choices(items: list[dict[str, Any]]) -> tuple[Choice, ...]:
    return tuple(Choice(**item) for item in items)


def _block(item: dict[str, Any]) -> Block:
    kind = item.pop("type")
    if kind == "Text":
        return Text(**item)
    if kind == "Heading":
        return Heading(**item)
    if kind == "Context":
        return Context(**item)
    if kind == "Fields":
        return Fields(tuple((str(label), str(value)) for label, value in item["items"]))
    if kind == "Buttons":
        return Buttons(tuple(Button(**button) for button in item["buttons"]))
    if kind == "Choices":
        return Choices(item["label"], item["action_id"], _choices(item["choices"]))
    if kind == "Form":
        fields = tuple(
            FormField(**{**entry, "choices": _choices(entry.get("choices") or [])})
            for entry in item["fields"]
        )
        return Form(**{**item, "fields": fields})
    raise ValueError(f"not a block of a reply: {kind!r}")


@dataclass(frozen=True)
class Notice:
    """A message for someone other than the person who spoke, e.g. the plan admins on "not mine"."""

    person_id: int
    name: str
    reply: Reply
    key: str = ""  # its outbox key, once the command layer has queued it


@dataclass
class Outcome:
    """Everything one handled input produces: the reply, and messages for others (queued in the outbox)."""

    reply: Reply
    notices: list[Notice] = field(default_factory=list)
    ref: str | None = None  # the action this was about: a plain reply that follows is about it too
    duplicate: bool = False  # a retried delivery already handled: adapters send nothing
    changed: bool = False  # something in the store changed (a reminder's buttons for it are now stale)
