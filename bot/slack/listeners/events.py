"""Events: a reply in the thread of a reminder (a DM), and the App Home tab being opened."""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.slack.blocks import message_for
from bot.slack.edibot import SlackBot, marked_line, plain_text_of, retire_buttons, team_of


def register(app: App, bot: SlackBot) -> None:
    def message(event: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
        # Edits, deletions, joins and other bots' messages are not someone talking to us.
        if (
            event.get("subtype")
            or event.get("bot_id")
            or event.get("channel_type") != "im"
            or not event.get("user")
        ):
            return
        actor = bot.actor(client, str(event["user"]), team_of(body))
        text = plain_text_of(str(event.get("text") or ""))
        thread = event.get("thread_ts")
        delivery = str(body.get("event_id") or "") or None
        if thread and thread != event.get("ts"):
            outcome = bot.layer.reply_to_message(
                actor, text, message_id=f"{event['channel']}:{thread}", delivery_id=delivery
            )
        else:
            outcome = bot.layer.handle(actor, text, delivery_id=delivery)
        if outcome.duplicate:
            return
        channel = str(event["channel"])
        client.chat_postMessage(channel=channel, thread_ts=thread, **message_for(outcome.reply))
        if thread and outcome.changed and outcome.ref:
            ref, line = outcome.ref, marked_line(outcome)
            bot.later(lambda: retire_buttons(client, channel=channel, ts=str(thread), ref=ref, line=line))
        bot.send_notices(outcome)

    def home_opened(event: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
        if event.get("tab", "home") == "home":
            bot.show_home(client, str(event["user"]), team_id=team_of(body))

    app.event("message")(message)
    app.event("app_home_opened")(home_opened)
