"""Replies as Teams messages: the message model of `handlers.messages` as Adaptive Cards or markdown text.

Translation only: what a reply says is decided in `handlers/`; here it is given Teams' shape, within what
Teams renders and accepts (https://learn.microsoft.com/microsoftteams/platform/task-modules-and-cards/cards/
cards-reference, and the Bot Connector's message limits):

- Adaptive Card schema 1.5: the newest that Teams renders on desktop, web and mobile alike.
- A bot message may be about 28 KB, the card included; a card is kept under CARD_BYTES, leaving room for
  the activity around it. A longer reply is cut at a whole item (an action starts at its heading) and ends
  "…and 12 more — `edi mine` lists them all", as on Slack: a person with 300 actions gets a usable card.
- Buttons are `Action.Execute` (Universal Actions), in rows of at most BUTTONS_PER_ROW (Teams shows at most
  6 in an action set, fewer fit a phone): the press comes back as an `adaptiveCard/action` invoke, and the
  card the bot answers with replaces the one pressed, for everyone who sees it.
- A form is asked on the card itself: an input per field (its error shown under it), and a Save button whose
  press carries the form's id and state beside what was typed.

A reply that is only words (no fields, buttons or forms) goes as a markdown text message: that is how Teams
shows a chat answer, and it reads aloud and previews better than a card.
"""

from __future__ import annotations

import json
import re
from typing import Any

from handlers.messages import (
    Attachment,
    Block,
    Button,
    Buttons,
    Choices,
    Context,
    Fields,
    Form,
    Heading,
    Reply,
    Text,
)

CARD_VERSION = "1.5"
CARD_BYTES = 24 * 1024  # the card's JSON; the activity around it (ids, summary, text) stays well within 28 KB
BUTTONS_PER_ROW = 4
TITLE_CHARS = 60  # a button's title: Teams shows a short one whole on a phone
ADAPTIVE = "application/vnd.microsoft.card.adaptive"
MORE_HINT = "`edi mine` lists them all"

# What a press or a form carries back in Action.Execute's data, beside what was typed in the card's inputs.
# Prefixed, so that a form field named "value" or "state" can never be mistaken for ours.
OURS = "edibot_"
VALUE, FORM, STATE = "edibot_value", "edibot_form", "edibot_state"
CARD_REFS = "edibot_card"  # the actions a card shows, comma-separated: a press re-shows them as they stand
FORM_VERB = "edibot_form"  # the verb of every form's Save button; a button's verb is its action id

_SLACK_BOLD = re.compile(r"(?<![*\w])\*(?!\s)([^*\n]+?)(?<!\s)\*(?![*\w])")


def markdown(text: str) -> str:
    """Our model's markup (Slack's `*bold*`) as Teams' markdown (`**bold**`); `code` and _italics_ are the
    same."""
    return _SLACK_BOLD.sub(r"**\1**", text)


# A report in a Teams message: its Markdown, at most this many bytes of it, so the message stays within
# Teams' 28 KB for a bot's message with room for the words around it.
REPORT_BYTES = 20_000


def message_for(reply: Reply) -> dict[str, Any]:
    """The activity that says `reply`: a markdown text, or an Adaptive Card with a summary for
    notifications. A report file goes as its Markdown in the text (see `report_text`)."""
    words = [block for block in reply.blocks if isinstance(block, Text | Context | Heading)]
    if len(words) == len(reply.blocks):
        # Teams' markdown runs single line breaks together: each line is a paragraph of its own.
        lines = [line for block in words for line in block.text.splitlines() if line.strip()]
        text = "\n\n".join(markdown(line) for line in lines) or "Done."
        text += "".join(f"\n\n{report_text(file)}" for file in reply.files)
        return {"type": "message", "textFormat": "markdown", "text": text}
    return {
        "type": "message",
        "summary": summary(reply),
        "attachments": [{"contentType": ADAPTIVE, "content": card_for(reply)}],
    }


def report_text(file: Attachment) -> str:
    """A report in a Teams message: its Markdown, cut at a line within REPORT_BYTES.

    Why not a file: a Teams bot can send a file to a person only through a file consent card (they accept,
    Teams answers with an upload URL in their OneDrive, the bot uploads, then posts a file card) — a round
    trip through the person and their OneDrive that the outbox, which sends in one step, can't wait on. The
    Markdown says what the report says; the HTML and XLSX files come in Slack or from `edibot report`.
    """
    if file.media_type != "text/markdown":
        return f"({file.name} is a file; Teams gets reports as Markdown: `/edi report PLAN md`.)"
    text = file.content.decode("utf-8")
    if len(file.content) <= REPORT_BYTES:
        return text
    kept = file.content[:REPORT_BYTES].decode("utf-8", errors="ignore").rsplit("\n", 1)[0]
    return f"{kept}\n\n… the report goes on: `edibot report` on the server makes it whole, as a file."


def summary(reply: Reply) -> str:
    """The first line of the reply: what a notification or the chat list shows."""
    lines = [line for line in reply.plain_text().splitlines() if line.strip()]
    first = lines[0] if lines else "edibot"
    return first if len(first) <= 200 else first[:199] + "…"


def refs_on(reply: Reply) -> list[str]:
    """The actions a reply's buttons act on, in order (a button's value starts with its action's ref)."""
    refs: list[str] = []
    for button in reply.buttons:
        ref = button.value.partition("|")[0]
        if ref and ref not in refs:
            refs.append(ref)
    return refs


def card_for(reply: Reply, *, note: str | None = None, refs: list[str] | None = None) -> dict[str, Any]:
    """The reply as an Adaptive Card within CARD_BYTES; `note` (what a press did) is shown on top.

    Every button carries `refs`, the actions on the card (by default those its buttons act on), so that a
    press can show them all again as they stand."""
    items = _items(reply.blocks)
    top: list[dict[str, Any]] = [_text(note, weight="Bolder", color="Good")] if note else []

    def with_items(kept: int) -> dict[str, Any]:
        body = top + [element for block in _kept(items, kept) for element in _elements(block)]
        if kept < len(items):
            body.append(_text(f"…and {len(items) - kept} more — {MORE_HINT}", subtle=True))
        card = {
            "type": "AdaptiveCard",
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "version": CARD_VERSION,
            "body": body or [_text("Done.")],
            "msteams": {"width": "Full"},
        }
        _carrying(card, ",".join(refs_on(Reply(_kept(items, kept))) if refs is None else refs))
        return card

    whole = with_items(len(items))
    if _size(whole) <= CARD_BYTES:
        return whole
    # The most whole items that fit, found by halving (a card only grows with each item it keeps).
    fits, over = 0, len(items)
    while over - fits > 1:
        middle = (fits + over) // 2
        if _size(with_items(middle)) <= CARD_BYTES:
            fits = middle
        else:
            over = middle
    return with_items(fits)


def _kept(items: list[list[Block]], kept: int) -> list[Block]:
    return [block for item in items[:kept] for block in item]


def _carrying(card: dict[str, Any], refs: str) -> None:
    """Puts `refs` in the data of every Action.Execute on the card."""
    for element in card["body"]:
        for action in element.get("actions") or []:
            if action.get("type") == "Action.Execute":
                action.setdefault("data", {})[CARD_REFS] = refs


def _size(card: dict[str, Any]) -> int:
    return len(json.dumps(card, ensure_ascii=False).encode())


def _items(blocks: list[Block]) -> list[list[Block]]:
    """The reply's blocks grouped into items, each from a heading after the first (an action's card)."""
    items: list[list[Block]] = []
    for block in blocks:
        if not items or (isinstance(block, Heading) and any(isinstance(b, Heading) for b in items[-1])):
            items.append([])
        items[-1].append(block)
    return items


def _text(
    text: str,
    *,
    weight: str | None = None,
    size: str | None = None,
    subtle: bool = False,
    color: str | None = None,
) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "TextBlock", "text": markdown(text), "wrap": True}
    if weight:
        element["weight"] = weight
    if size:
        element["size"] = size
    if subtle:
        element["isSubtle"] = True
        element["size"] = "Small"
    if color:
        element["color"] = color
    return element


def _elements(block: Block) -> list[dict[str, Any]]:
    if isinstance(block, Heading):
        return [_text(block.text, weight="Bolder", size="Medium")]
    if isinstance(block, Text):
        return [_text(block.text)]
    if isinstance(block, Context):
        return [_text(block.text, subtle=True)]
    if isinstance(block, Fields):
        return [
            {
                "type": "FactSet",
                "facts": [{"title": label, "value": markdown(value)} for label, value in block.items],
            }
        ]
    if isinstance(block, Buttons):
        return [
            {"type": "ActionSet", "actions": [_execute(button) for button in row]}
            for row in _rows(block.buttons)
        ]
    if isinstance(block, Choices):
        return [
            {
                "type": "Input.ChoiceSet",
                "id": block.action_id,
                "label": block.label,
                "style": "compact",
                "choices": [{"title": choice.label, "value": choice.value} for choice in block.choices],
            },
            {
                "type": "ActionSet",
                "actions": [{"type": "Action.Execute", "title": "OK", "verb": block.action_id, "data": {}}],
            },
        ]
    return _form(block)


def _rows(buttons: tuple[Button, ...]) -> list[tuple[Button, ...]]:
    return [buttons[start : start + BUTTONS_PER_ROW] for start in range(0, len(buttons), BUTTONS_PER_ROW)]


def _execute(button: Button) -> dict[str, Any]:
    action: dict[str, Any] = {
        "type": "Action.Execute",
        "title": button.label[:TITLE_CHARS],
        "verb": button.action_id,
        "data": {VALUE: button.value},
    }
    if button.style == "primary":
        action["style"] = "positive"
    elif button.style == "danger":
        action["style"] = "destructive"
    return action


def _form(form: Form) -> list[dict[str, Any]]:
    elements: list[dict[str, Any]] = [_text(form.title, weight="Bolder")]
    for field in form.fields:
        if field.choices:
            element: dict[str, Any] = {
                "type": "Input.ChoiceSet",
                "style": "compact",
                "choices": [{"title": choice.label, "value": choice.value} for choice in field.choices],
            }
        else:
            element = {"type": "Input.Text", "isMultiline": field.multiline, "maxLength": field.max_length}
        element.update(
            {
                "id": field.name,
                "label": field.label,
                "isRequired": field.required,
                "errorMessage": field.error or f"{field.label} — please fill this in.",
            }
        )
        if field.initial:
            element["value"] = field.initial
        elements.append(element)
        if field.error:
            elements.append(_text(field.error, color="Attention"))
    elements.append(
        {
            "type": "ActionSet",
            "actions": [
                {
                    "type": "Action.Execute",
                    "title": form.submit_label,
                    "verb": FORM_VERB,
                    "style": "positive",
                    "data": {FORM: form.form_id, STATE: form.state},
                }
            ],
        }
    )
    return elements
