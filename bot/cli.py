"""The `edibot` command line: create the database, import plans, list and show actions, run edibot and the
demo."""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import time
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NamedTuple
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from typer.core import TyperGroup
from typer.exceptions import TyperException

from bot.calendar_cli import calendar_app
from bot.feedback_cli import feedback_app
from bot.operating_cli import backup, doctor, edibot_version, restore
from bot.report_cli import report_command

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from bot.config import Settings
    from bot.console import ConsoleSession, FakeClock
    from schedules.delivery import DeliveryReport
    from schedules.planning import SweepReport
    from storage.db import Create, Database
    from storage.models import Action, Plan

# `edibot --help` reads only the commands' signatures: everything else (the database, the importer, the
# platforms, settings) is imported in the command that uses it, so help comes back at once.


HELP_ASKED = "edibot.help_asked"


class _OneSentenceOnFailure(TyperGroup):
    """Every failure of configuration, database, data folder or file a command meets reaches the person as one
    sentence saying what to do, and exit status 1 — never a traceback. Bugs (anything else) still raise."""

    def invoke(self, ctx: Any) -> Any:  # typer's own (vendored) click Context
        # The words after the group, before it hands them on: `edibot import --help` asks for help, which
        # the callback must not refuse over a setting.
        ctx.meta[HELP_ASKED] = "--help" in [*getattr(ctx, "_protected_args", []), *ctx.args]
        try:
            return super().invoke(ctx)
        except (TyperException, typer.Exit, typer.Abort):
            raise  # typer's own: help, usage errors, exit codes
        except BrokenPipeError:
            # `edibot actions | head`: the reader has what it wanted. Quietly, as other command-line tools
            # stop, with what is still buffered for stdout sent nowhere (Python's own advice for SIGPIPE).
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(1) from None
        except Exception as error:
            sentence = _one_sentence(error, ctx)
            if sentence is None:
                raise
            raise _fail(sentence) from None


def _one_sentence(error: Exception, ctx: Any) -> str | None:
    """The sentence for a failure the person can fix, or None for a bug. The exception classes are imported
    here, when something has failed, so that `edibot --help` imports neither the database nor settings."""
    from sqlalchemy.exc import InterfaceError, OperationalError  # noqa: PLC0415 — see _OneSentenceOnFailure

    from bot.config import SettingsError  # noqa: PLC0415
    from storage.db import (  # noqa: PLC0415
        DatabaseGone,
        DatabaseMissing,
        DatabaseUnreachable,
        SchemaTooNew,
        cannot_write,
        database_down,
        unreachable,
    )
    from storage.importing.errors import PlanFileError  # noqa: PLC0415
    from storage.observance_data import CalendarDataError  # noqa: PLC0415

    if isinstance(
        error,
        DatabaseMissing
        | DatabaseUnreachable
        | DatabaseGone
        | SchemaTooNew
        | SettingsError
        | PlanFileError
        | CalendarDataError,
    ):
        return str(error)
    if isinstance(error, OperationalError | InterfaceError):
        if why := cannot_write(error):
            fix = (
                "free space on its disk"
                if why == "is full"
                else "make it writable by the user edibot runs as"
            )
            return f"edibot's database {why}, so nothing was changed: {fix}, then try again."
        if not database_down(error):
            reason = str(error.orig or error).strip().splitlines()[0]
            return (
                f"edibot's database refused that ({reason}), so nothing was changed; if this goes on, "
                "restore the database from a backup."
            )
        url = ctx.obj.settings.effective_database_url if isinstance(ctx.obj, Context) else "its database"
        return str(unreachable(url, error))
    if isinstance(error, OSError):
        return _file_problem(error)
    return None


def _file_problem(error: OSError) -> str:
    """An operating system's refusal (no such file, not allowed, a file where a folder should be) as a
    sentence."""
    where = f" {error.filename}" if error.filename else ""
    if isinstance(error, PermissionError):
        return f"edibot may not use{where}: this user lacks permission. Choose a place this user can write."
    if isinstance(error, FileNotFoundError):
        return f"There is nothing at{where}: check the path."
    if isinstance(error, NotADirectoryError | FileExistsError):
        return f"edibot can't use{where}: a file is where a folder should be. Choose another place."
    return f"edibot can't use{where}: {error.strerror or error}."


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")

app = typer.Typer(
    name="edibot",
    rich_markup_mode="markdown",
    help="edibot runs an Equality, Diversity & Inclusion action plan: import it, then track it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=_OneSentenceOnFailure,
)
out = Console(soft_wrap=False)


class Context:
    """What every command needs: settings, the database, and the current time (fixed with --now)."""

    def __init__(self, settings: Settings, now: datetime, *, fixed_now: datetime | None = None) -> None:
        self.settings = settings
        self.now = now
        self.fixed_now = fixed_now  # set by --now: the clock stands still there
        self._database: Database | None = None

    @property
    def database(self) -> Database:
        """The database, made on a first run only (see README, "Where edibot keeps its data")."""
        from storage.db import sqlite_path  # noqa: PLC0415

        database = self.open_database(create="first-run")
        if database.created:
            where = sqlite_path(self.settings.effective_database_url)
            print(f"Created an empty edibot database at {where}.", file=sys.stderr)
        return database

    def open_database(self, *, create: Create) -> Database:
        """The database once opened; a missing one stops the command with the operator's explanation."""
        from storage.db import Database, DatabaseMissing  # noqa: PLC0415

        if self._database is None:
            try:
                self._database = Database.open(self.settings.effective_database_url, create=create)
            except DatabaseMissing as error:
                raise _fail(str(error)) from None
        return self._database

    @property
    def today(self) -> date:
        return self.now.date()

    def close(self) -> None:
        """Give the database's connections back when the command ends (tests run many in one process)."""
        if self._database is not None:
            self._database.dispose()
            self._database = None


def _fail(message: str, code: int = 1) -> typer.Exit:
    """One plain sentence on stderr, never wrapped, so scripts and people read it alike."""
    print(message, file=sys.stderr)
    return typer.Exit(code)


def _show_version(wanted: bool) -> None:
    if wanted:
        print(f"edibot {edibot_version()}")
        raise typer.Exit()


@app.callback()
def _main(
    ctx: typer.Context,
    now: Annotated[
        str | None,
        typer.Option(help="Pretend it is this time (ISO 8601), for demos and tests.", show_default=False),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Print edibot's version and stop."
        ),
    ] = False,
    log_level: Annotated[
        str | None,
        typer.Option(
            "--log-level",
            help="DEBUG, INFO, WARNING or ERROR (default: EDIBOT_LOG_LEVEL, else WARNING).",
            show_default=False,
        ),
    ] = None,
) -> None:
    if ctx.meta.get(HELP_ASKED):
        return  # a command's help needs no settings: it must show even when a setting is wrong
    from bot.config import SettingsError, load_settings  # noqa: PLC0415
    from bot.logs import configure_from  # noqa: PLC0415

    try:
        settings = load_settings()
    except SettingsError as error:
        if ctx.invoked_subcommand == "doctor":
            ctx.obj = error  # the doctor's first finding
            return
        raise _fail(str(error)) from None
    if log_level is not None:
        if log_level.upper() not in LOG_LEVELS:
            raise _fail(f"--log-level: '{log_level}' is not one of {', '.join(LOG_LEVELS)}.")
        settings = settings.model_copy(update={"log_level": log_level.upper()})
    configure_from(settings)
    zone = ZoneInfo(settings.timezone)
    if now is None:
        moment = datetime.now(zone)
    else:
        try:
            moment = datetime.fromisoformat(now)
        except ValueError:
            raise _fail(f"--now: '{now}' is not an ISO 8601 time such as 2025-03-03T09:00.") from None
        moment = moment if moment.tzinfo else moment.replace(tzinfo=zone)
    ctx.obj = Context(settings, moment, fixed_now=moment if now is not None else None)
    ctx.call_on_close(ctx.obj.close)


def _parse_maps(maps: list[str]) -> dict[str, str]:
    overrides: dict[str, str] = {}
    for item in maps:
        role, sep, header = item.partition("=")
        if not sep or not role.strip() or not header.strip():
            raise _fail(f"--map '{item}': write it as COLUMN=Header, e.g. --map deadline=\"Target date\".")
        overrides[role.strip().lower()] = header.strip()
    return overrides


@app.command()
def init(ctx: typer.Context) -> None:
    """Create edibot's database (a SQLite file in the data folder, or the schema at DATABASE_URL); after a
    loss, start afresh."""
    from storage.db import MARKER, sqlite_path  # noqa: PLC0415

    context: Context = ctx.obj
    path = sqlite_path(context.settings.effective_database_url)
    held_before = path is not None and not path.exists() and (path.parent / MARKER).exists()
    database = context.open_database(create="if-missing")
    if not database.created:
        where = path or database.engine.url.render_as_string(hide_password=True)
        print(f"edibot's database at {where} is there and up to date; nothing was changed.")
        return
    print(f"Created an empty edibot database at {path} (only you can read it).")
    if held_before:
        print(
            "The database that was here before is not in it: if you have a backup, stop edibot and put the "
            "backup in its place instead."
        )
    print("Next: edibot import PLAN --plan NAME, then edibot people import PEOPLE.csv, then edibot run.")


@app.command("import")
def import_command(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A plan: .docx, .xlsx, .csv, .tsv, .txt or .pdf.")],
    plan: Annotated[str | None, typer.Option(help="Plan name (default: the file's name).")] = None,
    map_: Annotated[
        list[str] | None,
        typer.Option("--map", help='Name a column yourself: COLUMN=Header, e.g. owner="Lead officer".'),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would change; change nothing.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON on stdout.")] = False,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace", help="The file replaces the plan: archive what it no longer has, however much."
        ),
    ] = False,
) -> None:
    """Import a plan, or re-import a revised one: actions are updated in place, never duplicated.

    Without --plan, a file imported before goes back into the plan it went into. A file that would archive
    more than half of an existing plan is refused, naming what it would archive, unless --replace is given.
    """
    from bot.render import print_import  # noqa: PLC0415
    from storage.importing.errors import PlanFileError  # noqa: PLC0415
    from storage.importing.service import import_plan  # noqa: PLC0415

    context: Context = ctx.obj
    overrides = _parse_maps(map_ or [])
    try:
        result = import_plan(
            context.database,
            file,
            now=context.now,
            plan_name=plan,
            overrides=overrides,
            dry_run=dry_run,
            max_bytes=context.settings.max_import_mb * 1024 * 1024,
            replace=replace,
        )
    except PlanFileError as error:
        raise _fail(str(error)) from None
    if result.matched_by_file:
        print(
            f"{file.name} was imported into '{result.plan}' before, so it updates that plan "
            "(give --plan NAME to import it as another plan).",
            file=sys.stderr,
        )
    if as_json:
        print(json.dumps(result.as_json(), ensure_ascii=False, indent=2))
        return
    print_import(out, result)


@app.command()
def plans(ctx: typer.Context) -> None:
    """List the plans in the store with their action counts."""
    from storage.queries import plans_with_counts  # noqa: PLC0415

    context: Context = ctx.obj
    with context.database.session() as session:
        rows = plans_with_counts(session, today=context.today)
        if not rows:
            out.print('No plans yet. Import one with: edibot import PLAN.xlsx --plan "Our EDI plan"')
            return
        table = Table(title="Plans")
        for header in ("Plan", "Prefix", "Actions", "Done", "Overdue", "Red", "Amber", "Green", "Archived"):
            table.add_column(header)
        for row in rows:
            table.add_row(
                row.plan.name,
                row.plan.ref_prefix,
                str(row.actions),
                str(row.done),
                str(row.overdue),
                *(str(row.by_rag.get(rag, 0)) for rag in ("red", "amber", "green")),
                str(row.archived),
            )
        out.print(table)


@app.command()
def actions(
    ctx: typer.Context,
    plan: Annotated[str | None, typer.Option(help="Only this plan.")] = None,
    owner: Annotated[
        str | None, typer.Option(help="Only actions with an owner whose name contains this.")
    ] = None,
    due_before: Annotated[
        str | None, typer.Option(help="Only actions due before this date (YYYY-MM-DD).")
    ] = None,
    overdue: Annotated[
        bool, typer.Option("--overdue", help="Only open actions past their due date.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help='Print {"actions": [...]} as JSON on stdout.')
    ] = False,
    wide: Annotated[
        bool, typer.Option("--wide", help="Every column, titles and deadlines in full, whatever the width.")
    ] = False,
) -> None:
    """List actions, soonest first within each plan's order."""
    from storage.importing.service import action_json  # noqa: PLC0415
    from storage.queries import actions_matching  # noqa: PLC0415

    context: Context = ctx.obj
    before: date | None = None
    if due_before:
        try:
            before = date.fromisoformat(due_before)
        except ValueError:
            raise _fail(f"--due-before: '{due_before}' is not a date; write it as YYYY-MM-DD.") from None
    with context.database.session() as session:
        found = actions_matching(
            session, plan=plan, owner=owner, due_before=before, overdue_on=context.today if overdue else None
        )
        if as_json:
            print(json.dumps({"actions": [action_json(a) for a in found]}, ensure_ascii=False, indent=2))
            return
        if not found:
            out.print("No actions match.")
            return
        table = actions_table(found, today=context.today, wide=wide)
        # --wide: the table as wide as its longest cells, for a wide terminal or a file
        (Console(soft_wrap=False, width=10_000) if wide else out).print(table)


RAG_STYLE = {"red": "bold red", "amber": "yellow", "green": "green", "blue": "blue"}


def actions_table(found: Sequence[Action], *, today: date, wide: bool) -> Table:
    """Actions as a table that reads at 80 columns: words wrap whole (never letter by letter), the RAG is in
    its colour, owners one per line; --wide gives the deadline as written too, and titles in full."""
    from bot.render import clip, plural  # noqa: PLC0415
    from storage.rules.overdue import action_overdue  # noqa: PLC0415

    table = Table(title=plural(len(found), "action"), expand=False)
    table.add_column("Ref", no_wrap=True)
    table.add_column("Action", ratio=3, min_width=16, overflow="fold" if wide else "ellipsis")
    table.add_column("Owners", ratio=2, min_width=10)
    if wide:
        table.add_column("When (as written)", ratio=2)
    table.add_column("Due", no_wrap=True)
    table.add_column("RAG", no_wrap=True)
    for action in found:
        late = action_overdue(action, today)
        due = f"{action.due_date:%-d %b %Y}" if action.due_date else ""
        rag = "done" if action.status == "done" else (action.rag or "")
        row = [
            action.ref,
            action.title if wide else clip(action.title, 70),
            "\n".join(o.name for o in action.owners),
            *([action.deadline_text or ""] if wide else []),
            due + ("\n[red]overdue[/red]" if late else ""),
            f"[{RAG_STYLE.get(action.rag or '', 'default')}]{rag}[/]" if rag else "",
        ]
        table.add_row(*[escape(cell) if i < len(row) - 2 else cell for i, cell in enumerate(row)])
    return table


@app.command()
def show(
    ctx: typer.Context, ref: Annotated[str, typer.Argument(help="An action reference, e.g. LT-4.")]
) -> None:
    """Show one action in full: what the plan says, how it was understood, and its history."""
    from bot.render import print_action, print_history  # noqa: PLC0415
    from storage.queries import action_by_ref, actions_by_plan_ref, history_of  # noqa: PLC0415

    context: Context = ctx.obj
    with context.database.session() as session:
        action = action_by_ref(session, ref)
        # A plan's own bare number ("1.1") finds its action while only one plan uses it.
        numbered = actions_by_plan_ref(session, ref) if action is None else []
        if len(numbered) > 1:
            raise _fail(f"'{ref}' could be {', '.join(numbered)} — which one?")
        if numbered:
            action = action_by_ref(session, numbered[0])
        if action is None:
            raise _fail(f"No action has the reference '{ref}'. `edibot actions` lists them.")
        print_action(out, action)
        print_history(out, history_of(session, action), zone=ZoneInfo(context.settings.timezone))


app.add_typer(calendar_app, name="calendar")
app.command("backup")(backup)
app.command("doctor")(doctor)
app.command("restore")(restore)
app.add_typer(feedback_app, name="feedback")
app.command("report")(report_command)

people_app = typer.Typer(
    rich_markup_mode="markdown",
    help="The people directory: who answers for which owner role.",
    no_args_is_help=True,
)
app.add_typer(people_app, name="people")


@people_app.command("import")
def people_import(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV: owner, name, email, timezone, slack_id, teams_id; optionally admin, nation, "
            "working_days, send_time, quiet_hours, reminder_day."
        ),
    ],
) -> None:
    """Add people and map them to owner roles, one row per person per role; re-running updates them."""
    from storage.importing.errors import PlanFileError  # noqa: PLC0415
    from storage.people import import_people  # noqa: PLC0415

    context: Context = ctx.obj
    try:
        summary = import_people(context.database, file, now=context.now)
    except PlanFileError as error:
        raise _fail(str(error)) from None
    out.print(
        f"{summary.people_added} people added, {summary.people_updated} updated, "
        f"{summary.roles_mapped} owner roles mapped.",
        soft_wrap=True,
    )
    for problem in summary.problems:
        out.print(f"  {problem}", markup=False, soft_wrap=True)


@people_app.command("list")
def people_list(
    ctx: typer.Context,
    unmapped: Annotated[
        bool,
        typer.Option(
            "--unmapped", help="Instead: the owner roles nobody answers for, so nobody is reminded."
        ),
    ] = False,
) -> None:
    """Everyone in the people directory, with the owner roles they answer for and how edibot reaches them."""
    from bot.render import plural  # noqa: PLC0415
    from storage.store import Store  # noqa: PLC0415

    context: Context = ctx.obj
    with context.database.session() as session:
        store = Store(session)
        if unmapped:
            rows = store.unmapped_owners()
            if not rows:
                out.print("Every owner on an open action is mapped to someone.")
                return
            out.print(f"{plural(len(rows), 'owner role')} with nobody to remind:")
            roles = Table()
            roles.add_column("Owner role")
            roles.add_column("Open actions", justify="right")
            for role, number in rows:
                roles.add_row(escape(role.name), str(number))
            out.print(roles)
            out.print(
                "Map one with: edibot people import PEOPLE.csv (a row with that owner), or in chat "
                '/edi people map "HR Manager" @someone.',
                soft_wrap=True,
            )
            return
        people = store.everyone()
        if not people:
            out.print("Nobody yet. Add people with: edibot people import PEOPLE.csv")
            return
        table = Table(title=plural(len(people), "person").replace("persons", "people"))
        for header in ("Name", "Owner roles", "Email", "Reached on", "Admin"):
            table.add_column(header)
        for person in people:
            reach = [
                label for label, value in (("Slack", person.slack_id), ("Teams", person.teams_id)) if value
            ]
            table.add_row(
                escape(person.name),
                escape("\n".join(role.name for role in person.roles) or "—"),
                escape(person.email or ""),
                ", ".join(reach) or "console only",
                "yes" if person.is_admin else "",
            )
        out.print(table)


plan_app = typer.Typer(
    rich_markup_mode="markdown", help="One plan as a whole: rename it, or archive it.", no_args_is_help=True
)
app.add_typer(plan_app, name="plan")


@plan_app.command("rename")
def plan_rename(
    ctx: typer.Context,
    old: Annotated[str, typer.Argument(help="The plan's name now.")],
    new: Annotated[str, typer.Argument(help="Its new name.")],
) -> None:
    """Give a plan a new name; its actions keep their references and history."""
    from storage.queries import plan_named  # noqa: PLC0415

    context: Context = ctx.obj
    wanted = " ".join(new.split())
    if not wanted:
        raise _fail('Give the plan\'s new name, e.g. edibot plan rename "EDI plan" "EDI plan 2025-28".')
    with context.database.session() as session:
        plan = _plan_or_fail(session, old, today=context.today)
        other = plan_named(session, wanted)
        if other is not None and other.id != plan.id:
            raise _fail(f"There is already a plan called '{other.name}'; choose another name.")
        before, plan.name = plan.name, wanted[:200]
    print(f"'{before}' is now called '{plan.name}'; its actions keep their references.")


@plan_app.command("archive")
def plan_archive(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="The plan to archive.")]
) -> None:
    """Archive a whole plan: no more reminders, its actions out of lists; nothing is deleted, history is
    kept."""
    from bot.render import plural  # noqa: PLC0415
    from storage.store import Store  # noqa: PLC0415

    context: Context = ctx.obj
    with context.database.session() as session:
        plan = _plan_or_fail(session, name, today=context.today)
        archived = Store(session).archive_plan(
            plan, at=context.now, actor="edibot plan archive", surface="cli"
        )
    print(
        f"Archived '{plan.name}': {plural(archived, 'action')} archived and its reminders stopped. Nothing "
        "was deleted: `edibot show REF` still shows each action and its history."
    )


def _plan_or_fail(session: Session, name: str, *, today: date) -> Plan:
    from storage.queries import plan_named, plans_with_counts  # noqa: PLC0415

    plan = plan_named(session, name)
    if plan is None:
        known = ", ".join(f"'{row.plan.name}'" for row in plans_with_counts(session, today=today))
        raise _fail(
            f"No plan is called '{name}'. "
            + (f"The plans are {known}." if known else "There are no plans yet.")
        )
    return plan


@app.command()
def console(
    ctx: typer.Context,
    as_: Annotated[
        str | None, typer.Option("--as", help="Who you are, as named in the people directory.")
    ] = None,
    script: Annotated[
        Path | None,
        typer.Option(help="Run a conversation: '@Person Name: message' lines, '# comments', ':time ISO'."),
    ] = None,
) -> None:
    """Chat with edibot in the terminal, as you would in Slack; buttons are numbered: type the number to press
    one."""
    from bot.console import ConsoleSession, FakeClock, ScriptError, run_script  # noqa: PLC0415
    from handlers.core import Actor  # noqa: PLC0415
    from handlers.registry import command_layer  # noqa: PLC0415
    from schedules.runner import outbox_now  # noqa: PLC0415

    context: Context = ctx.obj
    zone = ZoneInfo(context.settings.timezone)
    clock = FakeClock(context.now)
    session = ConsoleSession(
        command_layer(context.database, clock),
        write=print,
        outbox=outbox_now(context.database, clock=clock, zone=zone),
        files_to=context.settings.data_dir / "reports",
    )
    if script is not None:
        try:
            lines = script.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as error:
            raise _fail(f"I can't read the script '{script}': {error}.") from None
        try:
            run_script(session, lines, clock=clock, zone=zone)
        except ScriptError as error:
            raise _fail(str(error)) from None
        return
    if not as_:
        raise _fail(
            'Say who you are: edibot console --as "Amina Khan" (or run a conversation with --script FILE).'
        )
    if not session.layer.knows(Actor(surface="console", name=as_)):
        raise _fail(
            f"Nobody called '{as_}' is in the people directory; add them with: edibot people import FILE"
        )
    print(
        f"You are {as_}. Type /edi help, a number to press a button, ':as NAME' to switch, Ctrl-D to leave."
    )
    interactive(session, as_, clock=clock)


def interactive(session: ConsoleSession, name: str, *, clock: FakeClock) -> None:
    from handlers.core import Actor  # noqa: PLC0415

    while True:
        try:
            line = input(f"{name}> ")
        except (EOFError, KeyboardInterrupt):
            print()
            return
        if line.startswith(":as "):
            wanted = line[4:].strip()
            if not session.layer.knows(Actor(surface="console", name=wanted)):
                print(f"Nobody called '{wanted}' is in the people directory; you are still {name}.")
            else:
                name = wanted
            continue
        if line.strip():
            clock.set(datetime.now(clock.now().tzinfo))
            session.say(name, line)


nudges_app = typer.Typer(
    rich_markup_mode="markdown", help="Reminders: see what would be sent, and when.", no_args_is_help=True
)
app.add_typer(nudges_app, name="nudges")


@nudges_app.command("preview")
def nudges_preview(
    ctx: typer.Context,
    at: Annotated[str | None, typer.Option(help="Start from this time (ISO 8601); default now.")] = None,
    days: Annotated[int, typer.Option(min=0, max=366, help="How many days ahead to look.")] = 14,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the planned messages as JSON on stdout.")
    ] = False,
) -> None:
    """What edibot would send, to whom, when (their local time) and why — nothing is sent or saved."""
    from schedules.preview import preview  # noqa: PLC0415

    context: Context = ctx.obj
    zone = ZoneInfo(context.settings.timezone)
    start = context.now
    if at is not None:
        try:
            start = datetime.fromisoformat(at)
        except ValueError:
            raise _fail(f"--at: '{at}' is not an ISO 8601 time such as 2025-03-03T09:00.") from None
        start = start if start.tzinfo else start.replace(tzinfo=zone)
    planned = preview(
        context.database, at=start, days=days, zone=zone, weekly_cap=context.settings.weekly_nudge_cap
    )
    if as_json:
        print(json.dumps([message.as_json() for message in planned], ensure_ascii=False, indent=2))
        return
    if not planned:
        out.print(f"Nothing would be sent in the {days} days from {start:%-d %B %Y %H:%M}.")
        return
    table = Table(title=f"Reminders from {start:%-d %b %Y %H:%M} for {days} days")
    for header in ("When (their time)", "To", "Why", "Actions"):
        table.add_column(header, overflow="fold")
    for message in planned:
        table.add_row(
            f"{message.send_at:%a %-d %b %H:%M %Z}",
            message.person.name,
            message.why,
            ", ".join(ref for ref, _, _ in message.actions),
        )
    out.print(table)


digest_app = typer.Typer(
    rich_markup_mode="markdown",
    help="Channels' weekly digests: see what one would post.",
    no_args_is_help=True,
)
app.add_typer(digest_app, name="digest")


@digest_app.command("preview")
def digest_preview(
    ctx: typer.Context,
    channel: Annotated[str, typer.Option(help="The channel: its name (#edi-group) or platform id.")],
    at: Annotated[str | None, typer.Option(help="As if it were this time (ISO 8601); default now.")] = None,
) -> None:
    """What a channel's weekly digest would post, as the console shows it — nothing is sent or saved."""
    from bot.console import render  # noqa: PLC0415
    from schedules.digests import NoDigest, preview_digest  # noqa: PLC0415

    context: Context = ctx.obj
    zone = ZoneInfo(context.settings.timezone)
    moment = context.now
    if at is not None:
        try:
            moment = datetime.fromisoformat(at)
        except ValueError:
            raise _fail(f"--at: '{at}' is not an ISO 8601 time such as 2025-03-03T09:00.") from None
        moment = moment if moment.tzinfo else moment.replace(tzinfo=zone)
    try:
        shown = preview_digest(context.database, channel=channel, at=moment, zone=zone)
    except NoDigest as error:
        raise _fail(str(error)) from None
    when = f"due {shown.due:%a %-d %b %Y %H:%M %Z}" if shown.due else "no working day left this week"
    print(f"#{shown.channel_name} at {moment:%a %-d %b %Y %H:%M} (this week's digest {when}):")
    if not shown.posted:
        print("  A quiet week, and this channel skips those: nothing would be posted. It would have said:")
    for line in render(shown.reply):
        print(f"  {line}")


ROLES = ("all", "web", "worker")
MIN_EVERY = 5  # seconds between rounds, but on a rehearsal's fast clock (--speed)


@app.command()
def run(
    ctx: typer.Context,
    every: Annotated[
        int,
        typer.Option(
            min=1, help="Seconds between rounds of sweep and delivery (at least 5, but for a rehearsal)."
        ),
    ] = 60,
    once: Annotated[bool, typer.Option("--once", help="Run one round and stop.")] = False,
    slack_socket: Annotated[
        bool,
        typer.Option(
            "--slack-socket", help="Serve Slack over Socket Mode (development; needs SLACK_APP_TOKEN)."
        ),
    ] = False,
    slack_http: Annotated[
        bool, typer.Option("--slack-http", help="Serve Slack over HTTP at /slack/events (production).")
    ] = False,
    host: Annotated[
        str,
        typer.Option(
            envvar="EDIBOT_HOST",
            help="Over HTTP (--slack-http, --teams): the address to listen on; 0.0.0.0 is every interface.",
        ),
    ] = "127.0.0.1",
    port: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=65535,
            envvar="EDIBOT_PORT",
            help="Over HTTP: the port (--slack-http: 3000; --teams: 3978; both: one port, 3000).",
        ),
    ] = None,
    teams: Annotated[
        bool,
        typer.Option("--teams", help="Serve Microsoft Teams at /api/messages (needs EDIBOT_TEAMS_APP_ID)."),
    ] = False,
    role: Annotated[
        str,
        typer.Option(
            envvar="EDIBOT_ROLE",
            help="all: serve and run the reminders; web: serve only; worker: reminders and delivery only "
            "(several replicas on one PostgreSQL database).",
        ),
    ] = "all",
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            envvar="EDIBOT_WORKERS",
            help="Processes serving HTTP on the one port (web and all).",
        ),
    ] = 1,
    speed: Annotated[
        float | None,
        typer.Option(
            min=1, hidden=True, help="With --now: the clock runs this many times as fast (rehearsals)."
        ),
    ] = None,
    speed_from: Annotated[
        float | None,
        typer.Option(
            hidden=True,
            help="With --speed: the wall-clock moment (epoch seconds) the clock starts from --now (it reads "
            "--now until then).",
        ),
    ] = None,
) -> None:
    """Run the reminder scheduler and delivery worker; with the console adapter, reminders print here.

    With --slack-socket or --slack-http, edibot is on Slack: reminders go out as direct messages, and
    /edi, buttons, modals, thread replies, the Home tab and the message shortcut are answered. With --teams,
    edibot is on Microsoft Teams: reminders go out as Adaptive Cards in each person's chat with edibot.
    With --slack-http --teams, one server answers both on one port, and someone on both is reminded on
    the one they last used (or chose with /edi reminders on slack|teams). Over HTTP, /healthz, /readyz and
    /metrics are served on the same port.
    """
    from bot.console import ConsoleSender, FakeClock, FastClock, SystemClock  # noqa: PLC0415
    from schedules.runner import NudgeRound, run_forever  # noqa: PLC0415
    from storage.observance_data import shipped_observances  # noqa: PLC0415

    context: Context = ctx.obj
    zone = ZoneInfo(context.settings.timezone)
    role = role.lower()
    if role not in ROLES:
        raise _fail(f"--role: '{role}' is not one of all, web and worker.")
    if slack_socket and slack_http:
        raise _fail("Choose one of --slack-socket and --slack-http.")
    if teams and slack_socket:
        raise _fail("--teams goes with --slack-http (one server for both), not with --slack-socket.")
    http = slack_http or teams
    if role == "web" and not (http or slack_socket):
        raise _fail("--role web serves Slack or Teams: add --slack-http, --teams or both.")
    if workers > 1 and (not http or role == "worker"):
        raise _fail(
            "--workers serves HTTP from several processes: it goes with --slack-http or --teams, "
            "and not with --role worker (run more worker replicas instead)."
        )
    if once and (http or slack_socket):
        raise _fail("--once runs one round of the console adapter; it does not go with a platform.")
    if speed is not None and context.fixed_now is None:
        raise _fail("--speed makes the clock given by --now run faster: give --now too.")
    if every < MIN_EVERY and speed is None:
        # A round every second would only load the database; a rehearsal on a fast clock (a simulated month
        # in a minute) needs them that often, or a round would skip whole days.
        raise _fail(
            f"--every: at least {MIN_EVERY} seconds between rounds (fewer only with --now and --speed)."
        )
    # A server on a new, empty database could only tell everyone "I don't know you yet".
    context.open_database(create="never")
    shipped_observances()  # a broken calendar data file stops edibot here, naming the file, entry and field
    # Stopped by SIGTERM (a container, systemd) as by Ctrl-C: in order, handing back what is claimed.
    signal.signal(signal.SIGTERM, _interrupt)
    fixed = context.fixed_now.isoformat() if context.fixed_now is not None else None
    if http or (role == "worker" and slack_socket):
        _run_served(
            context,
            WebOptions(
                slack=slack_http or slack_socket,
                teams=teams,
                every=every,
                now=fixed,
                speed=speed,
                anchor=speed_from,
            ),
            role=role,
            workers=workers,
            host=host,
            port=port or (3978 if teams and not slack_http else 3000),
        )
        return
    clock: Any = SystemClock(zone) if fixed is None else FakeClock(context.now)  # --now stops the clock
    if speed is not None:
        clock = FastClock(context.now, speed=speed, anchor=speed_from or time.time())
    if slack_socket:
        from bot.slack.app import SlackNotConfigured  # noqa: PLC0415 — Slack loads only when asked for
        from bot.slack.run import run_slack  # noqa: PLC0415

        try:
            run_slack(
                settings=context.settings,
                database=context.database,
                clock=clock,
                zone=zone,
                socket=True,
                host=host,
                port=port or 3000,
                every=timedelta(seconds=every),
                rounds=role != "web",
            )
        except SlackNotConfigured as error:
            raise _fail(str(error)) from None
        return
    sender = ConsoleSender(write=print, files_to=context.settings.data_dir / "reports")
    round_ = NudgeRound(
        context.database,
        clock=clock,
        zone=zone,
        send=sender,
        daily_cap=context.settings.daily_nudge_cap,
        weekly_cap=context.settings.weekly_nudge_cap,
        every=timedelta(seconds=every),
        speed=speed or 1.0,
    )
    if once:
        try:
            done = round_()
        finally:
            round_.step_down()  # the next `run --once` (or a replica) may lead straight away
        print(_round_summary(done, at=context.now))
        return
    print(f"edibot is running (console adapter): a round every {every} s. Ctrl-C stops it.")
    run_forever(round_, every=timedelta(seconds=every))


def _interrupt(_signal: int, _frame: object) -> None:
    raise KeyboardInterrupt


def _run_served(
    context: Context, options: WebOptions, *, role: str, workers: int, host: str, port: int
) -> None:
    """Slack over HTTP and/or Teams: as one process, N, or a replica with one role (bot/web.py)."""
    from bot.slack.app import SlackNotConfigured  # noqa: PLC0415 — the platforms load only when asked for
    from bot.teams.auth import TeamsNotConfigured  # noqa: PLC0415
    from bot.web import WebSpec, run_web, run_worker, run_workers  # noqa: PLC0415
    from schedules import metrics  # noqa: PLC0415

    spec = WebSpec(**options._asdict())
    zone = ZoneInfo(context.settings.timezone)
    folder = metrics.prepare_folder()
    metrics.enable()
    common = {
        "settings": context.settings,
        "database": context.database,
        "clock": spec.clock(zone),
        "zone": zone,
        "host": host,
        "port": port,
    }
    try:
        if role == "worker":
            run_worker(spec, **common)  # type: ignore[arg-type]
        elif workers > 1:
            run_workers(spec, role=role, workers=workers, **common)  # type: ignore[arg-type]
        else:
            run_web(spec, role=role, **common)  # type: ignore[arg-type]
    except (SlackNotConfigured, TeamsNotConfigured) as error:
        raise _fail(str(error)) from None
    finally:
        metrics.remove_folder(folder)
    # Everything is stopped and closed in order by now. The interpreter's own teardown (freeing a few hundred
    # modules) takes seconds on a busy machine, and a container has 10 s from SIGTERM to exit: skip it.
    context.close()
    logging.shutdown()
    sys.stdout.flush()
    os._exit(0)


class WebOptions(NamedTuple):
    slack: bool
    teams: bool
    every: float
    now: str | None
    speed: float | None
    anchor: float | None


def _round_summary(done: tuple[SweepReport, DeliveryReport] | None, *, at: datetime) -> str:
    """What one `run --once` round did, in a sentence, so a quiet round is not mistaken for a broken one."""
    from bot.render import plural  # noqa: PLC0415

    if done is None:
        return "No round ran: another edibot is leading, or the database could not be reached (see above)."
    swept, delivered = done
    if not swept.messages_queued and not delivered.sent and not delivered.failed:
        return f"Nothing was due at {at:%-d %B %Y %H:%M}: no reminders sent."
    failed = f", {len(delivered.failed)} failed" if delivered.failed else ""
    return f"{plural(delivered.sent, 'reminder')} sent{failed}."


@app.command()
def demo(
    ctx: typer.Context,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            help=(
                "The demo's own folder (default: demo/ inside EDIBOT_DATA_DIR); it must be new, empty, or "
                "one the demo made before."
            ),
            show_default=False,
        ),
    ] = None,
    clock: Annotated[
        str, typer.Option(help="The demo's own clock, so the story is the same every time.")
    ] = "2025-11-03T09:30",
) -> None:
    """Import the bundled sample plan into a fresh demo database and show what edibot understood."""
    from bot.demo import DemoFolderRefused, run_demo  # noqa: PLC0415

    context: Context = ctx.obj
    try:
        start = datetime.fromisoformat(clock)
    except ValueError:
        raise _fail(f"--clock: '{clock}' is not an ISO 8601 time such as 2025-11-03T09:30.") from None
    zone = ZoneInfo(context.settings.timezone)
    live = context.settings.data_dir
    try:
        run_demo(
            data_dir=data_dir or live / "demo",
            now=start if start.tzinfo else start.replace(tzinfo=zone),
            console=out,
            live=live,
        )
    except DemoFolderRefused as error:
        raise _fail(str(error)) from None


slack_app = typer.Typer(
    rich_markup_mode="markdown",
    help="Slack: the app manifest, and matching the people directory to Slack.",
    no_args_is_help=True,
)
app.add_typer(slack_app, name="slack")


@slack_app.command("manifest")
def slack_manifest(
    url: Annotated[
        str | None,
        typer.Option(help="Your public https:// address (HTTP mode); leave out for Socket Mode."),
    ] = None,
) -> None:
    """Print the Slack app manifest to paste into https://api.slack.com/apps → Create New App → From a
    manifest."""
    from bot.slack.manifest import ManifestError, manifest_yaml  # noqa: PLC0415

    try:
        print(manifest_yaml(url), end="")
    except ManifestError as error:
        raise _fail(f"--url: {error}") from None


@slack_app.command("match-people")
def slack_match_people(ctx: typer.Context) -> None:
    """Find everyone in the people directory on Slack by email, and take Slack's time zone where none is
    set."""
    from bot.slack.app import SlackNotConfigured, workspaces  # noqa: PLC0415
    from bot.slack.people import match_people  # noqa: PLC0415

    context: Context = ctx.obj
    try:
        reach = workspaces(context.database, context.settings)
    except SlackNotConfigured as error:
        raise _fail(str(error)) from None
    report = match_people(context.database, reach)
    for line in report.matched:
        print(f"matched   {line}")
    for line in report.timezones:
        print(f"time zone {line}")
    for line in report.not_found:
        print(f"not found {line}: no Slack user has that email")
    print(
        f"{len(report.matched)} matched, {len(report.timezones)} time zones set, "
        f"{len(report.not_found)} not found."
    )
    if report.stopped:
        raise _fail(f"Stopped early: {report.stopped}.")


@slack_app.command("new-key")
def slack_new_key() -> None:
    """Print a new key for EDIBOT_SECRET_KEY, which encrypts the Slack tokens of OAuth installs."""
    from bot.slack.installations import new_key  # noqa: PLC0415

    print(new_key())


teams_app = typer.Typer(
    rich_markup_mode="markdown",
    help="Microsoft Teams: the app package, and matching people to a team's roster.",
    no_args_is_help=True,
)
app.add_typer(teams_app, name="teams")


@teams_app.command("package")
def teams_package(
    ctx: typer.Context,
    domain: Annotated[
        str, typer.Option(help="The host edibot is served at (for the app's links), e.g. edibot.example.org.")
    ],
    app_id: Annotated[
        str | None, typer.Option(help="The bot's Microsoft App ID (default: EDIBOT_TEAMS_APP_ID).")
    ] = None,
    organisation: Annotated[str, typer.Option(help="Your organisation, as the app's developer.")] = "edibot",
    out: Annotated[Path, typer.Option(help="Where to write the zip.")] = Path("edibot-teams.zip"),
    privacy_url: Annotated[
        str | None, typer.Option(help="Your organisation's privacy notice (https://…), linked from the app.")
    ] = None,
    terms_url: Annotated[
        str | None, typer.Option(help="Your terms of use for staff (https://…), linked from the app.")
    ] = None,
) -> None:
    """Build the Teams app package (manifest and icons) to upload to a team or your org's app catalog."""
    from bot.teams.manifest import PackageError, build_package  # noqa: PLC0415

    context: Context = ctx.obj
    chosen = app_id or context.settings.teams_app_id
    if not chosen:
        raise _fail("--app-id: give the bot's Microsoft App ID, or set EDIBOT_TEAMS_APP_ID.")
    try:
        written = build_package(
            app_id=chosen,
            domain=domain,
            organisation=organisation,
            out=out,
            privacy_url=privacy_url,
            terms_url=terms_url,
        )
    except PackageError as error:
        raise _fail(str(error)) from None
    print(f"Wrote {written}: upload it in Teams (Apps → Manage your apps → Upload an app).")
    if privacy_url is None or terms_url is None:
        # Teams shows both links in the app's About; edibot serves neither page.
        print(
            f"Its privacy and terms links point at https://{domain.strip().lower()}/privacy and /terms, "
            "which edibot does not serve: give your organisation's pages with --privacy-url and --terms-url."
        )


@teams_app.command("match-people")
def teams_match_people(
    ctx: typer.Context,
    team: Annotated[
        str,
        typer.Argument(help="A team edibot is in: its id (19:…@thread.tacv2) or its 'Get link to team' URL."),
    ],
) -> None:
    """Find everyone in the people directory in a team's roster by email, and keep their AAD object id."""
    from bot.console import SystemClock  # noqa: PLC0415 — Teams loads only when asked for
    from bot.teams.auth import TeamsNotConfigured  # noqa: PLC0415
    from bot.teams.people import match_people, roster, team_id  # noqa: PLC0415
    from bot.teams.run import teams_sender  # noqa: PLC0415
    from schedules.sending import RetryLater, Undeliverable  # noqa: PLC0415

    context: Context = ctx.obj
    try:
        sender = teams_sender(
            context.database,
            settings=context.settings,
            clock=SystemClock(ZoneInfo(context.settings.timezone)),
        )
        members = roster(sender, team_id(team))
    except TeamsNotConfigured as error:
        raise _fail(str(error)) from None
    except Undeliverable as error:
        raise _fail(f"Teams won't show that team's roster (is edibot installed in it?): {error}") from None
    except RetryLater as error:
        raise _fail(f"Teams is busy; try again in {error.seconds:g} s ({error}).") from None
    report = match_people(context.database, members)
    for line in report.matched:
        print(f"matched   {line}")
    for line in report.not_found:
        print(f"not found {line}: nobody in that team has that email")
    for line in report.clashes:
        print(f"not taken {line}")
    print(f"{len(report.matched)} matched, {len(report.not_found)} not found in a team of {len(members)}.")


def from_dotenv(path: Path = Path(".env")) -> None:
    """The settings in .env, put into the environment where it does not already have them: the command
    line reads its options' EDIBOT_… variables (EDIBOT_HOST, EDIBOT_WORKERS, …) from the environment only,
    and this way .env serves them as it serves every other setting (the environment still wins)."""
    if not path.is_file():
        return
    from dotenv import dotenv_values  # noqa: PLC0415 — only when there is a .env (--help stays quick)

    for name, value in dotenv_values(path).items():
        if name.startswith("EDIBOT_") and value is not None:
            os.environ.setdefault(name, value)


def main() -> None:
    from_dotenv()
    app()
