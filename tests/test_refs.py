"""How a new action is referenced: the plan's own reference kept in capitals, else its next free number."""

from __future__ import annotations

from storage.rules.refs import next_numbered_ref, plan_ref, source_ref


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
