"""Replies as Slack shows them: Block Kit that says what the console says, and that Slack never refuses for
size.

Each story builds a reply with the handlers' own builders (a reminder, an action card, a reason form) or the
message model directly, translates it, and has the Slack stand-in's independent rule book check the result.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.slack.blocks import (
    ELLIPSIS,
    blocks_for,
    cut,
    escape,
    form_errors,
    handler_action,
    home_view,
    measure,
    message_for,
    modal_for,
    modal_needed,
    text_for,
)
from handlers.cards import action_card, reason_form
from handlers.messages import (
    Button,
    Buttons,
    Choice,
    Choices,
    Context,
    Fields,
    Form,
    FormField,
    Heading,
    Reply,
    Text,
)
from handlers.reminders import ReminderItem, reminder
from storage.models import Action, Owner, Plan
from tests.slack_standin import check_blocks, check_view

TODAY = date(2025, 11, 3)


def slack_accepts(blocks: list[dict[str, object]], *, limit: int = 50) -> None:
    problems = check_blocks(blocks, limit=limit, surface="message" if limit == 50 else "view")
    assert problems == [], problems


def an_action(number: int, plan: Plan, owner: Owner, **fields: object) -> Action:
    values: dict[str, object] = {
        "ref": f"NO-{number}",
        "title": f"Review recruitment advert {number} for inclusive language",
        "theme": "Workforce",
        "deadline_text": "31/10/25",
        "deadline_kind": "dated",
        "start_date": None,
        "due_date": date(2025, 10, 31),
        "recurrence": None,
        "rag": "amber",
        "status": "open",
        "progress_note": "Waiting on budget",
        "snoozed_until": None,
    }
    values.update(fields)
    action = Action(plan=plan, **values)
    action.owners.append(owner)
    return action


@pytest.fixture
def plan() -> Plan:
    return Plan(name="Northbridge EDI Plan", ref_prefix="NO")


@pytest.fixture
def hr() -> Owner:
    return Owner(name="HR Manager", key="hr manager")


@pytest.fixture
def amina_owns_300(plan: Plan, hr: Owner) -> Reply:
    """Amina's reminder when all 300 of her actions are overdue at once (a badly imported plan)."""
    items = [
        ReminderItem(action=an_action(n, plan, hr), step="overdue", why="overdue", today=TODAY)
        for n in range(1, 301)
    ]
    return reminder("Amina Khan", items, today=TODAY)


def headers(blocks: list[dict[str, object]]) -> list[str]:
    return [b["text"]["text"] for b in blocks if b["type"] == "header"]  # type: ignore[index]


# -- the person with 300 actions ------------------------------------------------------------------------


def test_a_reminder_for_300_actions_shows_whole_cards_and_says_how_many_more(amina_owns_300: Reply) -> None:
    blocks = blocks_for(amina_owns_300)

    assert len(blocks) == 50
    slack_accepts(blocks)
    assert headers(blocks)[0] == "Amina, 300 EDI actions need you"
    assert headers(blocks)[1:] == [
        f"NO-{n} · Review recruitment advert {n} for inclusive language" for n in range(1, 13)
    ]
    assert blocks[-1] == {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": "…and 288 more — `/edi mine` lists them all"}],
    }
    # every card shown keeps its buttons: the cut falls between cards, never inside one
    actions = [b for b in blocks if b["type"] == "actions"]
    assert len(actions) == 12
    assert [e["value"] for e in actions[-1]["elements"]][:4] == [
        "NO-12|green",
        "NO-12|amber",
        "NO-12|red",
        "NO-12|done",
    ]


def test_the_home_tab_shows_up_to_100_blocks_of_the_same_300_actions(amina_owns_300: Reply) -> None:
    view = home_view(amina_owns_300)

    assert view["type"] == "home"
    assert len(view["blocks"]) == 98  # title + 24 whole cards of 4 blocks + the "more" line; a 25th won't fit
    assert check_view(view, home=True) == []
    assert view["blocks"][-1]["elements"][0]["text"] == "…and 276 more — `/edi mine` lists them all"


def test_a_listing_of_300_lines_is_split_between_lines_and_loses_none() -> None:
    lines = [
        f"NO-{n} · Review recruitment advert {n} · due 31 Oct 2025 — overdue by 3 days · Amber"
        for n in range(300)
    ]
    reply = Reply([Heading("Your 300 open actions, 300 overdue"), Text("\n".join(lines))])

    blocks = blocks_for(reply)

    slack_accepts(blocks)
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert len(sections) > 1
    assert all(len(s) <= 3000 for s in sections)
    assert "\n".join(sections).splitlines() == lines


def test_the_more_line_can_point_elsewhere(amina_owns_300: Reply) -> None:
    blocks = blocks_for(amina_owns_300, more_hint="see the App Home tab")
    assert blocks[-1]["elements"][0]["text"] == "…and 288 more — see the App Home tab"


# -- one action as Slack shows it --------------------------------------------------------------------------


def test_an_action_card_keeps_its_facts_buttons_and_styles(plan: Plan, hr: Owner) -> None:
    action = an_action(4, plan, hr, rag="red", progress_note="Agency still rewriting them")

    blocks = blocks_for(Reply(action_card(action, TODAY)))

    slack_accepts(blocks)
    header, facts, buttons = blocks
    assert header == {
        "type": "header",
        "text": {
            "type": "plain_text",
            "text": "NO-4 · Review recruitment advert 4 for inclusive language",
            "emoji": True,
        },
    }
    assert [f["text"] for f in facts["fields"]] == [
        "*Plan*\nNorthbridge EDI Plan › Workforce",
        "*Owners*\nHR Manager",
        "*Due*\n31/10/25 (due 31 Oct 2025) — overdue by 3 days",
        "*Status*\nRed",
        "*Last note*\nAgency still rewriting them",
    ]
    assert [(e["text"]["text"], e["value"], e.get("style")) for e in buttons["elements"]] == [
        ("Green", "NO-4|green", "primary"),
        ("Amber", "NO-4|amber", None),
        ("Red", "NO-4|red", "danger"),
        ("Done", "NO-4|done", None),
        ("Snooze 1 week", "NO-4|1w", None),
        ("Add note", "NO-4", None),
        ("Not mine", "NO-4", None),
    ]


def test_buttons_sharing_an_action_get_unique_action_ids_that_still_route_to_it(
    plan: Plan, hr: Owner
) -> None:
    [_, _, buttons] = blocks_for(Reply(action_card(an_action(1, plan, hr), TODAY)))

    ids = [e["action_id"] for e in buttons["elements"]]
    assert ids == [
        "edi:status",
        "edi:status:2",
        "edi:status:3",
        "edi:status:4",
        "edi:snooze",
        "edi:note",
        "edi:not_mine",
    ]
    assert [handler_action(i) for i in ids] == ["status"] * 4 + ["snooze", "note", "not_mine"]
    assert handler_action("someone_elses_button") is None


def test_what_an_action_title_says_is_shown_never_obeyed(plan: Plan, hr: Owner) -> None:
    action = an_action(7, plan, hr, progress_note="<!channel> budget & <https://evil.example|click>")

    [_, facts, _] = blocks_for(Reply(action_card(action, TODAY)))

    assert (
        facts["fields"][-1]["text"]
        == "*Last note*\n&lt;!channel&gt; budget &amp; &lt;https://evil.example|click&gt;"
    )


# -- the limits, one by one ---------------------------------------------------------------------------------


def test_text_longer_than_a_section_is_split_into_sections_of_at_most_3000() -> None:
    paragraph = "Our staff survey asks about belonging, fairness and progression. " * 20
    text = "\n".join([paragraph] * 6)

    blocks = blocks_for(Reply([Text(text)]))

    slack_accepts(blocks)
    assert len(blocks) > 2
    assert all(b["type"] == "section" and len(b["text"]["text"]) <= 3000 for b in blocks)
    assert " ".join(b["text"]["text"] for b in blocks).split() == text.split()


def test_one_unbroken_run_longer_than_a_section_is_cut_where_it_must_be() -> None:
    blocks = blocks_for(Reply([Text("x" * 7000)]))

    slack_accepts(blocks)
    assert [len(b["text"]["text"]) for b in blocks] == [3000, 3000, 1000]


def test_escaping_never_pushes_a_section_over_the_limit_nor_splits_an_entity() -> None:
    blocks = blocks_for(Reply([Text("&" * 1000)]))  # 5000 characters once escaped

    slack_accepts(blocks)
    assert [len(b["text"]["text"]) for b in blocks] == [3000, 2000]
    assert all(b["text"]["text"].count("&amp;") * 5 == len(b["text"]["text"]) for b in blocks)


# Text heavy in what counts more than one once sent: "&" (5 as "&amp;"), "<" and ">" (4), emoji (2 in UTF-16).
_DENSE = st.text(alphabet=st.sampled_from(list("ab \n&<>é•😀🔴")), max_size=80)


@given(text=_DENSE, limit=st.integers(min_value=1, max_value=90), mrkdwn=st.booleans())
def test_a_cut_text_keeps_the_longest_beginning_that_fits_and_never_splits_an_entity(
    text: str, limit: int, mrkdwn: bool
) -> None:
    said = cut(text, limit, mrkdwn=mrkdwn)

    assert measure(said) <= limit
    if measure(text, mrkdwn=mrkdwn) <= limit:
        assert said == (escape(text) if mrkdwn else text)
    else:  # as many characters as fit beside the "…", by Slack's count once escaped: one more would not
        kept = max(n for n in range(len(text) + 1) if measure(text[:n], mrkdwn=mrkdwn) <= limit - 1)
        assert said == (escape(text[:kept]) if mrkdwn else text[:kept]).rstrip() + ELLIPSIS


@given(text=_DENSE.map(lambda text: text * 60))
def test_sections_of_dense_text_each_fit_split_no_entity_and_lose_nothing(text: str) -> None:
    blocks = blocks_for(Reply([Text(text)]))

    slack_accepts(blocks)
    said = [b["text"]["text"] for b in blocks]
    assert all("&" not in re.sub("&(amp|lt|gt);", "", piece) for piece in said)
    assert "".join("".join(said).split()) == "".join(escape(text).split())  # only breaks between pieces go


def test_more_than_10_fields_go_into_several_sections_and_long_values_are_cut() -> None:
    items = (*((f"Milestone {n}", f"Step {n} done") for n in range(23)), ("Last note", "x" * 5000))

    blocks = blocks_for(Reply([Fields(items)]))

    slack_accepts(blocks)
    assert [len(b["fields"]) for b in blocks] == [10, 10, 4]
    last = blocks[-1]["fields"][-1]["text"]
    assert len(last) == 2000 and last.endswith(ELLIPSIS) and last.startswith("*Last note*\nxxx")


def test_a_long_heading_is_cut_to_150_plain_characters() -> None:
    [header] = blocks_for(Reply([Heading("NO-4 · " + "Review *every* advert " * 20)]))

    assert header["text"]["type"] == "plain_text"
    assert len(header["text"]["text"]) == 150 and header["text"]["text"].endswith(ELLIPSIS)
    assert "*every*" in header["text"]["text"]  # plain_text: shown as written, not escaped


def test_a_long_context_line_is_cut_to_3000() -> None:
    [context] = blocks_for(Reply([Context("Why now: " + "overdue " * 1000)]))
    assert len(context["elements"][0]["text"]) == 3000


def test_button_text_is_cut_to_75_characters_even_in_emoji() -> None:
    reply = Reply(
        [Buttons((Button("Snooze " * 20, "snooze", "NO-1|1w"), Button("🌈" * 60, "rainbow", "NO-1")))]
    )

    [actions] = blocks_for(reply)

    slack_accepts([actions])
    labels = [e["text"]["text"] for e in actions["elements"]]
    assert len(labels[0]) == 75 and labels[0].endswith(ELLIPSIS)
    assert measure(labels[1]) <= 75  # each 🌈 is two UTF-16 units: at most 37 of them and the "…"
    assert labels[1] == "🌈" * 37 + ELLIPSIS


def test_a_button_value_over_2000_characters_is_a_programming_error() -> None:
    reply = Reply([Buttons((Button("Done", "status", "NO-1|" + "x" * 2000),))])
    with pytest.raises(ValueError, match="2000"):
        blocks_for(reply)


def test_an_action_id_over_255_characters_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="255"):
        blocks_for(Reply([Buttons((Button("Go", "a" * 252, "NO-1"),))]))


def test_more_than_25_buttons_go_into_several_actions_blocks() -> None:
    buttons = tuple(Button(f"NO-{n}", "show", f"NO-{n}") for n in range(60))

    blocks = blocks_for(Reply([Buttons(buttons)]))

    slack_accepts(blocks)
    assert [len(b["elements"]) for b in blocks] == [25, 25, 10]
    assert [e["value"] for b in blocks for e in b["elements"]] == [f"NO-{n}" for n in range(60)]


def test_choices_become_a_static_select_within_its_limits() -> None:
    choices = Choices(
        "Snooze for how long? " * 10,
        "snooze",
        (Choice("1 week", "NO-1|1w"), Choice("A very long time indeed " * 5, "NO-1|3m")),
    )

    [actions] = blocks_for(Reply([choices]))

    slack_accepts([actions])
    [select] = actions["elements"]
    assert select["type"] == "static_select" and select["action_id"] == "edi:snooze"
    assert len(select["placeholder"]["text"]) == 150
    assert [o["value"] for o in select["options"]] == ["NO-1|1w", "NO-1|3m"]
    assert select["options"][1]["text"]["text"] == ("A very long time indeed " * 3).rstrip() + " A…"


def test_choices_that_slack_cannot_hold_are_programming_errors() -> None:
    too_many = Choices("Pick", "pick", tuple(Choice(str(n), str(n)) for n in range(101)))
    long_value = Choices("Pick", "pick", (Choice("one", "x" * 151),))
    with pytest.raises(ValueError, match="100"):
        blocks_for(Reply([too_many]))
    with pytest.raises(ValueError, match="150"):
        blocks_for(Reply([long_value]))


def test_blank_text_is_left_out_rather_than_refused() -> None:
    assert blocks_for(Reply([Heading(" "), Text(""), Context("  "), Text("Noted.")])) == [
        {"type": "section", "text": {"type": "mrkdwn", "text": "Noted."}}
    ]


# -- fallback text
# ---------------------------------------------------------------------------------------------


def test_the_notification_text_is_never_empty_and_at_most_40000(amina_owns_300: Reply) -> None:
    assert text_for(Reply([])) == "A message from edibot"
    long = text_for(amina_owns_300)
    assert len(long) == 40_000 and long.startswith("Amina, 300 EDI actions need you\nNO-1 · ")
    assert message_for(Reply.say("Noted on NO-4.")) == {
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Noted on NO-4."}}],
        "text": "Noted on NO-4.",
    }


# -- forms as modals
# ---------------------------------------------------------------------------------------------


def test_marking_amber_without_a_reason_opens_a_modal_with_the_error_on_its_field() -> None:
    form = reason_form(
        "NO-2", "amber", error="Please say what's putting it at risk (a few words are enough)."
    )

    view = modal_for(form)

    assert check_view(view, home=False) == []
    assert view["type"] == "modal"
    assert view["callback_id"] == "edi:status"
    assert view["private_metadata"] == "NO-2|amber"
    assert view["title"] == {"type": "plain_text", "text": "NO-2 is Amber", "emoji": True}
    assert view["submit"]["text"] == "Save"
    [question] = view["blocks"]
    assert question["type"] == "input" and question["block_id"] == "reason"
    assert question["label"]["text"] == "What's putting it at risk?"
    assert question["element"] == {
        "type": "plain_text_input",
        "action_id": "reason",
        "multiline": True,
        "max_length": 1000,
    }
    assert question["hint"]["text"] == "⚠️ Please say what's putting it at risk (a few words are enough)."
    assert form_errors(form) == {"reason": "Please say what's putting it at risk (a few words are enough)."}
    assert form_errors(reason_form("NO-2", "amber")) == {}


def test_a_form_in_a_reply_is_not_a_block_but_the_modal_to_open() -> None:
    form = Form(
        "note",
        "Note on NO-4",
        (FormField("note", "Progress note", multiline=True, initial="Draft sent"),),
        state="NO-4",
    )
    reply = Reply([Text("What's the latest on NO-4?"), form])

    assert blocks_for(reply) == [
        {"type": "section", "text": {"type": "mrkdwn", "text": "What's the latest on NO-4?"}}
    ]
    view = modal_needed(reply)
    assert view is not None and check_view(view, home=False) == []
    assert [b["type"] for b in view["blocks"]] == ["section", "input"]
    assert view["blocks"][1]["element"]["initial_value"] == "Draft sent"
    assert modal_needed(Reply.say("Noted.")) is None


def test_a_modal_keeps_its_title_and_buttons_within_24_characters() -> None:
    form = Form(
        "status",
        "Why is NO-1234 at risk of slipping?",
        (FormField("reason", "Why?", initial="y" * 5000),),
        state="NO-1234|amber",
        submit_label="Save and tell the plan admins",
    )

    view = modal_for(form)

    assert check_view(view, home=False) == []
    assert view["title"]["text"] == "Why is NO-1234 at risk…"  # cut at 24, the space before "…" dropped
    assert view["submit"]["text"] == "Save and tell the plan…"
    assert len(view["blocks"][0]["element"]["initial_value"]) == 1000  # no longer than the field allows


def test_form_state_beyond_private_metadata_is_a_programming_error() -> None:
    form = Form("status", "Why?", (FormField("reason", "Why?"),), state="x" * 3001)
    with pytest.raises(ValueError, match="3000"):
        modal_for(form)
