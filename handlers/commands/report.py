"""`/edi report [plan] [format]`: a plan's progress report as of now, sent to whoever asked as a file in a
direct message (through the outbox, like every message edibot sends)."""

from __future__ import annotations

from handlers.core import CommandSpec, Request
from handlers.errors import CommandError
from handlers.messages import Reply, Text
from handlers.reports import FORMATS, ReportFormat, build_report_facts, report_format, report_request

USAGE = f"`/edi report [plan] [{'|'.join(FORMATS)}]`"


def report(request: Request) -> Reply:
    person = request.require_person()
    words = list(request.words)
    # Teams gets the report as Markdown in the message (bot/teams/cards.py says why); Slack a file.
    form: ReportFormat = "md" if request.actor.surface == "teams" else "html"
    if words and words[-1].lstrip(".").lower() in (*FORMATS, "markdown", "excel"):
        form = report_format(words.pop())
    plans = request.store.plans_seen_by(person)
    names = {plan.name.casefold() for plan in plans}
    if (
        len(words) > 1
        and " ".join(words).casefold() not in names
        and " ".join(words[:-1]).casefold() in names
    ):
        form = report_format(
            words.pop()
        )  # a plan, then a word that isn't a format: say which formats there are
    name = " ".join(words).strip()
    if not name:
        if len(plans) != 1:
            seen = ", ".join(f"'{plan.name}'" for plan in plans) or "none yet"
            raise CommandError(f"Which plan? Usage: {USAGE}. The plans you can see: {seen}.")
        name = plans[0].name
    facts = build_report_facts(
        request.store.session, plan_name=name, as_of=request.now, now=request.now, plans=plans
    )
    headline = (
        f"*{facts.plan_name}* as of {facts.as_of:%-d %B %Y %H:%M}: {len(facts.actions)} actions, "
        f"{facts.counts['done']} done, {facts.overdue} overdue, {len(facts.changes)} changes since "
        f"{facts.since:%-d %B}."
    )
    note = ""
    if request.actor.surface == "teams" and form != "md":
        # A Teams bot sends a file only through a consent round trip the outbox can't wait on (see
        # bot/teams/cards.report_text): Teams gets the Markdown, in the message itself.
        note = f" Teams gets reports as Markdown in the message; the {form.upper()} file comes in Slack."
        form = "md"
    request.notify(
        person, Reply([Text(f"Your progress report. {headline}")], report=report_request(facts, form))
    )
    return Reply.say(
        f"I'm making the {form.upper()} report of {facts.plan_name}; it comes as a direct message.{note}"
    )


COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec(
        "report",
        f"report [plan] [{'|'.join(FORMATS)}]",
        "a plan's progress report (charts, overdue by owner, what changed) as a file in a direct message",
        report,
    ),
)
