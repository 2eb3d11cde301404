"""One meaning of overdue: `plans`, `actions --overdue`, `/edi mine`, App Home and the sweep count the same
actions.

Amina Khan owns every action of the plan; it is Monday 3 November 2025. Two are overdue (their dated deadline
has passed). "Nov 2022 & Ongoing" and "Apr-19 and ongoing" passed their dates long ago but are ongoing,
checked in on; a recurring action moves on to its next occurrence; none of those is overdue anywhere."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from bot.console import FakeClock, render
from handlers.core import Actor
from storage.db import Database
from storage.queries import actions_matching, plans_with_counts
from tests.nudging import NudgeWorld, Row, Someone
from tests.transcript import Transcript

ROWS = [
    Row("Review recruitment adverts", "HR Manager", "30/9/25"),
    Row("Set EDI objectives for directors", "HR Manager", "Sept 23"),
    Row("Run reverse mentoring", "HR Manager", "Nov 2022 & Ongoing"),
    Row("Keep the staff networks going", "HR Manager", "Apr-19 and ongoing"),
    Row("Celebrate Black History Month", "HR Manager", "Ongoing"),
    Row("Publish the pay gap report", "HR Manager", "Annually"),
    Row("Train every panel chair", "HR Manager", "31/12/25"),
    Row("Publish the action plan", "HR Manager", "Complete"),
    Row("Repeat the staff survey", "HR Manager", "Next staff survey"),
]
OVERDUE = 2


def test_every_surface_counts_the_same_actions_overdue(
    store: Database, clock: FakeClock, cli: Callable[..., tuple[int, str, str]]
) -> None:
    world = NudgeWorld(store, clock)
    world.people(Someone("Amina Khan", "HR Manager", admin=True))
    world.plan(ROWS)
    today = clock.now().date()

    with store.session() as session:
        (counts,) = plans_with_counts(session, today=today)
        listed = actions_matching(session, overdue_on=today)
        assert counts.overdue == OVERDUE
        assert sorted(a.title for a in listed) == [
            "Review recruitment adverts",
            "Set EDI objectives for directors",
        ]

    code, out, _ = cli("--now", "2025-11-03T09:30", "actions", "--overdue", "--json")
    assert code == 0 and len(json.loads(out)["actions"]) == OVERDUE
    code, out, _ = cli("--now", "2025-11-03T09:30", "actions")
    assert code == 0 and out.count(" overdue") == OVERDUE
    code, out, _ = cli("--now", "2025-11-03T09:30", "plans")
    row = next(line for line in out.splitlines() if "Northbridge" in line)
    assert re.findall(r"\d+", row)[:3] == ["9", "1", str(OVERDUE)]  # actions, done, overdue

    transcript = Transcript(store, clock)
    transcript.say("@Amina Khan", "/edi mine")
    transcript.expect_reply(f"{OVERDUE} overdue")
    assert transcript.reply.count("overdue by") == OVERDUE  # no ongoing one says "overdue by 372 days"
    text = "\n".join(render(transcript.layer.home(Actor(surface="console", name="Amina Khan")).reply))
    assert f"*{OVERDUE} overdue*" in text and f"Overdue* · {OVERDUE}" in text

    world.sweep()
    overdue_nudged = {n.action_id for n in world.nudges() if n.step in ("overdue", "escalate")}
    assert len(overdue_nudged) == OVERDUE
