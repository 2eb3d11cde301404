"""Everything the command layer answers, gathered in the order `help` shows it: each audience's commands, the
views outside a command, and what each button and form runs.

A command, a button or a form is declared once, beside the code that answers or makes it (a module's COMMANDS,
`cards.BUTTONS`, a module's FORMS); this module lists the modules, so nothing registers itself on import.
"""

from __future__ import annotations

from handlers import cards, feedback, new_action
from handlers.commands import admin, calendar, digest, me, plan, reading, report, status
from handlers.controls import ButtonMeaning, FormMeaning
from handlers.core import CommandLayer, CommandSpec
from handlers.home import home
from storage.db import Database
from storage.rules.clock import Clock

COMMANDS: dict[str, CommandSpec] = {
    spec.name: spec
    for spec in (
        *reading.COMMANDS,
        *status.COMMANDS,
        *me.COMMANDS,
        *new_action.COMMANDS,
        *admin.COMMANDS,
        *plan.COMMANDS,
        *calendar.COMMANDS,
        *digest.COMMANDS,
        *feedback.COMMANDS,
        *report.COMMANDS,
    )
}

# What people see or fill in outside a command: the home page, and the form that turns a message into an
# action.
VIEWS: dict[str, CommandSpec] = {
    "home": CommandSpec("home", "home", "your actions, and plan health for admins", home),
    "new_action_form": CommandSpec(
        "add", "add", "a new action from a message", new_action.ask_for_new_action, admin_only=True
    ),
    "new_action": CommandSpec(
        "add", "add", "a new action from a message", new_action.submit_new_action, admin_only=True
    ),
}

# What each button and form runs, by its action id and form id.
BUTTONS: dict[str, ButtonMeaning] = {**cards.BUTTONS, **feedback.BUTTONS}
FORMS: dict[str, FormMeaning] = {**cards.FORMS, **status.FORMS, **new_action.FORMS, **feedback.FORMS}


def command_layer(database: Database, clock: Clock) -> CommandLayer:
    return CommandLayer(database, clock, COMMANDS, views=VIEWS, buttons=BUTTONS, forms=FORMS)
