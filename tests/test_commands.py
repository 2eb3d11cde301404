"""What every `/edi` command shares, as staff and plan leads meet it in the console: finding the action meant,
refusing clearly (and leaving the store alone), buttons and forms, retried deliveries, and who is speaking.
Each audience's commands have their own file: test_reading_commands, test_status_commands, test_admin_commands
(away and quiet hours are in test_holds_and_admin_notes).

The world is the `transcript` fixture's (tests/conftest.py): the Northbridge sample plan, who owns what in it,
and the day it is; a test that tries several variations of one thing tells them as one story, in a loop.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from handlers.core import Actor
from storage.db import Database
from storage.importing.service import import_plan
from storage.queries import plan_named
from tests.builders import write_csv
from tests.conftest import SAMPLES
from tests.transcript import Transcript, history, nothing_changes, refs_listed, snapshot

# -- references -----------------------------------------------------------------------------------------


def test_a_reference_in_any_case_or_a_unique_prefix_finds_the_action(
    transcript: Transcript, store: Database, tmp_path: Path
) -> None:
    transcript.say("@Amina Khan", "/edi green nO-2 objectives agreed")
    transcript.expect_reply("NO-2 is now Green (was Amber)")
    assert snapshot(store, "NO-2")["rag"] == "green"

    plan = write_csv(
        tmp_path / "access.csv",
        [["Action", "Lead", "Timescale"], ["Audit step-free access", "EDI Lead", "Jan 26"]],
    )
    import_plan(store, plan, now=transcript.clock.now(), plan_name="Access Review")
    transcript.say("@Priya Shah", "/edi done ar all entrances audited")
    transcript.expect_reply("AR-1 is now Done")
    assert snapshot(store, "AR-1")["status"] == "done"


def test_an_ambiguous_prefix_lists_the_candidates_and_a_typo_gets_did_you_mean(
    transcript: Transcript, store: Database
) -> None:
    with nothing_changes(store):
        transcript.say("@Amina Khan", "/edi green no-")
        transcript.expect_reply(
            "'no-' could be NO-1, NO-2, NO-3, NO-4, NO-5, NO-6, NO-7, NO-8, … — which one?"
        )

        transcript.say("@Amina Khan", "/edi green NO-66")
        transcript.expect_reply("There is no action NO-66. Did you mean NO-6?")


def test_a_reference_without_its_hyphen_gets_did_you_mean(transcript: Transcript) -> None:
    transcript.say("@Amina Khan", "/edi show NO6")
    transcript.expect_reply("Did you mean NO-6?")


def test_an_archived_action_says_it_is_no_longer_in_the_plan(transcript: Transcript, store: Database) -> None:
    import_plan(
        store,
        SAMPLES / "northbridge_edi_plan_revised.csv",
        now=transcript.clock.now(),
        plan_name="Northbridge EDI Plan",
    )
    with nothing_changes(store):
        transcript.say("@Priya Shah", "/edi note NO-13 poster printed")
    transcript.expect_reply("NO-13 is archived: it is no longer in the plan Northbridge EDI Plan.")


# -- refusals: each one a clear sentence, and the store as it was ---------------------------------------


def test_an_unknown_command_or_reference_is_refused(transcript: Transcript, store: Database) -> None:
    with nothing_changes(store):
        transcript.say("@Amina Khan", "/edi frobnicate NO-6")
        transcript.expect_reply(
            "I don't know the command 'frobnicate'. Try `/edi help` for what I can do. I haven't changed "
            "anything."
        )
        transcript.say("@Amina Khan", "/edi done XY-3")
        transcript.expect_reply(
            "There is no action XY-3. `/edi mine` lists yours; `/edi list` lists them all."
        )

        transcript.say("@Amina Khan", "/edi done")
        transcript.expect_reply("Which action? Usage: `/edi done REF [note]`")


def test_someone_not_in_the_directory_is_refused_everything_but_help(
    transcript: Transcript, store: Database
) -> None:
    with nothing_changes(store):
        for command in (
            "/edi mine",
            "/edi green NO-6 all fine",
            "/edi show NO-6",
            "/edi list",
            "/edi notmine NO-6",
        ):
            transcript.say("@Visiting Consultant", command)
            transcript.expect_reply(
                "I don't know you yet, Visiting Consultant: ask an EDI lead to add you to the people "
                "directory",
                "I haven't changed anything.",
            )
            transcript.expect_no_notices()


def test_someone_who_does_not_own_an_action_cannot_change_it(transcript: Transcript, store: Database) -> None:
    with nothing_changes(store):
        for command in (
            "/edi done NO-6",
            "/edi amber NO-6 not convinced",
            "/edi note NO-6 hello",
            "/edi due NO-6 31/3/26",
            "/edi snooze NO-6 1w",
            "/edi reopen NO-1",
        ):
            transcript.say("@Ewan Campbell", command)
            transcript.expect_reply("or a plan admin can change it, so I haven't.")
        transcript.expect_reply("Only NO-1's owners (Policy, Communities and Engagement) or a plan admin")

        transcript.say("@Amina Khan", "/edi show NO-6")
        transcript.press("@Ewan Campbell", "Done")  # a card someone else was shown
        transcript.expect_reply(
            "Only NO-6's owners (HR Manager) or a plan admin can change it, so I haven't."
        )


def test_a_plan_admin_may_change_an_action_they_do_not_own(transcript: Transcript, store: Database) -> None:
    transcript.say("@Priya Shah", "/edi done NO-6 signed off by the board")
    transcript.expect_reply("NO-6 is now Done (was Green), marked by Priya Shah")
    assert snapshot(store, "NO-6")["status"] == "done"
    assert history(store, "NO-6")[0].actor == "Priya Shah"


def test_someone_who_is_not_an_admin_cannot_use_admin_commands(
    transcript: Transcript, store: Database
) -> None:
    with nothing_changes(store):
        for command in (
            '/edi owner NO-6 add "Policy Team"',
            "/edi people unmapped",
            '/edi people map "EDI Lead" @Amina Khan',
            "/edi admins add @Amina Khan",
            "/edi plan pause Northbridge EDI Plan",
        ):
            transcript.say("@Amina Khan", command)
            transcript.expect_reply(
                f"Only a plan admin can use `/edi {command.split()[1]}`. I haven't changed anything."
            )


@pytest.fixture
def restricted(transcript: Transcript, store: Database) -> None:
    """The sample plan marked restricted: only its actions' owners and the plan admins may see them."""
    with store.session() as session:
        plan = plan_named(session, "Northbridge EDI Plan")
        assert plan is not None
        plan.restricted = True


@pytest.mark.usefixtures("restricted")
def test_a_restricted_plan_is_hidden_from_people_who_do_not_own_the_action(
    transcript: Transcript, store: Database
) -> None:
    with nothing_changes(store):
        for command in ("/edi show NO-6", "/edi history NO-6", "/edi notmine NO-6"):
            transcript.say("@Ewan Campbell", command)
            transcript.expect_reply(
                "NO-6 is in a restricted plan; only its owners and plan admins can see it."
            )
            transcript.expect_no_notices()

    transcript.say("@Ewan Campbell", "/edi list")
    transcript.expect_reply("1 action (all plans)")
    assert refs_listed(transcript.reply) == ["NO-12"]
    transcript.say("@Amina Khan", "/edi list")
    assert refs_listed(transcript.reply) == ["NO-2", "NO-6", "NO-9"]
    transcript.say("@Priya Shah", "/edi list")
    transcript.expect_reply("15 actions (all plans)")
    transcript.say("@Amina Khan", "/edi show NO-6")
    transcript.expect_reply("*NO-6 · Review recruitment adverts for inclusive language*")


# -- buttons, forms and retried deliveries --------------------------------------------------------------


def test_a_button_that_is_unknown_or_malformed_is_refused(transcript: Transcript, store: Database) -> None:
    amina = Actor(surface="slack", name="Amina Khan")
    with nothing_changes(store):
        for action_id, value, answer in [
            (
                "explode",
                "NO-6|green",
                "I don't recognise that button ('explode' with 'NO-6|green'); it may be from "
                "an older version of me. I haven't changed anything.",
            ),
            ("status", "NO-6", "I don't recognise that button ('status' with 'NO-6')"),
            ("status", "NO-6|purple", "I don't recognise that button ('status' with 'NO-6|purple')"),
            ("snooze", "NO-6|", "I don't recognise that button ('snooze' with 'NO-6|')"),
            ("status", "|green", "That button carried no action reference; I haven't changed anything."),
            ("status", "ZZ-9|green", "There is no action ZZ-9."),
        ]:
            outcome = transcript.layer.press(amina, action_id, value)
            assert answer in outcome.reply.plain_text(), outcome.reply.plain_text()


def test_an_unknown_form_is_refused(transcript: Transcript, store: Database) -> None:
    with nothing_changes(store):
        outcome = transcript.layer.submit(
            Actor(surface="teams", name="Amina Khan"), "budget", "NO-6|amber", {"reason": "money"}
        )
    assert outcome.reply.plain_text() == "I don't recognise that form ('budget'); I haven't changed anything."


def test_a_retried_delivery_of_a_command_or_a_press_is_acted_on_once(
    transcript: Transcript, store: Database
) -> None:
    amina = Actor(surface="slack", slack_id="U0AMINA", name="Amina Khan")
    first = transcript.layer.handle(amina, "/edi amber NO-6 waiting on budget", delivery_id="Ev01")
    assert "NO-6 is now Amber" in first.reply.plain_text() and not first.duplicate
    with nothing_changes(store):
        again = transcript.layer.handle(amina, "/edi amber NO-6 waiting on budget", delivery_id="Ev01")
    assert again.duplicate and again.reply.blocks == [] and again.notices == []

    dafydd = Actor(surface="teams", name="Dafydd Evans")
    pressed = transcript.layer.press(dafydd, "status", "NO-5|green", delivery_id="act-7")
    assert "NO-5 is now Green (was Red)" in pressed.reply.plain_text()
    transcript.say("@Dafydd Evans", "/edi red NO-5 trainer cancelled")  # a later, different change
    with nothing_changes(store):
        repressed = transcript.layer.press(dafydd, "status", "NO-5|green", delivery_id="act-7")
    assert repressed.duplicate
    assert snapshot(store, "NO-5")["rag"] == "red"


def test_a_refused_delivery_retried_is_answered_again_and_other_platforms_ids_are_their_own(
    transcript: Transcript, store: Database
) -> None:
    ewan = Actor(surface="slack", name="Ewan Campbell")
    with nothing_changes(store):
        first = transcript.layer.handle(ewan, "/edi done NO-6", delivery_id="Ev02")
        again = transcript.layer.handle(ewan, "/edi done NO-6", delivery_id="Ev02")
    assert "so I haven't" in first.reply.plain_text()
    assert not again.duplicate and "so I haven't" in again.reply.plain_text()

    transcript.layer.handle(Actor(surface="slack", name="Amina Khan"), "/edi note NO-6 one", delivery_id="42")
    outcome = transcript.layer.handle(
        Actor(surface="teams", name="Amina Khan"), "/edi note NO-6 two", delivery_id="42"
    )
    assert not outcome.duplicate
    assert snapshot(store, "NO-6")["progress_note"] == "two"


# -- who is speaking ------------------------------------------------------------------------------------


def test_a_person_is_recognised_by_their_email_on_a_platform(transcript: Transcript, store: Database) -> None:
    outcome = transcript.layer.handle(
        Actor(surface="teams", email="Amina.Khan@northbridge.example", teams_id="aad-1"),
        "/edi note NO-6 via Teams",
    )
    assert "Noted on NO-6: “via Teams”." in outcome.reply.plain_text()
    latest = history(store, "NO-6")[0]
    assert (latest.actor, latest.surface, latest.to_value) == ("Amina Khan", "teams", "via Teams")
