"""How a new action is referenced: the plan's own reference kept in capitals, else its next free number."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import select

from bot.console import FakeClock
from storage.db import Database, alembic_config
from storage.importing.service import import_plan
from storage.models import Action
from storage.rules.refs import former_ref, next_numbered_ref, plan_ref, source_ref
from tests.builders import write_csv
from tests.transcript import Transcript


def test_a_plan_s_own_number_is_kept_in_capitals_under_the_plan_s_prefix() -> None:
    assert source_ref("LT", "1.2") == "LT-1.2"
    assert source_ref("LT", " 3 a (i) ") == "LT-3AI"
    assert source_ref("NO", "x" * 30) == "NO-" + "X" * 20
    assert source_ref("HY", "WB-1") == "HY-WB-1"


def test_the_next_number_is_used_unless_an_action_already_has_that_reference() -> None:
    assert next_numbered_ref("NO", 16, taken=set()) == ("NO-16", 17)
    assert next_numbered_ref("NO", 1, taken={"NO-1", "NO-2", "NO-4"}) == ("NO-3", 4)
    assert next_numbered_ref("NO", 4, taken={"NO-1", "NO-2", "NO-4"}) == ("NO-5", 6)


def test_a_reference_that_names_itself_is_kept_as_written_and_a_bare_number_is_not() -> None:
    assert plan_ref("WB-1") == "WB-1"
    assert plan_ref(" a3 ") == "A3"
    assert plan_ref("HR.2a") == "HR.2A"
    assert plan_ref("LT-1.2") == "LT-1.2"
    # A bare number is the same in every plan, and a word alone is not a reference.
    assert plan_ref("1.1") is None
    assert plan_ref("3a") is None
    assert plan_ref("Lead") is None


def test_the_reference_an_import_made_before_references_were_kept_as_written_is_known() -> None:
    assert former_ref("WE", "WB-1") == "WE-WB1"
    assert former_ref("LT", "1.2") == "LT-1.2"


# -- a store made by an import before plans' own references were kept as written ------------------------

OLD_PLAN = [
    ["Ref", "Action", "Lead", "By when"],
    ["WB-1", "Publish the gender pay gap", "HR Manager", "March 2025"],
    ["WB-2", "Run the staff survey", "HR Manager", "June 2025"],
    ["A3", "Translate key service information", "Comms Lead", "Dec 2025"],
    ["1.2", "Train the board in inclusive leadership", "Chief Executive", "Sept 2025"],
]


def _as_imported_before(store: Database) -> None:
    """Give the store the references imports made then ("WE-WB1"), another plan holding "WB-2" meanwhile,
    and take its schema back to the revision before the fix."""
    with store.session() as session:
        for action in session.scalars(select(Action)):
            if action.plan.name == "Wellbeing" and action.source_ref:
                action.ref = former_ref(action.plan.ref_prefix, action.source_ref)
            elif action.plan.name == "Other":
                action.ref = "WB-2"
        session.commit()
    command.stamp(alembic_config(store.engine), "0011")


def test_an_older_store_takes_back_each_plan_s_own_reference_unless_another_action_holds_it(
    store: Database, clock: FakeClock, tmp_path: Path
) -> None:
    import_plan(
        store, write_csv(tmp_path / "wellbeing.csv", OLD_PLAN), now=clock.now(), plan_name="Wellbeing"
    )
    other = write_csv(
        tmp_path / "other.csv", [["Ref", "Action", "Lead"], ["Z9", "Open a quiet room", "Estates"]]
    )
    import_plan(store, other, now=clock.now(), plan_name="Other")
    _as_imported_before(store)
    with store.session() as session:
        before = set(session.scalars(select(Action.ref)))
    assert before == {"WB-2", "WE-A3", "WE-WB1", "WE-WB2", "WE-1.2"}

    config = alembic_config(store.engine)
    command.upgrade(config, "0012")  # the schema is the newest's apart from this step
    command.stamp(config, "head")  # and the database says so again, for the tests after this one

    with store.session() as session:
        refs = {a.title: a.ref for a in session.scalars(select(Action))}
    assert refs == {
        "Publish the gender pay gap": "WB-1",
        "Run the staff survey": "WE-WB2",  # WB-2 is the other plan's: the reference in use is kept
        "Translate key service information": "A3",
        "Train the board in inclusive leadership": "WE-1.2",
        "Open a quiet room": "WB-2",
    }


def test_the_references_an_older_import_made_still_find_their_action_in_chat(
    transcript: Transcript, store: Database, clock: FakeClock, tmp_path: Path
) -> None:
    import_plan(
        store, write_csv(tmp_path / "wellbeing.csv", OLD_PLAN), now=clock.now(), plan_name="Wellbeing"
    )

    # A reminder sent before the fix named WE-WB1 and WE-A3; the actions are WB-1 and A3 now.
    transcript.say("@Priya Shah", "/edi show we-wb1")
    transcript.expect_reply("*WB-1 · Publish the gender pay gap*")
    transcript.say("@Priya Shah", "/edi show WE-A3")
    transcript.expect_reply("*A3 · Translate key service information*")
    transcript.say("@Priya Shah", "/edi show WB-1")
    transcript.expect_reply("*WB-1 · Publish the gender pay gap*")
