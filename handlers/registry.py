"""The list of `/edi` commands, in the order `help` shows them; adding a command means adding it here."""

from __future__ import annotations

from handlers import cards
from handlers import new_action as n
from handlers.commands import admin, me, plan, reading, status
from handlers.controls import ButtonMeaning, FormMeaning
from handlers.core import CommandLayer, CommandSpec
from handlers.home import home
from storage.db import Database
from storage.rules.clock import Clock


def _status(name: str, summary: str) -> CommandSpec:
    return CommandSpec(
        name, f"{name} REF [note]", summary, status.set_status, about_action=True, changes_action=True
    )


COMMANDS: dict[str, CommandSpec] = {
    spec.name: spec
    for spec in (
        CommandSpec("help", "help [COMMAND]", "what I can do, or how one command works", reading.help_command,
                    anyone=True),
        CommandSpec("mine", "mine", "your open actions, soonest first, overdue flagged", reading.mine),
        CommandSpec("list", "list [plan:NAME] [theme:TEXT] [owner:TEXT] [overdue] [due:30d]",
                    "actions across the plans, narrowed as you ask", reading.list_actions),
        CommandSpec("show", "show REF", "one action in full", reading.show, about_action=True),
        CommandSpec("history", "history REF", "every change to an action, newest first", reading.history,
                    about_action=True),
        _status("green", "on track"),
        _status("amber", "at risk — say why"),
        _status("red", "blocked or late — say why"),
        _status("done", "finished"),
        CommandSpec("note", "note REF TEXT", "add a progress note", status.add_note, about_action=True,
                    changes_action=True),
        CommandSpec("due", "due REF WHEN", "set a new deadline: 31/3/25, March 2025, end of March, next Friday, "
                    "in 2 weeks", status.set_due, about_action=True, changes_action=True),
        CommandSpec("snooze", "snooze REF 1w|3d|until DATE", "no reminders about it until then",
                    status.snooze, about_action=True, changes_action=True),
        CommandSpec("reopen", "reopen REF", "reopen a done action", status.reopen, about_action=True,
                    changes_action=True),
        CommandSpec("notmine", "notmine REF", "tell the plan admins an action isn't yours", status.not_mine,
                    about_action=True, aliases=("not-mine",)),
        CommandSpec("away", "away until DATE | away off", "hold your reminders while you're on leave",
                    me.away),
        CommandSpec("quiet", "quiet HH:MM-HH:MM | quiet off", "no reminders during these hours, every day (your local time)",
                    me.quiet),
        CommandSpec("add", n.ADD_USAGE, "add an action to a plan", n.add_action, admin_only=True),
        CommandSpec("owner", 'owner REF add|remove "Owner"', "change who owns an action", admin.owner,
                    about_action=True, changes_action=True, admin_only=True),
        CommandSpec("people", 'people map "HR Manager" @someone | people unmapped',
                    "map owner roles to people; list roles nobody is mapped to", admin.people,
                    admin_only=True),
        CommandSpec("admins", "admins add|remove @someone", "choose the plan admins", admin.admins,
                    admin_only=True),
        CommandSpec("plan", "plan pause|resume|restrict|unrestrict NAME | plan escalate NAME @someone|#channel|after N days "
                    "| plan reminders NAME 14,3,0 | plan checkins NAME MONTHS",
                    "hold or restart a plan's reminders; who hears about overdue actions (a person or a channel) and "
                    "after how long; when owners are reminded; how often ongoing actions get a check-in; who can see "
                    "the plan",
                    plan.plan, admin_only=True),
    )
}  # fmt: skip


# What people see or fill in outside a command: the home page, and the form that turns a message into an action.
VIEWS: dict[str, CommandSpec] = {
    "home": CommandSpec("home", "home", "your actions, and plan health for admins", home),
    "new_action_form": CommandSpec("add", "add", "a new action from a message", n.ask_for_new_action,
                                   admin_only=True),
    "new_action": CommandSpec("add", "add", "a new action from a message", n.submit_new_action,
                              admin_only=True),
}  # fmt: skip


# What each button and form runs, declared beside the code that makes them; an adapter passes on their ids.
BUTTONS: dict[str, ButtonMeaning] = {**cards.BUTTONS}
FORMS: dict[str, FormMeaning] = {**cards.FORMS, **status.FORMS, **n.FORMS}


def command_layer(database: Database, clock: Clock) -> CommandLayer:
    return CommandLayer(database, clock, COMMANDS, views=VIEWS, buttons=BUTTONS, forms=FORMS)
