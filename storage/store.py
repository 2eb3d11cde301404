"""The narrow interface the command layer uses: one unit of work, with questions and changes named plainly."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, bindparam, delete, exists, false, func, or_, select, true, update
from sqlalchemy.orm import Session, defer, selectinload
from sqlalchemy.sql import Select

from storage.models import (
    Action,
    ActionDecline,
    HistoryEntry,
    Nudge,
    OutboxMessage,
    Owner,
    Person,
    Plan,
    ProcessedDelivery,
    action_owners,
    person_roles,
)
from storage.outbox import queue_once
from storage.queries import (
    ActionLine,
    PlanCounts,
    action_by_former_ref,
    action_by_ref,
    actions_by_plan_ref,
    actions_matching,
    core_rows,
    history_of,
    open_lines_of,
    plan_admins,
    plan_named,
    plans_with_counts,
    refs_of_plan,
)
from storage.rules.owners import owner_key
from storage.rules.refs import next_numbered_ref

# A delivery is remembered for twice Slack's 5-minute signature window: a replay after that is refused by its
# stale signature, and Slack's last retry of an event comes about six minutes after the first try.
DELIVERIES_KEPT = timedelta(minutes=10)
_CHUNK = 500  # ids per IN (...), well inside SQLite's and PostgreSQL's parameter limits


# Asked on every request (who is speaking; was this delivery handled before?): built once with their values
# bound per call, so SQLAlchemy finds them in its compiled cache without walking a new statement each time.
_PERSON_BY_SLACK_ID = select(Person).where(Person.slack_id == bindparam("value"))
_PERSON_BY_TEAMS_ID = select(Person).where(Person.teams_id == bindparam("value"))
_PERSON_BY_EMAIL = select(Person).where(func.lower(Person.email) == bindparam("value"))
_PERSON_BY_KEY = select(Person).where(Person.key == bindparam("value"))
_DELIVERY_SEEN = select(ProcessedDelivery.key).where(ProcessedDelivery.key == bindparam("key"))


def person_key(name: str) -> str:
    return re.sub(r"\s+", " ", name).strip().casefold()


def _owned_by(person: Person) -> Select[tuple[int]]:
    """The ids of the actions whose owner roles `person` answers for."""
    return (
        select(action_owners.c.action_id)
        .join(person_roles, person_roles.c.owner_id == action_owners.c.owner_id)
        .where(person_roles.c.person_id == person.id)
    )


def _seen_by(person: Person | None) -> ColumnElement[bool]:
    """Which actions (joined to their plan) `person` may see: a restricted plan's only by its owners and
    admins."""
    if person is not None and person.is_admin:
        return true()
    if person is None:
        return Plan.restricted.is_(False)
    return or_(Plan.restricted.is_(False), Action.id.in_(_owned_by(person)))


class Store:
    """Everything handlers may ask of or change in the store, inside one transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # -- people -----------------------------------------------------------------------------------------
    def person_by_identity(
        self,
        *,
        name: str | None = None,
        slack_id: str | None = None,
        teams_id: str | None = None,
        email: str | None = None,
    ) -> Person | None:
        """The person a platform identity belongs to: by platform id first, then email, then name."""
        checks = []
        if slack_id:
            checks.append((_PERSON_BY_SLACK_ID, slack_id))
        if teams_id:
            checks.append((_PERSON_BY_TEAMS_ID, teams_id))
        if email:
            checks.append((_PERSON_BY_EMAIL, email.strip().lower()))
        if name:
            checks.append((_PERSON_BY_KEY, person_key(name)))
        for statement, value in checks:
            person = self.session.scalar(statement, {"value": value})
            if person is not None:
                return person
        return None

    def people_matching(
        self,
        *,
        name: str,
        email: str | None = None,
        slack_id: str | None = None,
        teams_id: str | None = None,
    ) -> list[Person]:
        """Everyone any of these details already belongs to (more than one means the details disagree)."""
        checks = [Person.key == person_key(name)]
        if email:
            checks.append(func.lower(Person.email) == email.strip().lower())
        if slack_id:
            checks.append(Person.slack_id == slack_id)
        if teams_id:
            checks.append(Person.teams_id == teams_id)
        return list(self.session.scalars(select(Person).where(or_(*checks)).order_by(Person.id)))

    def person_mentioned(self, mention: str) -> Person | None:
        """A person as someone typed them: "@Amina Khan", "amina@example.org", a Slack or Teams id."""
        text = mention.strip().removeprefix("@").strip()
        if not text:
            return None
        return self.session.scalar(
            select(Person).where(
                or_(
                    Person.key == person_key(text),
                    func.lower(Person.email) == text.lower(),
                    Person.slack_id == text,
                    Person.teams_id == text,
                )
            )
        )

    def add_person(
        self,
        *,
        name: str,
        now: datetime,
        email: str | None = None,
        timezone: str | None = None,
        slack_id: str | None = None,
        teams_id: str | None = None,
    ) -> Person:
        person = Person(
            name=name.strip(),
            key=person_key(name),
            email=email or None,
            timezone=timezone or None,
            slack_id=slack_id or None,
            teams_id=teams_id or None,
            created_at=now,
            is_admin=False,
            working_days="Mon-Fri",
        )
        self.session.add(person)
        self.session.flush()
        return person

    def link_identity(
        self,
        person: Person,
        *,
        slack_id: str | None = None,
        teams_id: str | None = None,
        slack_team_id: str | None = None,
    ) -> None:
        """Remember a platform id for someone first recognised by their email, unless it is already
        someone's."""
        if slack_id and person.slack_id is None and self.person_by_identity(slack_id=slack_id) is None:
            person.slack_id = slack_id
        if slack_team_id and person.slack_id == slack_id and person.slack_team_id != slack_team_id:
            person.slack_team_id = slack_team_id
        if teams_id and person.teams_id is None and self.person_by_identity(teams_id=teams_id) is None:
            person.teams_id = teams_id

    def everyone(self) -> Sequence[Person]:
        """The whole people directory, by name, with the roles each answers for."""
        return self.session.scalars(
            select(Person).options(selectinload(Person.roles)).order_by(Person.key)
        ).all()

    def people_to_match_on_slack(self) -> Sequence[Person]:
        """People Slack could tell us more about: no Slack id yet but an email, or a Slack id but no time
        zone."""
        return self.session.scalars(
            select(Person)
            .where(
                or_(
                    Person.slack_id.is_(None) & Person.email.is_not(None),
                    Person.slack_id.is_not(None) & Person.timezone.is_(None),
                )
            )
            .order_by(Person.id)
        ).all()

    def person(self, person_id: int) -> Person | None:
        return self.session.get(Person, person_id)

    def admins(self) -> Sequence[Person]:
        return plan_admins(self.session)

    def people_in_role(self, owner: Owner) -> Sequence[Person]:
        return self.session.scalars(
            select(Person).join(person_roles).where(person_roles.c.owner_id == owner.id).order_by(Person.name)
        ).all()

    def owner_named(self, name: str) -> Owner | None:
        return self.session.scalar(select(Owner).where(Owner.key == owner_key(name)))

    def owner_or_new(self, name: str) -> Owner:
        owner = self.owner_named(name)
        if owner is None:
            owner = Owner(name=re.sub(r"\s+", " ", name).strip(), key=owner_key(name))
            self.session.add(owner)
            self.session.flush()
        return owner

    def owners_like(self, name: str, *, limit: int = 5) -> Sequence[Owner]:
        return self.session.scalars(
            select(Owner)
            .where(Owner.key.contains(owner_key(name), autoescape=True))
            .order_by(Owner.name)
            .limit(limit)
        ).all()

    def unmapped_owners(self) -> Sequence[tuple[Owner, int]]:
        """Owner roles on live actions that no person is mapped to, with how many live actions each has.

        Asked from the roles' side: first the roles nobody holds (the owners table is small), then a count of
        only their actions, through the index on action_owners (owner_id, action_id). Its cost follows the
        actions of unmapped roles, not the size of the store (the weekly admin note asks it inside a sweep).
        """
        mapped = exists().where(person_roles.c.owner_id == Owner.id)
        unmapped = {owner.id: owner for owner in self.session.scalars(select(Owner).where(~mapped))}
        ids = sorted(unmapped)
        counts: dict[int, int] = {}
        for start in range(0, len(ids), _CHUNK):
            rows = self.session.execute(
                select(action_owners.c.owner_id, func.count())
                .join(Action, Action.id == action_owners.c.action_id)
                .where(
                    action_owners.c.owner_id.in_(ids[start : start + _CHUNK]),
                    Action.archived.is_(False),
                    Action.status != "done",
                )
                .group_by(action_owners.c.owner_id)
            )
            counts.update((owner_id, int(count)) for owner_id, count in rows)
        found = [(unmapped[owner_id], int(count)) for owner_id, count in counts.items() if count]
        return sorted(found, key=lambda row: (row[0].name, row[0].id))

    # -- actions ----------------------------------------------------------------------------------------
    def action(self, ref: str) -> Action | None:
        return action_by_ref(self.session, ref)

    def action_formerly(self, ref: str) -> Action | None:
        """The action an older import's reference for a plan's own still names ("WE-WB1" for "WB-1")."""
        return action_by_former_ref(self.session, ref)

    def refs_numbered(self, written: str, *, seen_by: Person | None) -> Sequence[str]:
        """The references of live actions their plan numbers `written` ("1.1" → LT-1.1, NO-1.1) that `seen_by`
        may see."""
        found = actions_by_plan_ref(self.session, written)
        if not found:
            return found
        return self.session.scalars(
            select(Action.ref).join(Plan).where(Action.ref.in_(found), _seen_by(seen_by)).order_by(Action.ref)
        ).all()

    def refs_starting(self, prefix: str, *, seen_by: Person | None, limit: int = 12) -> Sequence[str]:
        """Live references beginning with `prefix` that `seen_by` may see (none of a restricted plan of
        others)."""
        start = prefix.strip().upper()
        # A range rather than LIKE, so the unique index on ref serves it on SQLite and PostgreSQL alike.
        return self.session.scalars(
            select(Action.ref)
            .join(Plan)
            .where(Action.ref >= start, Action.ref < start + "\uffff")
            .where(Action.archived.is_(False), _seen_by(seen_by))
            .order_by(func.length(Action.ref), Action.ref)
            .limit(limit)
        ).all()

    def plan_prefixes(self, *, seen_by: Person | None) -> list[str]:
        """The reference prefixes ("NO") of the plans `seen_by` may see."""
        return [plan.ref_prefix.upper() for plan in self.plans_seen_by(seen_by)]

    def refs_of_plan_prefix(self, prefix: str, *, seen_by: Person | None) -> Sequence[str]:
        """Every live reference of the plan with this prefix ("LT") that `seen_by` may see, to correct a
        typo."""
        return self.session.scalars(
            select(Action.ref)
            .join(Plan)
            .where(func.upper(Plan.ref_prefix) == prefix.upper(), Action.archived.is_(False))
            .where(_seen_by(seen_by))
        ).all()

    def may_see(self, person: Person | None, action: Action) -> bool:
        """A restricted plan's actions are seen only by their owners and the plan admins; others by
        everyone."""
        return not action.plan.restricted or (
            person is not None and (person.is_admin or self.is_owner(person, action))
        )

    def actions_owned_by(self, person: Person, *, with_owners: bool = False) -> Sequence[Action]:
        """A person's open, live actions, soonest due first, undated last (with their owners when asked)."""
        owned = (
            select(action_owners.c.action_id)
            .join(person_roles, person_roles.c.owner_id == action_owners.c.owner_id)
            .where(person_roles.c.person_id == person.id)
        )
        # A list shows each action's line or card, never the plan's raw cells or import bookkeeping: not
        # loading those JSON columns (nor owners, for a list of lines) more than halves `/edi mine`'s time.
        options = [
            selectinload(Action.plan),
            defer(Action.raw_cells),
            defer(Action.imported_fields),
            defer(Action.group_path),
            defer(Action.warnings),
            defer(Action.how),
            defer(Action.outputs),
            defer(Action.description),
        ]
        if with_owners:
            options.append(selectinload(Action.owners))
        return self.session.scalars(
            select(Action)
            .where(Action.id.in_(owned), Action.archived.is_(False), Action.status != "done")
            .options(*options)
            .order_by(Action.due_date.is_(None), Action.due_date, Action.ref)
        ).all()

    def lines_owned_by(self, person: Person) -> list[ActionLine]:
        """What `/edi mine` lists: the person's open, live actions as one-line rows, in actions_owned_by's
        order, each saying whether they declined it."""
        return open_lines_of(self.session, person.id)

    def actions_matching(
        self,
        *,
        plan: str | None = None,
        theme: str | None = None,
        owner: str | None = None,
        overdue_on: date | None = None,
        due_before: date | None = None,
    ) -> Sequence[Action]:
        found = actions_matching(
            self.session, plan=plan, owner=owner, overdue_on=overdue_on, due_before=due_before
        )
        if theme:
            needle = theme.casefold()
            found = [a for a in found if needle in (a.theme or "").casefold()]
        return found

    def is_owner(self, person: Person, action: Action) -> bool:
        owner_ids = {owner.id for owner in action.owners}
        return any(role.id in owner_ids for role in person.roles)

    def plan(self, name: str) -> Plan | None:
        return plan_named(self.session, name)

    def renudge_plan(self, plan: Plan) -> None:
        """After a pause, let the sweep work out every action's next step again (held reminders go out
        once)."""
        self.session.execute(update(Action).where(Action.plan_id == plan.id).values(next_nudge_on=None))

    def renudge_role(self, owner: Owner) -> None:
        """Someone new answers for a role: the sweep looks at its actions again, so they hear where things
        stand."""
        owned = select(action_owners.c.action_id).where(action_owners.c.owner_id == owner.id)
        self.session.execute(update(Action).where(Action.id.in_(owned)).values(next_nudge_on=None))

    def decline(self, action: Action, person: Person, *, at: datetime, told: bool = True) -> None:
        """`person` says `action` isn't theirs: no more reminders to them about it (its planned ones are
        dropped). `told`: the plan admins are told now; else it waits for the next morning's gathering."""
        if self.session.get(ActionDecline, (action.id, person.id)) is None:
            self.session.add(
                ActionDecline(action_id=action.id, person_id=person.id, at=at, told_at=at if told else None)
            )
        self.session.execute(
            delete(Nudge).where(
                Nudge.action_id == action.id, Nudge.person_id == person.id, Nudge.message_id.is_(None)
            )
        )

    def declined_by(self, person: Person) -> set[int]:
        """The ids of the actions `person` said aren't theirs."""
        return set(
            self.session.scalars(select(ActionDecline.action_id).where(ActionDecline.person_id == person.id))
        )

    def declines_since(self, person: Person, since: datetime) -> int:
        """How many actions `person` has said aren't theirs since `since` (the admins heard of each)."""
        return int(
            self.session.scalar(
                select(func.count())
                .select_from(ActionDecline)
                .where(ActionDecline.person_id == person.id, ActionDecline.at >= since)
            )
            or 0
        )

    def admins_told_of_a_decline_since(self, since: datetime) -> bool:
        """Whether the plan admins have heard of any "not mine" since `since` (at once, or gathered)."""
        told = select(ActionDecline.action_id).where(ActionDecline.told_at >= since).limit(1)
        return self.session.scalar(told) is not None

    def declines_waiting(self, *, before: datetime) -> list[tuple[Person, Action]]:
        """Every "not mine" said before `before` that the plan admins have not heard of yet: who, about what
        (with its owners), oldest first."""
        rows = self.session.execute(
            select(Person, Action)
            .join(ActionDecline, ActionDecline.person_id == Person.id)
            .join(Action, Action.id == ActionDecline.action_id)
            .where(ActionDecline.told_at.is_(None), ActionDecline.at < before)
            .options(selectinload(Action.owners))
            .order_by(ActionDecline.at, Action.ref)
        )
        return [(person, action) for person, action in rows]

    def admins_told(self, declines: Sequence[tuple[Person, Action]], *, at: datetime) -> None:
        """These "not mine"s have reached the plan admins."""
        for person, action in declines:
            self.session.execute(
                update(ActionDecline)
                .where(ActionDecline.action_id == action.id, ActionDecline.person_id == person.id)
                .values(told_at=at)
            )

    def answers_for(self, person: Person, action: Action) -> bool:
        """Whether `action` is `person`'s to decline: they answer for one of its owner roles, or it names
        them."""
        named = owner_key(person.name)
        return self.is_owner(person, action) or any(owner.key == named for owner in action.owners)

    def has_declined(self, person: Person, action: Action) -> bool:
        return self.session.get(ActionDecline, (action.id, person.id)) is not None

    def forget_declines(self, action: Action) -> int:
        """Its owners changed: whoever said "not mine" before is asked again if they answer for it now."""
        gone = self.session.execute(delete(ActionDecline).where(ActionDecline.action_id == action.id))
        if gone.rowcount:  # type: ignore[attr-defined]
            action.next_nudge_on = None
        return int(gone.rowcount)  # type: ignore[attr-defined]

    def forget_declines_of(self, actions: Sequence[Action]) -> int:
        """Their owners changed (a re-import): forget_declines for many actions, two statements per 500."""
        by_id = {action.id: action for action in actions}
        ids = sorted(by_id)
        gone = 0
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            declined = set(
                self.session.scalars(
                    select(ActionDecline.action_id).where(ActionDecline.action_id.in_(chunk))
                )
            )
            if declined:
                result = self.session.execute(
                    delete(ActionDecline).where(ActionDecline.action_id.in_(declined))
                )
                gone += int(result.rowcount)  # type: ignore[attr-defined]
            for action_id in declined:
                by_id[action_id].next_nudge_on = None
        return gone

    def forget_declines_in_role(self, person: Person, owner: Owner) -> list[str]:
        """An admin mapped `person` to `owner` (again): their "not mine" on its actions no longer stands.

        Returns the refs they will hear about again."""
        owned = select(action_owners.c.action_id).where(action_owners.c.owner_id == owner.id)
        refs = list(
            self.session.scalars(
                select(Action.ref)
                .join(ActionDecline, ActionDecline.action_id == Action.id)
                .where(ActionDecline.person_id == person.id, ActionDecline.action_id.in_(owned))
                .order_by(Action.ref)
            )
        )
        if refs:
            self.session.execute(
                delete(ActionDecline).where(
                    ActionDecline.person_id == person.id, ActionDecline.action_id.in_(owned)
                )
            )
            self.renudge_role(owner)
        return refs

    def next_ref(self, plan: Plan) -> str:
        """A reference for an action added in chat: the plan's next number not already in use ("NO-16")."""
        ref, plan.next_number = next_numbered_ref(
            plan.ref_prefix, plan.next_number, taken=refs_of_plan(self.session, plan)
        )
        return ref

    def add_action(self, action: Action) -> None:
        """A new action, given its id at once (its history is written in the same transaction)."""
        self.session.add(action)
        self.session.flush()

    def next_position(self, plan: Plan) -> int:
        """Where an action added in chat goes in its plan's order: after the last."""
        last = self.session.scalar(select(func.max(Action.position)).where(Action.plan_id == plan.id))
        return 0 if last is None else last + 1

    def plans(self) -> Sequence[Plan]:
        return self.session.scalars(select(Plan).order_by(Plan.name)).all()

    def plans_seen_by(self, person: Person | None) -> Sequence[Plan]:
        """The plans `person` may see, by name: the open ones, and a restricted one if they own an action in
        it."""
        if person is not None and person.is_admin:
            return self.plans()
        owns_in_it = (
            exists().where(Action.plan_id == Plan.id, Action.id.in_(_owned_by(person)))
            if person is not None
            else false()
        )
        return self.session.scalars(
            select(Plan).where(or_(Plan.restricted.is_(False), owns_in_it)).order_by(Plan.name)
        ).all()

    def plans_with_counts(self, *, today: date) -> list[PlanCounts]:
        """Every plan's health: live, done and overdue actions and the RAG spread (the admins' home page)."""
        return plans_with_counts(self.session, today=today)

    # -- plans as a whole -------------------------------------------------------------------------------
    def archive_plan(self, plan: Plan, *, at: datetime, actor: str, surface: str) -> int:
        """Every live action of `plan` archived, each with a history entry, and its reminders stopped (the
        plan is paused); nothing is deleted, so `show` and the history still answer. Returns how many were
        archived."""
        archived = 0
        for action in self.session.scalars(select(Action).where(Action.plan_id == plan.id, ~Action.archived)):
            action.archived = True
            action.updated_at = at
            self.record(
                action,
                at=at,
                actor=actor,
                surface=surface,
                field="archived",
                from_value="no",
                to_value="yes",
                note=f"plan {plan.name} archived",
            )
            archived += 1
        plan.paused = True
        return archived

    # -- history and deliveries -------------------------------------------------------------------------
    def record(
        self,
        action: Action,
        *,
        at: datetime,
        actor: str,
        surface: str,
        field: str,
        from_value: str | None,
        to_value: str | None,
        note: str | None = None,
    ) -> None:
        self.session.add(
            HistoryEntry(
                action_id=action.id,
                at=at,
                actor=actor,
                surface=surface,
                field=field,
                from_value=from_value,
                to_value=to_value,
                note=note,
            )
        )

    def history(self, action: Action) -> Sequence[HistoryEntry]:
        return history_of(self.session, action)

    def refs_of_message(self, platform_message_id: str) -> list[str]:
        """The actions a sent reminder was about, in the order it listed them (a reply in its thread is about
        them)."""
        return list(
            self.session.scalars(
                select(Action.ref)
                .join(Nudge, Nudge.action_id == Action.id)
                .join(OutboxMessage, OutboxMessage.id == Nudge.message_id)
                .where(OutboxMessage.platform_message_id == platform_message_id)
                .group_by(Action.ref)
                .order_by(func.min(Nudge.id))
            )
        )

    def queue_notice(self, *, key: str, person_id: int, reply: dict[str, Any], at: datetime) -> None:
        """A message for someone other than the speaker, into the outbox under its own key, due at once."""
        queue_once(self.session, key=key, person_id=person_id, send_at=at, now=at, reply=reply)

    def delivery_seen(self, key: str) -> bool:
        """Whether a delivery (or a signed request) was handled before: asked at the start of every input, so
        on the connection rather than through the ORM (queries.core_rows)."""
        return core_rows(self.session, _DELIVERY_SEEN, {"key": key}).first() is not None

    def remember_delivery(self, key: str, *, at: datetime) -> None:
        """Remembers a delivery handled at `at`, and forgets those older than DELIVERIES_KEPT."""
        self.session.execute(delete(ProcessedDelivery).where(ProcessedDelivery.at < at - DELIVERIES_KEPT))
        self.session.add(ProcessedDelivery(key=key, at=at))
