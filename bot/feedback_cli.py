"""`edibot feedback`: set up anonymous feedback (the responders' channel, the responders, k, release times,
retention), and export it for the responders as an anonymous CSV.

Only typer is imported here: `edibot feedback --help` reads these commands' signatures, and the database and
the feedback rules load only when one of them runs.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from bot.cli import Context
    from storage.models import Feedback, Person

feedback_app = typer.Typer(
    rich_markup_mode="markdown",
    help="Anonymous staff feedback: set it up, and export it for the responders.",
    no_args_is_help=True,
)

# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection); such a cell is
# written with a leading apostrophe, which shows the text as typed and runs nothing.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _fail(message: str) -> typer.Exit:
    print(message, file=sys.stderr)
    return typer.Exit(1)


def _channel(text: str) -> tuple[str, str]:
    """ "C0123" or "C0123|feedback-team" or "#feedback-team": (the id posted to, the name shown)."""
    cleaned = text.strip().lstrip("#")
    ident, _, name = cleaned.partition("|")
    if not ident or any(char.isspace() for char in ident) or len(ident) > 100 or len(name) > 200:
        raise _fail(f"--channel: '{text}' is not a channel: give its id, e.g. C0123ABC|feedback-team.")
    return ident, name.strip().lstrip("#") or ident


@feedback_app.command("setup")
def feedback_setup(
    ctx: typer.Context,
    channel: Annotated[
        str | None,
        typer.Option(help="The responders' restricted channel: its id, and its name after a bar (C0123|fb)."),
    ] = None,
    responders: Annotated[
        list[str] | None,
        typer.Option(
            help="Who reads and answers the feedback: names or emails in the people directory "
            "(repeat the option, or separate with commas)."
        ),
    ] = None,
    k: Annotated[int | None, typer.Option(help="The smallest group a count shows (default 5).")] = None,
    release: Annotated[
        str | None, typer.Option(help="When feedback is released, e.g. 09:00,15:00 (edibot's time zone).")
    ] = None,
    retention_days: Annotated[
        int | None, typer.Option(help="Days feedback is kept before it is deleted (default 365).")
    ] = None,
    publish: Annotated[
        str | None, typer.Option(help="A wider channel for “You said, we did” (id|name).")
    ] = None,
    signposting: Annotated[
        str | None,
        typer.Option(help="What someone reporting an incident reads: how to report formally, who can help."),
    ] = None,
    as_: Annotated[
        str | None,
        typer.Option(
            "--as", help="Once set up, only a responder may change it: who you are (name or email)."
        ),
    ] = None,
) -> None:
    """Set up anonymous feedback, or change its settings (then only as one of the responders)."""
    from handlers.errors import CommandError  # noqa: PLC0415 — see the module docstring
    from handlers.feedback import (  # noqa: PLC0415
        Setup,
        apply_setup,
        read_k,
        read_release,
        read_retention,
        read_signposting,
    )
    from storage import feedback as stored  # noqa: PLC0415
    from storage.store import Store  # noqa: PLC0415

    context: Context = ctx.obj
    try:
        changes = Setup(
            k=None if k is None else read_k(str(k)),
            release=None if release is None else read_release(release),
            retention=None if retention_days is None else read_retention(str(retention_days)),
            channel=None if channel is None else _channel(channel),
            publish=None if publish is None else _channel(publish),
        )
    except CommandError as error:
        raise _fail(str(error)) from None
    names = [name.strip() for given in responders or [] for name in given.split(",") if name.strip()]
    with context.database.session() as session:
        store = Store(session)
        settings = stored.feedback_settings(session)
        if settings is not None:
            me = store.person_mentioned(as_) if as_ else None
            if me is None or not stored.is_responder(session, me):
                raise _fail(
                    "Anonymous feedback is set up already; only one of its responders may change it: add "
                    '--as "Your Name" (a responder), or use /edi responders setup in chat.'
                )
        elif changes.channel is None or not names:
            raise _fail("Give the responders' channel (--channel) and the responders (--responders).")
        people: list[Person] = []
        for name in names:
            person = store.person_mentioned(name)
            if person is None:
                raise _fail(f"--responders: nobody called '{name}' is in the people directory.")
            people.append(person)
        if settings is None:
            assert changes.channel is not None
            settings, _ = stored.settings_or_new(
                session, channel=changes.channel[0], channel_name=changes.channel[1]
            )
            settings.k, settings.retention_days, settings.release_times = 5, 365, ["09:00", "15:00"]
        apply_setup(settings, changes)
        if signposting is not None:
            try:
                settings.signposting = read_signposting(signposting) or None
            except CommandError as error:
                raise _fail(str(error)) from None
        if people:
            stored.set_responders(session, people)
        shown = ", ".join(p.name for p in stored.responders(session)) or "nobody"
        print(
            f"Anonymous feedback goes to #{settings.channel_name}, released at "
            f"{' and '.join(settings.release_times)}, read by {shown}; counts show groups of "
            f"{settings.k} or more; kept {settings.retention_days} days."
        )


def _thread(piece: Feedback, author: str) -> str:
    """One side of a feedback's thread, by day: the submitter's follow-ups, or the responders' replies."""
    return "\n\n".join(f"{m.on.isoformat()}: {m.text}" for m in piece.messages if m.author == author)


def neutral(cell: str) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


@feedback_app.command("export")
def feedback_export(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option(help="Where to write the CSV.")] = Path("feedback.csv"),
) -> None:
    """Every piece of feedback kept, as a CSV for the responders: no one's name, id or time of day in it."""
    from storage import feedback as stored  # noqa: PLC0415 — see the module docstring
    from storage.models import Action  # noqa: PLC0415

    context: Context = ctx.obj
    with context.database.session() as session:
        if stored.feedback_settings(session) is None:
            raise _fail(
                "Anonymous feedback isn't set up: `edibot feedback setup --channel … --responders …`."
            )
        pieces = stored.all_feedback(session)
        rows = []
        for piece in pieces:
            action = session.get(Action, piece.action_id) if piece.action_id else None

            rows.append(
                [
                    f"FB-{piece.ref}",
                    piece.received_on.isoformat(),
                    piece.topic or "",
                    "yes" if piece.incident else "no",
                    piece.text,
                    _thread(piece, "submitter"),
                    _thread(piece, "responders"),
                    action.ref if action else "",
                    piece.published_on.isoformat() if piece.published_on else "",
                ]
            )
    try:
        with out.open("w", newline="", encoding="utf-8") as file:
            writer = csv.writer(file)
            writer.writerow(
                [
                    "reference",
                    "received",
                    "topic",
                    "incident",
                    "feedback",
                    "follow-ups",
                    "replies",
                    "action",
                    "published",
                ]
            )
            writer.writerows([[neutral(cell) for cell in row] for row in rows])
    except OSError as error:
        raise _fail(f"Could not write {out}: {error.strerror or error}.") from None
    print(f"{len(rows)} pieces of feedback written to {out}.")
