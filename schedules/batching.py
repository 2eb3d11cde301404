"""Gathering planned nudges into messages: one per recipient at their working moment, at most a few a day."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from schedules.sending import Addressee, Channel, Recipient
from storage import outbox
from storage.models import Plan
from storage.outbox import WaitingNudge
from storage.reminding import ActionRow, action_rows, people_by_id, plans_by_id
from storage.rules.calendar import WEEKLY_CAP, batch_week_began, catch_up_send_at, goes_on_its_own_day
from storage.rules.ladder import answered_since


def queue_messages(
    session: Session,
    *,
    now: datetime,
    zone: ZoneInfo,
    daily_cap: int,
    weekly_cap: int = WEEKLY_CAP,
    facts: Mapping[int, ActionRow] | None = None,
    plans: Mapping[int, Plan] | None = None,
    known_people: Mapping[int, Recipient] | None = None,
) -> int:
    """Gather each recipient's due nudges into one message, in their working hours, at most `daily_cap` a day
    and `weekly_cap` in a person's reminder week (from one reminder day to the next: what the cap holds back
    goes in their next batch).

    Held nudges (snooze, pause, leave, the cap) wait here, unattached, and go out at the person's next
    working moment, never at midnight; an action appears once, at the step it has reached now. A channel
    (a plan's escalations) keeps office hours. `facts`, `plans` and `known_people` are what the sweep has read
    already (the actions it looked at, their plans, their owners): only the rest is read here.
    """
    waiting = outbox.nudges_waiting(session, due_by=now)
    by_recipient: dict[str, list[WaitingNudge]] = {}  # by recipient key
    for nudge in waiting:
        by_recipient.setdefault(
            f"#{nudge.channel}" if nudge.person_id is None else str(nudge.person_id), []
        ).append(nudge)
    # Read once what the loop below asks about: the people, their actions (with plans), today's messages.
    wanted = {int(key) for key in by_recipient if not key.startswith("#")}
    known = {i: p for i, p in (known_people or {}).items() if i in wanted}
    recipients: dict[str, Addressee] = {str(i): p for i, p in known.items()}
    recipients.update(
        (str(i), Recipient.of(p)) for i, p in people_by_id(session, wanted - set(known)).items()
    )
    for key in by_recipient:
        if key.startswith("#"):
            recipients[key] = Channel(key[1:], key)
    given = facts or {}
    actions = {nudge.action_id: given[nudge.action_id] for nudge in waiting if nudge.action_id in given}
    actions.update(action_rows(session, {nudge.action_id for nudge in waiting} - set(actions)))
    plans = plans_by_id(session, {action.plan_id for action in actions.values()}, known=plans)
    prefixes = {
        key: f"{key}:{now.astimezone(_zone_of(recipient, zone)).date().isoformat()}:"
        for key, recipient in recipients.items()
    }
    # Message keys count up from 1 each day, so "sent today" is how many of prefix1..prefixN exist.
    taken = outbox.message_keys_taken(
        session, [f"{prefix}{n}" for prefix in prefixes.values() for n in range(1, daily_cap + 1)]
    )
    week_began = {
        recipient.id: datetime.combine(
            batch_week_began(recipient.hours, now.astimezone(_zone_of(recipient, zone)).date()),
            time(0),
            tzinfo=_zone_of(recipient, zone),
        )
        for recipient in recipients.values()
        if isinstance(recipient, Recipient)
    }
    this_week = outbox.reminders_since(session, week_began)
    new_messages: dict[str, tuple[Addressee, list[WaitingNudge]]] = {}  # by message key
    dropped: list[int] = []  # nudges never to send (answered, finished, superseded)
    local_today = now.astimezone(zone).date()
    for key, nudges in by_recipient.items():
        recipient = recipients.get(key)
        if recipient is None or catch_up_send_at(recipient.hours, now, default_zone=zone) > now:
            continue  # not their working moment (night, weekend, bank holiday, leave, quiet hours): wait
        live = latest_per_action(nudges, actions, plans, today=local_today, zone=zone, dropped=dropped)
        if not live:
            continue
        prefix = prefixes[key]
        sent_today = sum(1 for n in range(1, daily_cap + 1) if f"{prefix}{n}" in taken)
        if sent_today >= daily_cap:
            continue
        if isinstance(recipient, Recipient) and this_week.get(recipient.id, 0) >= weekly_cap:
            # This week's are out: recurring reminders wait for the next reminder day; a deadline does not.
            live = [nudge for nudge in live if goes_on_its_own_day(nudge.step.kind)]
            if not live:
                continue
        new_messages[f"{prefix}{sent_today + 1}"] = (recipient, live)
    outbox.drop_nudges(session, dropped)
    if not new_messages:
        return 0
    rows = []
    for key, (recipient, live) in new_messages.items():
        row: dict[str, object] = dict(key=key, send_at=now, created_at=now)
        if isinstance(recipient, Channel):
            first = actions.get(live[0].action_id)
            plan = plans.get(first.plan_id) if first else None
            workspace = (
                plan.escalation_channel_workspace
                if plan and plan.escalation_channel == recipient.id
                else None
            )
            row.update(person_id=None, channel=recipient.id, channel_workspace=workspace)
        else:
            row.update(person_id=recipient.id, channel=None, channel_workspace=None)
        rows.append(row)
    ids = outbox.queue_messages(session, rows)
    outbox.attach_nudges(
        session, [(nudge.id, ids[key]) for key, (_, live) in new_messages.items() for nudge in live]
    )
    return len(new_messages)


def _zone_of(recipient: Addressee, default: ZoneInfo) -> ZoneInfo:
    return ZoneInfo(recipient.hours.timezone) if recipient.hours.timezone else default


def latest_per_action(
    nudges: list[WaitingNudge],
    actions: Mapping[int, ActionRow],
    plans: Mapping[int, Plan],
    *,
    today: date,
    zone: ZoneInfo,
    dropped: list[int],
) -> list[WaitingNudge]:
    """The nudges still worth sending, one per action (its latest step); answered or finished ones go in
    `dropped`."""
    latest: dict[int, WaitingNudge] = {}
    for nudge in nudges:
        action = actions.get(nudge.action_id)
        step = nudge.step
        if action is None or action.archived or action.status == "done" or answered_since(action, step, zone):
            dropped.append(nudge.id)  # answered or finished: never send it
            continue
        if plans[action.plan_id].paused or (action.snoozed_until and action.snoozed_until > today):
            continue  # held: kept for when the hold ends
        slot = -action.id if step.escalation else action.id
        previous = latest.get(slot)
        if previous is not None:
            stale, nudge = (previous, nudge) if previous.step.on <= step.on else (nudge, previous)
            dropped.append(stale.id)  # superseded by a later step of the same action
        latest[slot] = nudge
    return list(latest.values())
