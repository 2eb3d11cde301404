"""The plan admins' `/edi` commands in the console: owners, people, admins, adding an action, and a plan's
settings; and each refusal leaving the store alone.

The world is the `transcript` fixture's (tests/conftest.py): the Northbridge sample plan, who owns what in it,
and the day it is; a test that tries several variations of one thing tells them as one story, in a loop.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from storage.db import Database
from storage.importing.service import import_plan
from storage.queries import plan_named
from tests.builders import write_csv
from tests.transcript import Transcript, history, nothing_changes, snapshot

# -- owners, people and admins --------------------------------------------------------------------------


def test_an_admin_adds_and_removes_an_owner_and_both_are_in_the_history(
    transcript: Transcript, store: Database
) -> None:
    transcript.say("@Priya Shah", '/edi owner NO-6 add "Internal Comms"')
    transcript.expect_reply("NO-6 is now owned by HR Manager · Internal Comms.")
    assert snapshot(store, "NO-6")["owners"] == ["HR Manager", "Internal Comms"]

    transcript.say("@Priya Shah", "/edi owner NO-6 remove hr manager")
    transcript.expect_reply("NO-6 is now owned by Internal Comms.")
    assert snapshot(store, "NO-6")["owners"] == ["Internal Comms"]
    assert [(r.actor, r.field, r.from_value, r.to_value) for r in history(store, "NO-6")[:2]] == [
        ("Priya Shah", "owners", "HR Manager · Internal Comms", "Internal Comms"),
        ("Priya Shah", "owners", "HR Manager", "HR Manager · Internal Comms"),
    ]

    with nothing_changes(store):
        transcript.say("@Priya Shah", '/edi owner NO-6 remove "Legal Services"')
    transcript.expect_reply("Legal Services doesn't own NO-6; its owners are Internal Comms.")


def test_owners_added_in_chat_are_kept_in_the_order_they_were_added(
    transcript: Transcript, store: Database
) -> None:
    for said in ["remove hr manager", 'add "Zeta Network"', 'add "HR Manager"', 'add "Internal Comms"']:
        transcript.say("@Priya Shah", f"/edi owner NO-6 {said}")

    transcript.expect_reply("NO-6 is now owned by Zeta Network · HR Manager · Internal Comms.")
    assert snapshot(store, "NO-6")["owners"] == [
        "Zeta Network",
        "HR Manager",
        "Internal Comms",
    ]  # as read back


def test_people_unmapped_and_map_give_a_role_nobody_answers_for_to_someone(transcript: Transcript) -> None:
    transcript.say("@Priya Shah", "/edi people unmapped")
    transcript.expect_reply(
        "5 owner roles with nobody to remind",
        "Comms & Events — 1 open action",
        "Directors & Managers of Each Department — 1 open action",
        "Health & Safety — 1 open action",
    )

    transcript.say("@Priya Shah", '/edi people map "Directors & Managers of Each Department" @Sam Patel')
    transcript.expect_reply("Sam Patel now gets Directors & Managers of Each Department's actions.")
    transcript.say("@Sam Patel", "/edi mine")
    transcript.expect_reply("NO-8 · Launch a reverse mentoring scheme")
    transcript.say("@Priya Shah", "/edi people unmapped")
    transcript.expect_reply("4 owner roles with nobody to remind")
    transcript.expect_reply_not("Directors & Managers")


def test_admins_add_and_remove_and_the_last_admin_stays(transcript: Transcript, store: Database) -> None:
    with nothing_changes(store):
        transcript.say("@Priya Shah", "/edi admins remove @Priya Shah")
    transcript.expect_reply("Priya Shah is the last plan admin; add another before removing them.")

    transcript.say("@Priya Shah", "/edi admins add @Tom Okafor")
    transcript.expect_reply("Tom Okafor is now a plan admin.")
    transcript.say("@Tom Okafor", "/edi people unmapped")  # Tom may now use admin commands
    transcript.expect_reply("owner roles with nobody to remind")

    transcript.say("@Tom Okafor", "/edi admins remove @priya shah")
    transcript.expect_reply("Priya Shah is no longer a plan admin.")
    transcript.say("@Priya Shah", "/edi people unmapped")
    transcript.expect_reply("Only a plan admin can use `/edi people`.")


def test_admin_commands_naming_an_unknown_person_role_or_plan_are_refused(
    transcript: Transcript, store: Database
) -> None:
    with nothing_changes(store):
        for command, answer in [
            (
                '/edi people map "HR Manager" @Nobody Known',
                "I don't know @Nobody Known — add them to the people directory",
            ),
            ('/edi people map "HR" @Sam Patel', "No plan has an owner called 'HR'. Similar: HR Manager."),
            ("/edi admins add nobody@northbridge.example", "I don't know nobody@northbridge.example"),
            (
                "/edi plan pause Southbridge",
                "There is no plan called 'Southbridge'. Plans: Northbridge EDI Plan.",
            ),
            ("/edi people", 'Usage: `/edi people map "HR Manager" @someone` or `/edi people unmapped`.'),
            ("/edi admins promote @Tom Okafor", "Usage: `/edi admins add @someone`"),
            ("/edi owner NO-6 adopt HR", 'Usage: `/edi owner NO-6 add|remove "Owner name"`'),
            (
                "/edi plan stop",
                "Usage: `/edi plan pause NAME`, `/edi plan resume NAME`, "
                "`/edi plan escalate NAME @someone|#channel`, `/edi plan escalate NAME after 21 days`, "
                "`/edi plan reminders NAME 14,3,0`, `/edi plan checkins NAME 3` (months) or "
                "`/edi plan restrict|unrestrict NAME`.",
            ),
        ]:
            transcript.say("@Priya Shah", command)
            transcript.expect_reply(answer)


# -- adding an action ------------------------------------------------------------------------------------


def test_an_admin_adds_an_action_numbered_after_the_last_and_after_any_reference_the_plan_already_uses(
    transcript: Transcript, store: Database, tmp_path: Path
) -> None:
    transcript.say(
        "@Priya Shah",
        '/edi add plan:"Northbridge EDI Plan" owner:"HR Manager" due:"March 2026" Review exit interviews',
    )
    transcript.expect_reply(
        "Added NO-16 to Northbridge EDI Plan, added by Priya Shah.", "Review exit interviews"
    )
    facts = snapshot(store, "NO-16")
    assert facts["owners"] == ["HR Manager"] and facts["due_date"] == date(2026, 3, 31)
    assert [(r.field, r.to_value) for r in history(store, "NO-16")] == [("created", "Review exit interviews")]

    # A plan with its own references beside numbered rows: its next number, 2, is already one of them.
    access = write_csv(
        tmp_path / "access.csv",
        [
            ["Ref", "Action", "Lead", "Timescale"],
            ["", "Audit step-free access", "EDI Lead", "Jan 26"],
            ["2", "Fit hearing loops", "Estates", "Feb 26"],
        ],
    )
    import_plan(store, access, now=transcript.clock.now(), plan_name="Access Review")
    transcript.say("@Priya Shah", '/edi add plan:"Access Review" Caption every staff video')
    transcript.expect_reply("Added AR-3 to Access Review")
    transcript.say("@Priya Shah", "/edi show AR-2")
    transcript.expect_reply("AR-2 · Fit hearing loops")


# -- plans ----------------------------------------------------------------------------------------------


def test_pausing_and_resuming_a_plan(transcript: Transcript, store: Database) -> None:
    def paused() -> bool:
        with store.session() as session:
            plan = plan_named(session, "Northbridge EDI Plan")
            assert plan is not None
            return plan.paused

    transcript.say("@Priya Shah", "/edi plan pause Northbridge EDI Plan")
    transcript.expect_reply("Northbridge EDI Plan is paused: no reminders go out for it until you resume it.")
    assert paused()

    transcript.say("@Priya Shah", "/edi plan pause northbridge edi plan")
    transcript.expect_reply("Northbridge EDI Plan is already paused.")

    transcript.say("@Priya Shah", '/edi plan resume "Northbridge EDI Plan"')
    transcript.expect_reply("Northbridge EDI Plan is running again")
    assert not paused()


def test_an_admin_sends_escalations_to_a_channel_as_typed_or_as_a_platform_mention_and_back_to_a_person(
    transcript: Transcript, store: Database
) -> None:
    def target() -> tuple[str | None, str | None, int | None]:
        with store.session() as session:
            plan = plan_named(session, "Northbridge EDI Plan")
            assert plan is not None
            return plan.escalation_channel, plan.escalation_channel_name, plan.escalation_person_id

    transcript.say("@Priya Shah", '/edi plan escalate "Northbridge EDI Plan" #edi-leads')
    transcript.expect_reply(
        "Overdue actions in Northbridge EDI Plan now escalate to #edi-leads after 14 days.",
        "Make sure edibot is in #edi-leads",
    )
    assert target() == ("edi-leads", "edi-leads", None)

    transcript.say("@Priya Shah", '/edi plan escalate "Northbridge EDI Plan" <#C0EDILEADS|edi-leads>')
    assert target() == ("C0EDILEADS", "edi-leads", None)
    transcript.say("@Priya Shah", '/edi plan escalate "Northbridge EDI Plan" #C0EDILEADS|edi-leads')
    assert target() == ("C0EDILEADS", "edi-leads", None)

    transcript.say("@Priya Shah", '/edi plan escalate "Northbridge EDI Plan" @Tom Okafor')
    transcript.expect_reply("now escalate to Tom Okafor")
    channel, name, person = target()
    assert (channel, name) == (None, None) and person is not None
