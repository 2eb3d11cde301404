"""A restricted plan, as someone outside it meets it: no reference, owner or plan name of it reaches them, in
a suggestion, a list, a refusal or a thread reply; its members and the plan admins see it as before.

The world is the Northbridge sample plan (NO-1…NO-15, open to everyone) beside "Safeguarding Casework", a
restricted plan whose actions SC-SP1 and SC-SP2 belong to the Safeguarding Lead, Grace Liu. Ewan Campbell
(Digital Services) owns nothing in it. It is Monday 3 November 2025, 09:30 in London.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from handlers.core import Actor
from storage.db import Database
from storage.importing.service import import_plan
from storage.models import Nudge, OutboxMessage
from storage.queries import action_by_ref, plan_named
from tests.builders import write_csv
from tests.transcript import Transcript, nothing_changes, refs_listed

# What someone outside the plan must not read, unless they typed it themselves.
SECRET = ("SC-SP1", "SC-SP2", "SC-7", "Safeguarding Casework", "Safeguarding Lead", "Grace Liu")


@pytest.fixture
def casework(transcript: Transcript, store: Database, tmp_path: Path) -> Transcript:
    plan = write_csv(
        tmp_path / "casework.csv",
        [
            ["Ref", "Action", "Owner", "Timescale"],
            ["SC-SP1", "Review the case of a named member of staff", "Safeguarding Lead", "31/12/25"],
            ["SC-SP2", "Agree support for a named resident", "Safeguarding Lead", "31/1/26"],
            ["7", "Brief the board on open cases", "Safeguarding Lead", "31/3/26"],  # a bare number: SC-7
        ],
    )
    import_plan(store, plan, now=transcript.clock.now(), plan_name="Safeguarding Casework")
    with store.session() as session:
        found = plan_named(session, "Safeguarding Casework")
        assert found is not None and found.ref_prefix == "SC"
        found.restricted = True
    transcript.say("@Priya Shah", '/edi people map "Safeguarding Lead" @Grace Liu')
    transcript.expect_reply("Grace Liu now gets Safeguarding Lead's actions.")
    return transcript


def test_someone_outside_a_restricted_plan_never_reads_its_references_owners_or_name(
    casework: Transcript, store: Database
) -> None:
    with nothing_changes(store):
        for command, answer in [
            ("/edi show SC", "There is no action SC."),  # a prefix lists only what they may see
            ("/edi show sc-sp", "There is no action sc-sp."),
            ("/edi show SC-SP3", "There is no action SC-SP3."),  # no "Did you mean SC-SP1?"
            ("/edi show SCSP1", "There is no action SCSP1."),
            ("/edi show 7", "There is no action 7."),  # a plan's own number finds only what they may see
            (
                "/edi done SC-SP1",
                "SC-SP1 is in a restricted plan; only its owners and plan admins can see it.",
            ),
            ("/edi amber SC-SP2 stuck", "SC-SP2 is in a restricted plan"),  # not "Only SC-SP2's owners (…)"
            ("/edi notmine SC-SP1", "SC-SP1 is in a restricted plan"),
            ("/edi list plan:nowhere", "No plan is called 'nowhere'. Plans: Northbridge EDI Plan."),
            ("/edi list plan:safeguarding", "No plan is called 'safeguarding'. Plans: Northbridge EDI Plan."),
            ('/edi list "plan:Safeguarding Casework"', "No plan is called 'Safeguarding Casework'."),
        ]:
            casework.say("@Ewan Campbell", command)
            casework.expect_reply(answer)
            casework.expect_reply_not(*(word for word in SECRET if word.casefold() not in command.casefold()))
            casework.expect_no_notices()

        casework.say("@Ewan Campbell", "/edi list")
        casework.expect_reply("15 actions (all plans)")
        casework.expect_reply_not(*SECRET)
        casework.say("@Ewan Campbell", "/edi list owner:safeguarding")
        casework.expect_reply("No actions match owner:safeguarding.")


def test_a_restricted_plans_members_and_the_plan_admins_still_find_its_actions(casework: Transcript) -> None:
    for who in ("@Grace Liu", "@Priya Shah"):
        casework.say(who, "/edi show SC")
        casework.expect_reply("'SC' could be SC-7, SC-SP1, SC-SP2 — which one?")
        casework.say(who, "/edi show 7")
        casework.expect_reply("SC-7 · Brief the board on open cases")
        casework.say(who, "/edi show SC-SP3")
        casework.expect_reply("There is no action SC-SP3. Did you mean SC-SP")
        casework.say(who, "/edi list plan:safeguarding")
        assert refs_listed(casework.reply) == ["SC-SP1", "SC-SP2", "SC-7"]
    casework.say("@Grace Liu", "/edi amber SC-SP1 waiting on HR")
    casework.expect_reply("SC-SP1 is now Amber")


def test_a_reply_in_a_channel_reminders_thread_names_only_the_actions_the_replier_may_see(
    casework: Transcript, store: Database
) -> None:
    """An escalation channel's post listed an open plan's actions beside a restricted plan's."""
    now = casework.clock.now()
    with store.session() as session:
        post = OutboxMessage(
            key="#C0ESC:2025-11-03:1",
            channel="C0ESC",
            send_at=now,
            status="sent",
            sent_at=now,
            platform="slack",
            platform_message_id="1762162200.000100",
            created_at=now,
        )
        session.add(post)
        session.flush()
        for ref in ("NO-6", "NO-12", "SC-SP1"):
            action = action_by_ref(session, ref)
            assert action is not None
            session.add(
                Nudge(
                    key=f"{ref}:escalate:1:#C0ESC",
                    action_id=action.id,
                    channel="C0ESC",
                    step="escalate",
                    occurrence="1",
                    step_on=now.date(),
                    send_at=now,
                    message_id=post.id,
                    created_at=now,
                )
            )

    with nothing_changes(store):
        outcome = casework.layer.reply_to_message(
            Actor(surface="slack", name="Ewan Campbell"), "done", message_id="1762162200.000100"
        )
    assert "That reminder was about 2 actions (NO-6, NO-12)" in outcome.reply.plain_text()
    assert not any(word in outcome.reply.plain_text() for word in SECRET)

    outcome = casework.layer.reply_to_message(
        Actor(surface="slack", name="Grace Liu"), "done", message_id="1762162200.000100"
    )
    assert "That reminder was about 3 actions (NO-6, NO-12, SC-SP1)" in outcome.reply.plain_text()
