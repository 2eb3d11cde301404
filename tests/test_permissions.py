"""Who may do what: every command, button and form, tried by six kinds of person, and each refusal changes
nothing.

The matrix below is the product's rule written down by hand; the first test checks it against the command
registry, so a new command, button or form cannot be added without deciding who may use it.

The people (the Northbridge sample plan beside the restricted "Safeguarding Casework"):
- owner: Amina Khan, who answers for NO-6 (HR Manager);
- staff: Dafydd Evans, in the directory, owning nothing the row is about;
- admin: Priya Shah, the plan admin;
- unknown: someone Slack knows but the people directory does not;
- member: Grace Liu, the Safeguarding Lead, who owns the restricted SC-SP1;
- outsider: Ewan Campbell, in the directory but not in the restricted plan, trying SC-SP1.
The first four are about NO-6 in the open plan, the last two about SC-SP1. Priya Shah is also the one
feedback responder; anonymous feedback is anyone's, whoever they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from handlers.core import Actor
from handlers.messages import Outcome
from handlers.registry import BUTTONS, COMMANDS, FORMS
from storage.db import Database
from storage.importing.service import import_plan
from storage.queries import plan_named
from tests.builders import write_csv
from tests.test_feedback import set_up_feedback
from tests.transcript import Transcript, nothing_changes

ROLES = ("owner", "staff", "admin", "unknown", "member", "outsider")
PEOPLE = {
    "owner": "Amina Khan",
    "staff": "Dafydd Evans",
    "admin": "Priya Shah",
    "unknown": "Zed Stranger",
    "member": "Grace Liu",
    "outsider": "Ewan Campbell",
}
REF = {"owner": "NO-6", "staff": "NO-6", "admin": "NO-6", "unknown": "NO-6", "member": "SC-SP1"}
REF["outsider"] = "SC-SP1"

# How edibot says no for want of permission (any other answer — done, or a usage hint — means it let them).
REFUSALS = (
    "I don't know you yet",
    "Only a plan admin can",
    "owners (",  # "Only NO-6's owners (HR Manager) or a plan admin can change it"
    "You can only say “not mine” about an action you answer for",
    "is in a restricted plan",
    "There is no action",
    "Only the feedback responders can do that",
)

EVERYONE = frozenset(ROLES)
KNOWN = EVERYONE - {"unknown"}
READERS = frozenset({"owner", "staff", "admin", "member"})  # may see the action the row is about
CHANGERS = frozenset({"owner", "admin", "member"})  # its owners and the plan admins
ANSWERERS = frozenset({"owner", "member"})  # only those who answer for it
ADMIN = frozenset({"admin"})
RESPONDERS = frozenset({"admin"})  # Priya Shah also reads the anonymous feedback (the world sets her up so)


@dataclass(frozen=True)
class Row:
    """One way in (`kind`: command, button or form) and who it lets through; `{ref}` is the role's action."""

    kind: str
    name: str
    typed: str
    allowed: frozenset[str]


def command(typed: str, allowed: frozenset[str]) -> Row:
    return Row("command", typed.split(maxsplit=1)[0], typed, allowed)


MATRIX = (
    command("help", EVERYONE),
    command("help amber", EVERYONE),
    command("mine", KNOWN),
    command("list", KNOWN),
    command("show {ref}", READERS),
    command("history {ref}", READERS),
    command("green {ref} on track", CHANGERS),
    command("amber {ref} waiting on budget", CHANGERS),
    command("red {ref} blocked", CHANGERS),
    command("done {ref}", CHANGERS),
    command("reopen {ref}", CHANGERS),
    command("note {ref} room booked", CHANGERS),
    command("due {ref} 31/3/26", CHANGERS),
    command("snooze {ref} 1w", CHANGERS),
    command("notmine {ref}", ANSWERERS),
    command("away until 10/11/25", KNOWN),
    command("quiet 18:00-08:00", KNOWN),
    command("reminders Tuesday", KNOWN),
    command(
        'add plan:"Northbridge EDI Plan" owner:"HR Manager" due:"March 2026" Run a listening session', ADMIN
    ),
    command('owner {ref} add "Internal Comms"', ADMIN),
    command('people map "Internal Comms" @Dafydd Evans', ADMIN),
    command("people unmapped", ADMIN),
    command("admins add @Dafydd Evans", ADMIN),
    command('plan pause "Northbridge EDI Plan"', ADMIN),
    command('plan escalate "Northbridge EDI Plan" after 14 days', ADMIN),
    command("calendar", KNOWN),
    command("calendar hold Diwali", KNOWN),
    command("calendar subscribe #edi-calendar", ADMIN),
    command('calendar add "Staff networks day" 1/6/26 work', ADMIN),
    command("digest list", ADMIN),
    command('digest subscribe #edi-working-group plan:"Northbridge EDI Plan"', ADMIN),
    command("feedback Please caption the all-staff videos", EVERYONE),  # anonymous: anyone, unknown too
    command("feedback check ZZZZZZ-AAAA-BBBB-CCCC-DDDD-EEEE", EVERYONE),
    command("responders stats", RESPONDERS),
    command("responders setup k 6", RESPONDERS),
    command('report "Northbridge EDI Plan" md', KNOWN),
    Row("button", "status", "{ref}|green", CHANGERS),
    Row("button", "snooze", "{ref}|1w", CHANGERS),
    Row("button", "note", "{ref}", CHANGERS),
    Row("button", "not_mine", "{ref}", ANSWERERS),
    Row("button", "feedback_give", "form|", EVERYONE),
    Row("button", "feedback_answer", "ZZZZZZ|", RESPONDERS),
    Row("button", "feedback_publish", "ZZZZZZ|", RESPONDERS),
    Row("button", "feedback_link", "ZZZZZZ|", RESPONDERS),
    Row("form", "status", "{ref}|amber", CHANGERS),
    Row("form", "note", "{ref}", CHANGERS),
    Row("form", "new_action", "", ADMIN),
    Row("form", "feedback", "", EVERYONE),
    Row("form", "feedback_answer", "ZZZZZZ", RESPONDERS),
    Row("form", "feedback_publish", "ZZZZZZ", RESPONDERS),
    Row("form", "feedback_link", "ZZZZZZ", RESPONDERS),
)

FORM_VALUES = {
    "status": {"reason": "waiting on budget"},
    "note": {"note": "room booked"},
    "new_action": {"plan": "Northbridge EDI Plan", "title": "Run a listening session", "owner": "HR Manager"},
    "feedback": {"text": "Please caption the all-staff videos"},
    "feedback_answer": {"text": "Thank you: captions from next week"},
    "feedback_publish": {"text": "You said videos lacked captions; we added them"},
    "feedback_link": {"text": "NO-6"},
}


def test_every_command_button_and_form_has_its_row() -> None:
    assert {row.name for row in MATRIX if row.kind == "command"} == set(COMMANDS)
    assert {row.name for row in MATRIX if row.kind == "button"} == set(BUTTONS)
    assert {row.name for row in MATRIX if row.kind == "form"} == set(FORMS)


@pytest.fixture
def world(transcript: Transcript, store: Database, tmp_path: Path) -> Transcript:
    """The sample plan beside a restricted plan whose SC-SP1 Grace Liu answers for."""
    plan = write_csv(
        tmp_path / "casework.csv",
        [
            ["Ref", "Action", "Owner", "Timescale"],
            ["SC-SP1", "Review the case of a named member of staff", "Safeguarding Lead", "31/12/25"],
        ],
    )
    import_plan(store, plan, now=transcript.clock.now(), plan_name="Safeguarding Casework")
    with store.session() as session:
        found = plan_named(session, "Safeguarding Casework")
        assert found is not None
        found.restricted = True
    transcript.say("@Priya Shah", '/edi people map "Safeguarding Lead" @Grace Liu')
    transcript.expect_reply("Grace Liu now gets Safeguarding Lead's actions.")
    set_up_feedback(store, responders=("Priya Shah",))
    return transcript


def attempt(world: Transcript, row: Row, role: str) -> Outcome:
    actor = Actor(surface="slack", name=PEOPLE[role])
    filled = row.typed.format(ref=REF[role])
    layer = world.layer
    if row.kind == "button":
        return layer.press(actor, row.name, filled)
    if row.kind == "form":
        return layer.submit(actor, row.name, filled, FORM_VALUES[row.name])
    return layer.handle(actor, "/edi " + filled)


@pytest.mark.parametrize("row", MATRIX, ids=lambda row: f"{row.kind}:{row.typed.split(' {')[0][:40]}")
def test_each_kind_of_person_may_do_exactly_what_the_matrix_says(
    row: Row, world: Transcript, store: Database
) -> None:
    wrong: list[str] = []
    for role in ROLES:
        if role in row.allowed:
            said = attempt(world, row, role).reply.plain_text()
            if any(refusal in said for refusal in REFUSALS):
                wrong.append(f"{role} should be let through but was told: {said[:160]!r}")
            continue
        with nothing_changes(store):
            said = attempt(world, row, role).reply.plain_text()
        if not any(refusal in said for refusal in REFUSALS):
            wrong.append(f"{role} should be refused but was told: {said[:160]!r}")
    assert not wrong, "\n".join(wrong)
