"""Buttons, modals and the message shortcut: presses and submissions become command-layer calls.

A press that changes an action updates the message it was pressed in (its buttons give way to "Marked Amber
by Amina — …"), so a reminder never offers stale buttons; a press that changes nothing (a refusal, "already
Green") is answered to the presser alone and leaves the message as it was.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import Ack, App, BoltRequest, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack.blocks import PREFIX, form_errors, form_handler, handler_action, message_for, modal_for
from bot.slack.edibot import SlackBot, marked_line, message_blocks, team_of, unpack_metadata, without_buttons
from bot.slack.gate import signed_delivery
from bot.slack.sender import error_code
from handlers.messages import Form, Outcome, Reply, Text

log = logging.getLogger(__name__)

NEW_ACTION_SHORTCUT = f"{PREFIX}new_action"  # the message shortcut's callback_id, as in manifest.yml


def register(app: App, bot: SlackBot) -> None:
    def press(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        action = body["actions"][0]
        value = action.get("value") or (action.get("selected_option") or {}).get("value") or ""
        user_id = str(body["user"]["id"])
        meant = handler_action(str(action["action_id"])) or ""
        if bot.layer.anonymous_button(meant):
            # "Give anonymous feedback": the form opens with nothing of who pressed it or where.
            outcome = bot.layer.press(bot.anonymous_actor(user_id, team_of(body)), meant, str(value))
            if outcome.reply.form is not None:
                _ask(bot, client, body, outcome.reply, where={}, respond=respond)
            else:
                _privately(respond, outcome.reply)
            return
        outcome = bot.layer.press(
            bot.actor(client, user_id, team_of(body)),
            handler_action(str(action["action_id"])) or "",
            str(value),
            delivery_id=action.get("action_ts"),
        )
        if outcome.duplicate:
            return
        container = body.get("container") or {}
        where = {
            "channel": container.get("channel_id"),
            "ts": container.get("message_ts"),
            "block": action.get("block_id"),
            "home": container.get("type") == "view",
            "ephemeral": bool(container.get("is_ephemeral")),
        }
        if outcome.reply.form is not None:
            _ask(bot, client, body, outcome.reply, where=where, respond=respond)
            return
        message = body.get("message") or {}
        _after(
            bot,
            client,
            outcome,
            user_id=user_id,
            team_id=team_of(body),
            where=where,
            blocks=message.get("blocks"),
            text=message.get("text"),
            respond=respond,
        )

    def submit(
        ack: Ack, body: dict[str, Any], client: WebClient, view: dict[str, Any], request: BoltRequest
    ) -> None:
        user_id = str(body["user"]["id"])
        state, where = unpack_metadata(str(view.get("private_metadata") or ""))
        form_id = form_handler(str(view.get("callback_id"))) or ""
        if bot.layer.anonymous_form(form_id):
            anonymous_submit(ack, body, view, request, form_id, state)
            return
        outcome = bot.layer.submit(
            bot.actor(client, user_id, team_of(body)),
            form_handler(str(view.get("callback_id"))) or "",
            state,
            form_values(view.get("state") or {}),
            replay_id=signed_delivery(request.headers),
        )
        if outcome.duplicate:  # a replay of a form already submitted
            ack()
            return
        form = outcome.reply.form
        if form is not None:
            errors = form_errors(form) or {form.fields[0].name: "Please check this."} if form.fields else {}
            ack(response_action="errors", errors=errors)
            return
        if not outcome.changed and not outcome.notices:
            ack(response_action="update", view=_answer_view(outcome.reply))
            return
        ack()
        blocks, text = None, None
        if where.get("channel") and where.get("ts") and where.get("block"):
            blocks, text = message_blocks(client, str(where["channel"]), str(where["ts"]))
        _after(
            bot,
            client,
            outcome,
            user_id=user_id,
            team_id=team_of(body),
            where=where,
            blocks=blocks,
            text=text,
            respond=None,
        )

    def anonymous_submit(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], request: BoltRequest, form_id: str, state: str
    ) -> None:
        """The feedback form: answered in the HTTP response (the receipt code replaces the form), so no
        Web API call carries who sent it; a refusal keeps the form open, with what they wrote in it."""
        outcome = bot.layer.submit(
            bot.anonymous_actor(str(body["user"]["id"]), team_of(body)),
            form_id,
            state,
            form_values(view.get("state") or {}),
            replay_id=signed_delivery(request.headers),
        )
        if outcome.duplicate:
            ack()
            return
        form = outcome.reply.form
        if form is not None:
            errors = form_errors(form) or {form.fields[0].name: "Please check this."}
            ack(response_action="errors", errors=errors)
            return
        ack(response_action="update", view=_answer_view(outcome.reply))

    def new_action(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        message = body.get("message") or {}
        channel = str((body.get("channel") or {}).get("id") or "")
        ts = str(message.get("ts") or body.get("message_ts") or "")
        outcome = bot.layer.new_action_form(
            bot.actor(client, str(body["user"]["id"]), team_of(body)),
            text=str(message.get("text") or ""),
            source=_permalink(client, channel, ts),
        )
        if outcome.reply.form is None:
            _privately(respond, outcome.reply)
            return
        _ask(bot, client, body, outcome.reply, where={"channel": channel}, respond=respond)

    def not_ours(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        action = (body.get("actions") or [{}])[0]
        log.warning("unknown Slack action %r pressed", action.get("action_id"))
        _privately(
            respond,
            Reply.say(
                "I don't recognise that button; it may be from an older version of me. "
                "I haven't changed anything."
            ),
        )

    def unknown_view(ack: Ack, view: dict[str, Any]) -> None:
        log.warning("unknown Slack view %r submitted", view.get("callback_id"))
        ack(
            response_action="update",
            view=_answer_view(
                Reply.say(
                    "I don't recognise this form; it may be from an older version of me. I haven't changed "
                    "anything."
                )
            ),
        )

    app.action(re.compile(rf"^{re.escape(PREFIX)}"))(press)
    app.action(re.compile(r".*"))(not_ours)
    app.view(re.compile(rf"^{re.escape(PREFIX)}"))(submit)
    app.view(re.compile(r".*"))(unknown_view)
    app.shortcut(NEW_ACTION_SHORTCUT)(new_action)


def form_values(state: dict[str, Any]) -> dict[str, str]:
    """A submitted modal's answers by field name: typed text, or the value of the option chosen."""
    values: dict[str, str] = {}
    for block_id, inputs in (state.get("values") or {}).items():
        for answer in (inputs or {}).values():
            if not isinstance(answer, dict):
                continue
            chosen = answer.get("selected_option") or {}
            value = answer.get("value") if answer.get("type") == "plain_text_input" else chosen.get("value")
            values[str(block_id)] = str(value or "")
    return values


def _ask(
    bot: SlackBot,
    client: WebClient,
    body: dict[str, Any],
    reply: Reply,
    *,
    where: dict[str, Any],
    respond: Respond,
) -> None:
    """Opens the reply's form; if Slack won't (the press was too long ago), says so and what to type
    instead."""
    try:
        bot.open_form(client, str(body.get("trigger_id") or ""), reply, where=where)
    except SlackApiError as error:
        code = error_code(error)
        log.warning("views.open failed: %s", code)
        words = [block for block in reply.blocks if not isinstance(block, Form)]
        _privately(
            respond,
            Reply(
                [
                    Text(
                        "I couldn't open the form (Slack said the moment had passed); press the button again."
                        if code == "expired_trigger_id"
                        else "I couldn't open the form; press the button again."
                    ),
                    *words,
                ]
            ),
        )


def _after(
    bot: SlackBot,
    client: WebClient,
    outcome: Outcome,
    *,
    user_id: str,
    team_id: str | None,
    where: dict[str, Any],
    blocks: list[dict[str, Any]] | None,
    text: str | None,
    respond: Respond | None,
) -> None:
    """Shows what a press or a submission did: in place in the message or Home tab, or to the person alone."""
    acted = outcome.changed or bool(outcome.notices)
    if where.get("home"):
        bot.show_home(client, user_id, team_id=team_id, note=marked_line(outcome))
    elif acted and where.get("ephemeral") and respond is not None:
        respond(replace_original=True, **message_for(outcome.reply))
    elif acted and blocks and where.get("block"):
        updated = without_buttons(blocks, marked_line(outcome), block_id=str(where["block"]))
        if updated is not None:
            client.chat_update(
                channel=str(where["channel"]),
                ts=str(where["ts"]),
                blocks=updated,
                text=text or marked_line(outcome),
            )
        else:
            _tell(client, user_id, outcome.reply, respond)
    else:
        _tell(client, user_id, outcome.reply, respond)
    bot.send_notices(outcome)


def _tell(client: WebClient, user_id: str, reply: Reply, respond: Respond | None) -> None:
    """To the person alone: an ephemeral answer where Slack gave us somewhere to send it, else a DM."""
    if respond is not None:
        _privately(respond, reply)
    else:
        client.chat_postMessage(channel=user_id, **message_for(reply))


def _privately(respond: Respond, reply: Reply) -> None:
    """An ephemeral answer for the person who pressed or asked; the message they pressed in stays as it
    was."""
    respond(response_type="ephemeral", replace_original=False, **message_for(reply))


def _permalink(client: WebClient, channel: str, ts: str) -> str:
    """A link to the message an action came from, kept in its history; its ids when Slack can't give one."""
    if not channel or not ts:
        return "a Slack message"
    try:
        return str(client.chat_getPermalink(channel=channel, message_ts=ts)["permalink"])
    except SlackApiError:
        return f"Slack message {ts} in {channel}"


def _answer_view(reply: Reply) -> dict[str, Any]:
    """A modal that only says something (a refusal, "already Green"), replacing the form it answers."""
    view = modal_for(Form(form_id="answer", title="edibot", fields=()), intro=reply.blocks or [Text("Done.")])
    view.pop("submit", None)
    view["close"] = {"type": "plain_text", "text": "Close", "emoji": True}
    return view
