"""`edibot nudges preview` and `edibot run`: what an EDI lead sees before and while reminders go out.

The CLI runs in-process on the test database, over the bundled Northbridge plan (imported on Monday 3 November
2025) and a people directory with Slack and Teams ids; Grace works from New York.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.console import FakeClock
from storage.db import Database
from storage.models import Nudge, OutboxMessage, Plan
from tests.conftest import imported_by_cli
from tests.nudging import NudgeWorld, at, people_across_zones, refs

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def edibot(cli: Run, tmp_path: Path) -> Run:
    """Runs `edibot ARGS…` on the test database, after importing the sample plan and the people directory."""
    run = cli

    people = people_across_zones(tmp_path)
    imported_by_cli(run, now="2025-11-03T09:00")
    code, out, err = run("--now", "2025-11-03T09:00", "people", "import", str(people))
    assert code == 0 and "5 people added" in out, out + err
    return run


def planned(edibot: Run, *args: str) -> list[dict[str, object]]:
    code, out, err = edibot(*args, "--json")
    assert code == 0, err
    messages = json.loads(out)
    assert isinstance(messages, list)
    return messages


def table_rows(out: str) -> list[tuple[str, ...]]:
    """The body rows of a rich table, cell by cell."""
    rows = []
    for line in out.splitlines():
        if line.startswith("│"):
            rows.append(tuple(cell.strip() for cell in line.strip("│").split("│")))
    return rows


def reminders_printed(out: str) -> list[str]:
    return re.findall(r"^edibot → (.+?) \(direct message\):$", out, flags=re.MULTILINE)


def test_preview_json_lists_each_message_with_recipient_ids_local_send_time_step_and_actions(
    edibot: Run,
) -> None:
    messages = planned(edibot, "--now", "2025-11-10T08:00", "nudges", "preview", "--days", "0")

    def person(name: str, slack_id: str | None, teams_id: str | None) -> dict[str, object]:
        email = name.lower().replace(" ", ".") + "@northbridge.example"
        return {"name": name, "email": email, "slack_id": slack_id, "teams_id": teams_id}

    objectives = {"ref": "NO-2", "title": "Set EDI objectives for every director", "step": "overdue"}
    # The plan's first sweep: each owner's one welcome, listing all their actions (those with a reminder
    # step due say which), in place of that step's reminders.
    assert messages == [
        {
            "recipient": person("Amina Khan", "U0AMINA", "29:amina"),
            "send_at": "2025-11-10T09:30+00:00",
            "step": "welcome",
            "actions": [
                objectives,
                {
                    "ref": "NO-6",
                    "title": "Review recruitment adverts for inclusive language",
                    "step": "welcome",
                },
                {"ref": "NO-9", "title": "Run the staff EDI survey", "step": "set-date"},
            ],
        },
        {
            "recipient": person("Priya Shah", "U0PRIYA", "29:priya"),
            "send_at": "2025-11-10T09:30+00:00",
            "step": "welcome",
            "actions": [{"ref": "NO-3", "title": "Report progress to the Board", "step": "welcome"}],
        },
        {
            "recipient": person("Sam Patel", None, "29:sam"),
            "send_at": "2025-11-10T09:30+00:00",
            "step": "welcome",
            "actions": [
                {
                    "ref": "NO-7",
                    "title": "Publish the gender and ethnicity pay gap reports",
                    "step": "welcome",
                },
                {
                    "ref": "NO-10",
                    "title": "Give staff networks protected time and a budget",
                    "step": "welcome",
                },
            ],
        },
        {
            "recipient": person("Tom Okafor", "U0TOM", "29:tom"),
            "send_at": "2025-11-10T09:30+00:00",
            "step": "welcome",
            "actions": [objectives],
        },
        {
            "recipient": person("Grace Liu", "U0GRACE", None),
            "send_at": "2025-11-10T09:30-05:00",  # New York time, with its offset
            "step": "welcome",
            "actions": [
                {"ref": "NO-4", "title": "Refresh the equality impact assessment template", "step": "overdue"}
            ],
        },
    ]


def test_preview_send_times_carry_the_summer_offset(edibot: Run) -> None:
    messages = planned(edibot, "--now", "2026-03-30T08:00", "nudges", "preview", "--days", "3")

    offsets = {(m["recipient"]["name"], str(m["send_at"])[-6:]) for m in messages}  # type: ignore[index]
    assert ("Amina Khan", "+01:00") in offsets
    assert all(offset == "+01:00" for name, offset in offsets if name != "Grace Liu")
    assert all(offset == "-04:00" for name, offset in offsets if name == "Grace Liu")
    assert all(str(m["send_at"])[11:16] == "09:30" for m in messages)


def test_preview_reads_as_a_table_of_when_who_why_and_which_actions(edibot: Run) -> None:
    code, out, err = edibot("--now", "2025-11-10T08:00", "nudges", "preview", "--days", "7")

    assert code == 0, err
    assert "Reminders from 10 Nov 2025 08:00 for 7 days" in out
    assert table_rows(out) == [
        ("Mon 10 Nov 09:30 GMT", "Amina Khan", "welcome", "NO-2, NO-6, NO-9"),
        ("Mon 10 Nov 09:30 GMT", "Priya Shah", "welcome", "NO-3"),
        ("Mon 10 Nov 09:30 GMT", "Sam Patel", "welcome", "NO-7, NO-10"),
        ("Mon 10 Nov 09:30 GMT", "Tom Okafor", "welcome", "NO-2"),
        ("Mon 10 Nov 09:30 EST", "Grace Liu", "welcome", "NO-4"),
        # No escalation yet: nobody has been reminded. Wednesday's overdue steps and Amina's requests for a
        # date wait for everyone's reminder day, Monday
        ("Mon 17 Nov 09:30 GMT", "Amina Khan", "overdue", "NO-2, NO-6, NO-9"),
        ("Mon 17 Nov 09:30 GMT", "Tom Okafor", "overdue", "NO-2"),
        ("Mon 17 Nov 09:30 EST", "Grace Liu", "overdue", "NO-4"),
    ]


def test_preview_after_everything_due_was_sent_says_nothing_would_be_sent(edibot: Run) -> None:
    edibot("--now", "2025-11-10T15:00", "run", "--once")  # London's 09:30 reminders and New York's

    code, out, err = edibot("--now", "2025-11-10T16:00", "nudges", "preview", "--days", "0")

    assert code == 0, err
    assert out.strip() == "Nothing would be sent in the 0 days from 10 November 2025 16:00."
    assert planned(edibot, "--now", "2025-11-10T16:00", "nudges", "preview", "--days", "0") == []


def test_preview_from_another_moment_with_at(edibot: Run) -> None:
    messages = planned(
        edibot, "--now", "2025-11-03T09:00", "nudges", "preview", "--at", "2025-11-12T07:00", "--days", "0"
    )

    # nothing has run yet, so that morning the owners have their welcome, with what is already due
    assert [(m["recipient"]["name"], m["send_at"], m["step"]) for m in messages] == [  # type: ignore[index]
        ("Amina Khan", "2025-11-12T09:30+00:00", "welcome"),
        ("Priya Shah", "2025-11-12T09:30+00:00", "welcome"),
        ("Sam Patel", "2025-11-12T09:30+00:00", "welcome"),
        ("Tom Okafor", "2025-11-12T09:30+00:00", "welcome"),
        ("Grace Liu", "2025-11-12T09:30-05:00", "welcome"),
    ]


@pytest.mark.parametrize("bad", ["next tuesday", "2025-13-01T09:00", "10/11/2025 09:30"])
def test_a_bad_at_is_refused_plainly(edibot: Run, bad: str) -> None:
    code, out, err = edibot("nudges", "preview", "--at", bad)

    assert code == 1
    assert out == ""
    assert err.strip() == f"--at: '{bad}' is not an ISO 8601 time such as 2025-03-03T09:00."


def test_preview_changes_nothing(edibot: Run, store: Database) -> None:
    edibot("--now", "2025-11-10T08:00", "nudges", "preview", "--days", "30", "--json")
    edibot("--now", "2025-11-10T08:00", "nudges", "preview", "--days", "30")

    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(Nudge)) == 0
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_run_once_prints_the_reminders_once_and_a_second_run_prints_none(edibot: Run) -> None:
    code, first, err = edibot("--now", "2025-11-10T09:31", "run", "--once")
    assert code == 0, err

    assert sorted(reminders_printed(first)) == [
        "Amina Khan",
        "Priya Shah",
        "Priya Shah",
        "Sam Patel",
        "Tom Okafor",
    ]
    assert "*Welcome to edibot, Amina*" in first and "You answer for 3 of its actions" in first
    assert "Escalation" not in first
    # The plan admin's one summary of the plan: where it stands, and the owner roles with no one to remind
    assert "*Northbridge EDI Plan is on edibot*" in first and "7 owner roles have no one to remind" in first
    assert "Map each with `/edi people map" in first and "nobody to remind" not in first

    code, second, err = edibot("--now", "2025-11-10T09:45", "run", "--once")
    assert code == 0, err
    assert reminders_printed(second) == []
    code, third, err = edibot("--now", "2025-11-10T15:00", "run", "--once")  # Grace's 09:30 in New York
    assert reminders_printed(third) == ["Grace Liu"]
    code, fourth, err = edibot("--now", "2025-11-10T16:00", "run", "--once")
    assert reminders_printed(fourth) == []


def test_run_once_a_minute_after_another_still_sends_what_is_due(edibot: Run) -> None:
    edibot("--now", "2025-11-10T09:29", "run", "--once")

    code, out, err = edibot("--now", "2025-11-10T09:30", "run", "--once")

    assert code == 0, err
    assert "Amina Khan" in reminders_printed(out)


def test_preview_still_shows_reminders_planned_but_not_yet_sent(edibot: Run) -> None:
    code, out, _ = edibot("--now", "2025-11-10T07:00", "run", "--once")  # plans this morning's, sends nothing
    assert code == 0 and reminders_printed(out) == []

    messages = planned(edibot, "--now", "2025-11-10T08:00", "nudges", "preview", "--days", "0")

    assert [m["recipient"]["name"] for m in messages] == [  # type: ignore[index]
        "Amina Khan",
        "Priya Shah",
        "Sam Patel",
        "Tom Okafor",
        "Grace Liu",
    ]


def simulate(store: Database, *, start: str, end: str) -> list[tuple[str, str, list[str]]]:
    """Runs the scheduler every 30 minutes; the reminders (not the admins' notes) who received, when, on their
    own clock."""
    world = NudgeWorld(store, FakeClock(at(start)))
    world.run_until(end, every=timedelta(minutes=30))
    zones = {"Grace Liu": "America/New_York"}
    return [
        (m.to, m.local(zones.get(m.to, "Europe/London")).isoformat(timespec="minutes"), sorted(refs(m)))
        for m in world.platform.received
        if refs(m)
    ]


def preview_of(messages: list[dict[str, object]], *, before: str) -> list[tuple[str, str, list[str]]]:
    return [
        (m["recipient"]["name"], m["send_at"], sorted(a["ref"] for a in m["actions"]))  # type: ignore[index,union-attr]
        for m in messages
        if str(m["send_at"]) < before
    ]


def test_what_the_preview_shows_is_what_is_then_sent(edibot: Run, store: Database) -> None:
    shown = preview_of(
        planned(edibot, "--now", "2025-11-10T00:00", "nudges", "preview", "--days", "13"), before="2025-11-24"
    )

    sent = simulate(store, start="2025-11-10T00:00", end="2025-11-23T23:59")

    assert len(sent) == 8  # owners hear on Mondays, escalations on their day
    assert sorted(sent) == sorted(shown)


def test_the_preview_shows_what_a_snooze_will_release(edibot: Run, store: Database, tmp_path: Path) -> None:
    script = tmp_path / "snooze.txt"
    script.write_text("@Amina Khan: /edi snooze NO-2 until 17 November 2025\n", encoding="utf-8")
    code, _, err = edibot("--now", "2025-11-09T12:00", "console", "--script", str(script))
    assert code == 0, err

    shown = preview_of(
        planned(edibot, "--now", "2025-11-10T00:00", "nudges", "preview", "--days", "9"), before="2025-11-20"
    )
    sent = simulate(store, start="2025-11-10T00:00", end="2025-11-19T23:59")

    assert ("Amina Khan", "2025-11-17T09:30+00:00", ["NO-2", "NO-6", "NO-9"]) in sent
    assert sorted(sent) == sorted(shown)


def test_an_escalation_to_a_channel_is_previewed_for_the_channel_and_printed_once_by_the_console(
    edibot: Run, store: Database
) -> None:
    with store.session() as session:
        plan = session.scalar(select(Plan))
        assert plan is not None
        plan.escalation_channel, plan.escalation_channel_name = "C0EDILEADS", "edi-leads"

    # The owners' welcome, and their first weekly reminder: two reminders, no reply.
    edibot("--now", "2025-11-10T09:31", "run", "--once")
    edibot("--now", "2025-11-17T09:31", "run", "--once")

    messages = planned(edibot, "--now", "2025-11-24T08:00", "nudges", "preview", "--days", "0")
    escalations = [m for m in messages if m["step"] == "escalate"]
    code, first, _ = edibot("--now", "2025-11-24T09:31", "run", "--once")
    code_again, second, _ = edibot("--now", "2025-11-24T09:45", "run", "--once")

    assert [(m["recipient"], m["send_at"]) for m in escalations] == [
        ({"name": "#edi-leads", "channel": "C0EDILEADS"}, "2025-11-24T09:30+00:00")
    ]
    assert "2 reminders since 10 Nov, no reply" in first
    assert (code, code_again) == (0, 0)
    assert re.findall(r"^edibot → (.+?) \(channel\):$", first, flags=re.MULTILINE) == ["#edi-leads"]
    assert "Posted in #edi-leads as the plan's escalation channel" in first
    assert first.count("*Escalation: NO-2 is overdue*") == 1  # in the channel, not also in Priya's DM
    assert "(channel)" not in second
