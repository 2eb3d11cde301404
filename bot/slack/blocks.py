"""Replies as Block Kit: the message model of `handlers.messages` translated into Slack blocks, views and
text.

Translation only: what a reply says is decided in `handlers/`; here it is only given Slack's shape, and every
output stays inside the limits Slack documents, so Slack never refuses a message for its size:

- 50 blocks in a message, 100 in a modal or a Home tab (https://docs.slack.dev/reference/block-kit/blocks).
  A longer reply is cut at a whole item (an action card starts at its heading) and its last block says
  "…and 12 more — `/edi mine` lists them all".
- section: text at most 3000 characters (longer text is split across sections, between lines where it can
  be), at most 10 fields (more are split across sections) of at most 2000 characters each
  (https://docs.slack.dev/reference/block-kit/blocks/section-block).
- header: plain_text only, at most 150 characters (https://docs.slack.dev/reference/block-kit/blocks/header-block).
- context: at most 10 elements; a text object holds at most 3000 characters
  (https://docs.slack.dev/reference/block-kit/blocks/context-block,
  https://docs.slack.dev/reference/block-kit/composition-objects/text-object).
- actions: at most 25 elements (more buttons go into another actions block); an action_id is at most 255
  characters and unique within its block (Slack answers `invalid_blocks` — "action_id already exists" —
  otherwise) (https://docs.slack.dev/reference/block-kit/blocks/actions-block).
- button: plain_text text at most 75 characters, value at most 2000
  (https://docs.slack.dev/reference/block-kit/block-elements/button-element).
- static_select: at most 100 options; placeholder plain_text at most 150; option text plain_text at most 75,
  option value at most 150 (https://docs.slack.dev/reference/block-kit/block-elements/select-menu-element,
  https://docs.slack.dev/reference/block-kit/composition-objects/option-object).
- modal: title, submit and close plain_text at most 24 characters, at most 100 blocks, private_metadata at
  most 3000, callback_id at most 255 (https://docs.slack.dev/reference/views/modal-views); input label
  plain_text at most 2000, hint at most 2000; plain_text_input max_length at most 3000
  (https://docs.slack.dev/reference/block-kit/blocks/input-block,
  https://docs.slack.dev/reference/block-kit/block-elements/plain-text-input-element).
- a message's top-level `text` is truncated by Slack beyond 40,000 characters
  (https://docs.slack.dev/reference/methods/chat.postMessage); we cut it there ourselves.

Words are cut with "…"; identifiers and values are never cut (a cut value would act on something else):
one that is too long is a programming error and raises ValueError. Lengths are measured in UTF-16 code
units, the stricter of the ways Slack may count, so an emoji never tips a text over a limit.

mrkdwn text (sections, fields, context) has `&`, `<` and `>` escaped as Slack asks
(https://docs.slack.dev/messaging/formatting-message-text#escaping): an action titled "<!channel> review"
is shown, never broadcast. Our model's own markup (`*bold*`, `code`) is Slack's, so it passes through.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from handlers.messages import Block, Button, Buttons, Choices, Context, Fields, Form, Heading, Reply, Text

SlackBlock = dict[str, Any]

MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
SECTION_TEXT = 3000
SECTION_FIELDS = 10
FIELD_TEXT = 2000
HEADER_TEXT = 150
CONTEXT_TEXT = 3000
ACTIONS_ELEMENTS = 25
ACTION_ID = 255
BLOCK_ID = 255
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
SELECT_OPTIONS = 100
OPTION_TEXT = 75
OPTION_VALUE = 150
PLACEHOLDER = 150
MODAL_TITLE = 24
MODAL_BUTTON = 24  # submit and close
PRIVATE_METADATA = 3000
CALLBACK_ID = 255
INPUT_LABEL = 2000
INPUT_HINT = 2000
INPUT_MAX_LENGTH = 3000
MESSAGE_TEXT = 40_000

PREFIX = "edi:"  # every action_id and callback_id we create, so the app can route ours and only ours
MORE_HINT = "`/edi mine` lists them all"
ELLIPSIS = "…"


# -- text ---------------------------------------------------------------------------------------------


def escape(text: str) -> str:
    """Text made safe for mrkdwn: `&`, `<`, `>` as entities, so nothing in it becomes a link or a mention."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _width(text: str, *, mrkdwn: bool) -> int:
    """How long Slack may count `text`, once escaped when it is mrkdwn (UTF-16 code units)."""
    sent = escape(text) if mrkdwn else text
    return len(sent) if sent.isascii() else len(sent.encode("utf-16-le")) // 2


# The most one character can count once sent: "&" escaped is "&amp;" (5); an astral character is 2.
_WIDEST = 5
# The characters that count more than one once sent, and by how much more: mrkdwn's escaped three, and any
# character outside the Basic Multilingual Plane (two UTF-16 code units).
_WIDER_MRKDWN = re.compile("[&<>\U00010000-\U0010ffff]")
_WIDER_PLAIN = re.compile("[\U00010000-\U0010ffff]")
_EXTRA = {"&": 4, "<": 3, ">": 3}


def _fitting(text: str, limit: int, *, mrkdwn: bool) -> int:
    """The longest prefix of `text` (in characters) that counts at most `limit` once sent.

    One scan for the few characters that count more than one: a prefix of n characters counts n plus their
    extra, so the prefix ends at the first such character that would not fit, or where the limit does.
    """
    if len(text) * _WIDEST <= limit:
        return len(text)
    extra = 0  # what the wider characters before this point add to their count of one each
    for wider in (_WIDER_MRKDWN if mrkdwn else _WIDER_PLAIN).finditer(text):
        at = wider.start()
        if at + extra >= limit:  # the limit falls before this character
            return limit - extra
        more = _EXTRA.get(wider.group(), 1)
        if at + extra + 1 + more > limit:  # this character would not fit whole: the prefix ends before it
            return at
        extra += more
    return min(len(text), limit - extra)


def measure(text: str, *, mrkdwn: bool = False) -> int:
    """How long `text` is by Slack's count, once escaped when it is mrkdwn."""
    return _width(text, mrkdwn=mrkdwn)


def cut(text: str, limit: int, *, mrkdwn: bool = False) -> str:
    """`text` as Slack gets it, at most `limit` long: ended with "…" when it had to be cut (never
    mid-entity)."""
    if len(text) * _WIDEST <= limit or _width(text, mrkdwn=mrkdwn) <= limit:
        return escape(text) if mrkdwn else text
    kept = text[: _fitting(text, limit - 1, mrkdwn=mrkdwn)]
    return (escape(kept) if mrkdwn else kept).rstrip() + ELLIPSIS


def split(text: str, limit: int) -> list[str]:
    """Long mrkdwn text as pieces of at most `limit` (escaped), broken between lines, else between words."""
    chunks: list[str] = []
    rest = text
    while rest:
        fits = _fitting(rest, limit, mrkdwn=True)
        if fits == len(rest):
            chunks.append(escape(rest))
            break
        window = rest[:fits]
        brk = window.rfind("\n")
        if brk < fits // 2:
            brk = window.rfind(" ")
        if brk < fits // 2:
            brk, skip = fits, 0  # one unbroken run: cut it where it must be cut
        else:
            skip = 1  # the newline or space it was broken at
        chunks.append(escape(rest[:brk].rstrip()))
        rest = rest[brk + skip :]
    return [chunk for chunk in chunks if chunk.strip()]


def _plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": cut(text, limit), "emoji": True}


def _mrkdwn(text: str, limit: int) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": cut(text, limit, mrkdwn=True)}


def _identifier(value: str, limit: int, what: str) -> str:
    if not value:
        raise ValueError(f"{what} is empty: Slack needs one")
    if measure(value) > limit:
        raise ValueError(f"{what} is {measure(value)} characters; Slack allows {limit}: {value[:60]!r}…")
    return value


# -- action ids -----------------------------------------------------------------------------------------


def slack_action_id(action_id: str, occurrence: int = 1) -> str:
    """The Slack action_id for a handler action: "edi:status"; its 2nd, 3rd… use in one block
    "edi:status:2"."""
    base = f"{PREFIX}{action_id}" if occurrence == 1 else f"{PREFIX}{action_id}:{occurrence}"
    return _identifier(base, ACTION_ID, "action_id")


def handler_action(slack_action_id: str) -> str | None:
    """What a pressed element means to the handlers ("edi:status:3" → "status"), or None when it isn't
    ours."""
    if not slack_action_id.startswith(PREFIX):
        return None
    name = slack_action_id.removeprefix(PREFIX).split(":", 1)[0]
    return name or None


# -- blocks -----------------------------------------------------------------------------------------------


def _header(block: Heading) -> list[SlackBlock]:
    if not block.text.strip():
        return []
    return [{"type": "header", "text": _plain(block.text, HEADER_TEXT)}]


def _sections(block: Text) -> list[SlackBlock]:
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": chunk}}
        for chunk in split(block.text, SECTION_TEXT)
    ]


def _fields(block: Fields) -> list[SlackBlock]:
    texts = [_mrkdwn(f"*{label}*\n{value}", FIELD_TEXT) for label, value in block.items]
    return [
        {"type": "section", "fields": texts[start : start + SECTION_FIELDS]}
        for start in range(0, len(texts), SECTION_FIELDS)
    ]


def _context(block: Context) -> list[SlackBlock]:
    if not block.text.strip():
        return []
    return [{"type": "context", "elements": [_mrkdwn(block.text, CONTEXT_TEXT)]}]


def _button(button: Button, action_id: str) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "button",
        "text": _plain(button.label or button.action_id, BUTTON_TEXT),
        "action_id": action_id,
    }
    if button.value:
        if measure(button.value) > BUTTON_VALUE:
            raise ValueError(
                f"button {button.label!r} carries a {measure(button.value)}-character value; "
                f"Slack allows {BUTTON_VALUE}"
            )
        element["value"] = button.value
    if button.style:
        element["style"] = button.style
    return element


def _actions(block: Buttons) -> list[SlackBlock]:
    seen: dict[str, int] = {}
    elements: list[dict[str, Any]] = []
    for button in block.buttons:
        seen[button.action_id] = seen.get(button.action_id, 0) + 1
        elements.append(_button(button, slack_action_id(button.action_id, seen[button.action_id])))
    return [
        {"type": "actions", "elements": elements[start : start + ACTIONS_ELEMENTS]}
        for start in range(0, len(elements), ACTIONS_ELEMENTS)
    ]


def _select(block: Choices) -> list[SlackBlock]:
    if not block.choices:
        raise ValueError(f"choices {block.label!r} has no options; Slack needs at least one")
    if len(block.choices) > SELECT_OPTIONS:
        raise ValueError(
            f"choices {block.label!r} has {len(block.choices)} options; Slack allows {SELECT_OPTIONS}"
        )
    options = [
        {
            "text": _plain(choice.label, OPTION_TEXT),
            "value": _identifier(choice.value, OPTION_VALUE, "option value"),
        }
        for choice in block.choices
    ]
    element = {
        "type": "static_select",
        "action_id": slack_action_id(block.action_id),
        "placeholder": _plain(block.label, PLACEHOLDER),
        "options": options,
    }
    return [{"type": "actions", "elements": [element]}]


def _translate(block: Block) -> list[SlackBlock]:
    if isinstance(block, Heading):
        return _header(block)
    if isinstance(block, Text):
        return _sections(block)
    if isinstance(block, Fields):
        return _fields(block)
    if isinstance(block, Context):
        return _context(block)
    if isinstance(block, Buttons):
        return _actions(block)
    if isinstance(block, Choices):
        return _select(block)
    return []  # a Form is asked in a modal, never inside a message: see modal_needed()


def _items(blocks: Iterable[Block]) -> list[list[SlackBlock]]:
    """The reply in whole items: each heading starts one (an action card, an escalation); before the first
    heading every block is an item of its own. Cutting between items never leaves a card without its
    buttons."""
    items: list[list[SlackBlock]] = []
    current: list[SlackBlock] | None = None
    for block in blocks:
        translated = _translate(block)
        if isinstance(block, Heading):
            current = list(translated)
            items.append(current)
        elif current is not None:
            current.extend(translated)
        else:
            items.append(translated)
    return [item for item in items if item]


def _fit(items: list[list[SlackBlock]], limit: int, more_hint: str) -> list[SlackBlock]:
    """At most `limit` blocks: whole items while they fit, then one context block saying how many were left
    out.

    An item too big for any message on its own is shown as far as it fits rather than not at all.
    """
    if sum(len(item) for item in items) <= limit:
        return [block for item in items for block in item]
    room = limit - 1
    shown: list[SlackBlock] = []
    whole = 0
    for item in items:
        if len(shown) + len(item) <= room:
            shown.extend(item)
            whole += 1
            continue
        if len(item) > room:
            shown.extend(item[: room - len(shown)])
        break
    left = len(items) - whole
    return [
        *shown,
        {"type": "context", "elements": [_mrkdwn(f"…and {left} more — {more_hint}", CONTEXT_TEXT)]},
    ]


def blocks_for(reply: Reply, *, more_hint: str = MORE_HINT) -> list[SlackBlock]:
    """A reply's blocks for chat.postMessage, chat.update or chat.postEphemeral: at most 50, each within its
    limits.

    Heading → header, Text → mrkdwn section(s), Fields → section fields, Context → context, Buttons → actions
    with buttons (action_id "edi:<action>", value and style kept), Choices → static_select in an actions
    block. A Form is left out (a message cannot ask it): `modal_needed(reply)` gives the modal to open
    instead."""
    return _fit(_items(reply.blocks), MESSAGE_BLOCKS, more_hint)


def text_for(reply: Reply) -> str:
    """The top-level `text`: what notifications and screen readers say. Never empty, at most 40,000
    characters."""
    text = reply.plain_text().strip()
    return cut(text, MESSAGE_TEXT, mrkdwn=True) if text else "A message from edibot"


def message_for(reply: Reply, *, more_hint: str = MORE_HINT) -> dict[str, Any]:
    """Keyword arguments for chat.postMessage / chat.update / chat.postEphemeral: blocks and fallback text."""
    return {"blocks": blocks_for(reply, more_hint=more_hint), "text": text_for(reply)}


def home_view(reply: Reply, *, more_hint: str = MORE_HINT) -> dict[str, Any]:
    """The App Home tab (views.publish) showing a reply: at most 100 blocks, cut like a message when
    longer."""
    blocks = _fit(_items(reply.blocks), VIEW_BLOCKS, more_hint)
    if not blocks:
        blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": escape(text_for(reply))}}]
    return {"type": "home", "callback_id": f"{PREFIX}home", "blocks": blocks}


# -- modals -----------------------------------------------------------------------------------------------


def modal_for(form: Form, *, intro: Sequence[Block] = ()) -> dict[str, Any]:
    """A form as a modal for views.open: one plain_text_input per field, the form's state in private_metadata.

    `intro` (e.g. "What's the latest on LT-4?") is shown above the questions. An error already on a field is
    shown as its hint; errors found on submit go back with `form_errors(form)` as response_action "errors".
    """
    questions: list[SlackBlock] = []
    for field in form.fields:
        element: dict[str, Any]
        if field.choices:
            element = _select(Choices(field.label, field.name, field.choices))[0]["elements"][0]
            element["action_id"] = _identifier(field.name, ACTION_ID, "form field name")
            chosen = next((o for o in element["options"] if o["value"] == field.initial), None)
            if chosen is not None:
                element["initial_option"] = chosen
        else:
            element = {
                "type": "plain_text_input",
                "action_id": _identifier(field.name, ACTION_ID, "form field name"),
                "multiline": field.multiline,
                "max_length": min(max(field.max_length, 1), INPUT_MAX_LENGTH),
            }
            if field.initial:
                element["initial_value"] = cut(field.initial, element["max_length"])
        question: SlackBlock = {
            "type": "input",
            "block_id": _identifier(field.name, BLOCK_ID, "form field name"),
            "label": _plain(field.label or field.name, INPUT_LABEL),
            "optional": not field.required,
            "element": element,
        }
        if field.error:
            question["hint"] = _plain(f"⚠️ {field.error}", INPUT_HINT)
        questions.append(question)
    if len(questions) > VIEW_BLOCKS:
        raise ValueError(
            f"form {form.form_id!r} asks {len(questions)} questions; a modal holds {VIEW_BLOCKS}"
        )
    intro_blocks = [block for item in _items(intro) for block in item][: VIEW_BLOCKS - len(questions)]
    if len(form.state) > PRIVATE_METADATA:
        raise ValueError(
            f"form {form.form_id!r} carries {len(form.state)} characters of state; Slack allows "
            f"{PRIVATE_METADATA}"
        )
    return {
        "type": "modal",
        "callback_id": _identifier(f"{PREFIX}{form.form_id}", CALLBACK_ID, "callback_id"),
        "private_metadata": form.state,
        "title": _plain(form.title or "edibot", MODAL_TITLE),
        "submit": _plain(form.submit_label or "Save", MODAL_BUTTON),
        "close": _plain("Cancel", MODAL_BUTTON),
        "blocks": [*intro_blocks, *questions],
    }


def form_errors(form: Form) -> dict[str, str]:
    """The refused fields as a view_submission answer wants them: {"response_action": "errors", "errors":
    …}."""
    return {field.name: field.error for field in form.fields if field.error}


def modal_needed(reply: Reply) -> dict[str, Any] | None:
    """The modal a reply asks to open (its Form, introduced by the rest of the reply), or None.

    Opening needs the trigger_id of the interaction the reply answers, which only the adapter has.
    """
    form = reply.form
    if form is None:
        return None
    return modal_for(form, intro=[block for block in reply.blocks if not isinstance(block, Form)])


def form_handler(callback_id: str) -> str | None:
    """The form a submitted modal answers ("edi:status" → "status"), or None when the view isn't ours."""
    return handler_action(callback_id)
