"""`/edi …`: the slash command, answered in the HTTP response itself (ephemeral unless it is news for the
channel)."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from slack_bolt import Ack, App, BoltRequest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack.blocks import message_for
from bot.slack.edibot import SlackBot, plain_text_of, team_of
from bot.slack.gate import signed_delivery

log = logging.getLogger(__name__)


def register(app: App, bot: SlackBot) -> None:
    def edi(ack: Ack, command: dict[str, Any], client: WebClient, request: BoltRequest) -> None:
        said = "/edi " + plain_text_of(str(command.get("text") or ""))
        if bot.layer.anonymous_text(said):
            anonymous(ack, command, client, request, said)
            return
        actor = bot.actor(client, str(command["user_id"]), team_of(command))
        # Where it was typed: `/edi digest subscribe` with no #channel means this one.
        actor = replace(actor, channel=command.get("channel_id"), channel_name=command.get("channel_name"))
        outcome = bot.layer.handle(actor, said, replay_id=signed_delivery(request.headers))
        if outcome.duplicate:  # a replay of a command already answered
            ack()
            return
        reply = outcome.reply
        if reply.form is not None:
            try:
                bot.open_form(
                    client,
                    str(command.get("trigger_id") or ""),
                    reply,
                    where={"channel": command.get("channel_id")},
                )
            except SlackApiError as error:
                log.warning("views.open failed for /edi: %s", error.response.get("error"))
                ack(response_type="ephemeral", **message_for(reply))  # the words still ask the question
                return
            ack()
            return
        ack(response_type="ephemeral" if reply.private else "in_channel", **message_for(reply))
        bot.send_notices(outcome)

    def anonymous(
        ack: Ack, command: dict[str, Any], client: WebClient, request: BoltRequest, said: str
    ) -> None:
        """`/edi feedback …`: nobody is looked up (no users.info), nothing of where it was typed goes with
        it, and the answer (the receipt code) goes back in this HTTP response, seen by the sender alone."""
        actor = bot.anonymous_actor(str(command["user_id"]), team_of(command))
        outcome = bot.layer.handle(actor, said, replay_id=signed_delivery(request.headers))
        if outcome.duplicate:
            ack()
            return
        reply = outcome.reply
        if reply.form is not None:
            try:
                bot.open_form(client, str(command.get("trigger_id") or ""), reply, where={})
            except SlackApiError as error:
                log.warning("views.open failed for an anonymous form: %s", error.response.get("error"))
                ack(response_type="ephemeral", **message_for(reply))
                return
            ack()
            return
        ack(response_type="ephemeral", **message_for(reply))

    app.command("/edi")(edi)
