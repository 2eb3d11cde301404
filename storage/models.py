"""The action store's tables: plans, their actions and owners, and the history of every change."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, Literal

from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    bindparam,
    event,
    inspect,
    text,
    update,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, WriteOnlyMapped, mapped_column, relationship

from storage.rules.deadlines import DeadlineKind
from storage.rules.defaults import DIGEST_TIME, SEND_TIME, STALE_WEEKS
from storage.rules.ladder import Step
from storage.rules.rag import Rag
from storage.rules.status import Status

OutboxStatus = Literal["pending", "sent", "failed"]

# Explicit constraint names keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """Stored in UTC on every database and read back as an aware UTC time.

    SQLite keeps no offset and PostgreSQL answers in the session's zone; fixing both to UTC here
    means every reader converts to the viewer's time zone itself, and never gets it wrong.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("edibot stores only aware times; pass a datetime with a time zone")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


action_owners = Table(
    "action_owners",
    Base.metadata,
    Column("action_id", ForeignKey("actions.id", ondelete="CASCADE"), primary_key=True),
    Column("owner_id", ForeignKey("owners.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, nullable=False, default=0),
    # Owner first and the action too, so "which actions does this role own" is answered from the index alone
    # (the weekly note's count of unmapped roles' actions, a person's actions through their roles).
    Index("ix_action_owners_owner_id_action_id", "owner_id", "action_id"),
)


class Plan(Base):
    __tablename__ = "plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    ref_prefix: Mapped[str] = mapped_column(String(12), unique=True)
    source_name: Mapped[str | None] = mapped_column(String(500))
    restricted: Mapped[bool] = mapped_column(Boolean, default=False)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    next_number: Mapped[int] = mapped_column(Integer, default=1)
    # The reminder ladder: days before a deadline, when overdue turns into escalation, check-in spacing.
    reminder_days: Mapped[list[Any]] = mapped_column(JSON, default=lambda: [14, 3, 0])
    escalate_after_days: Mapped[int] = mapped_column(Integer, default=14)
    checkin_months: Mapped[int] = mapped_column(Integer, default=1)
    escalation_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    # Or a channel: the platform's channel id (Slack "C0123"; a name where that is all we were given), the
    # name
    # people know it by, and the Slack workspace it is in when edibot is in several. Set, it wins over the
    # person.
    escalation_channel: Mapped[str | None] = mapped_column(String(100))
    escalation_channel_name: Mapped[str | None] = mapped_column(String(200))
    escalation_channel_workspace: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    imported_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # When the nudge sweep first took the plan up (its admins had the summary then); None: not yet.
    adopted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    actions: Mapped[list[Action]] = relationship(back_populates="plan", order_by="Action.position")


class Owner(Base):
    """A role or team as a plan writes it ("HR Manager"); people are mapped to it later."""

    __tablename__ = "owners"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    key: Mapped[str] = mapped_column(String(300), unique=True)  # case- and space-folded name

    actions: Mapped[list[Action]] = relationship(secondary=action_owners, back_populates="owners")


# Which actions the sweep may look at (live and open), as each database's dialect writes the sweep's query.
LOOK_AT_SQLITE = "archived IS 0 AND status != 'done'"
LOOK_AT_POSTGRESQL = "archived IS false AND status != 'done'"


class Action(Base):
    __tablename__ = "actions"
    __table_args__ = (
        UniqueConstraint("plan_id", "match_key", name="uq_actions_plan_id_match_key"),
        Index("ix_actions_plan_archived_due", "plan_id", "archived", "due_date"),
        Index("ix_actions_due_date", "due_date"),
        # The sweep's candidates (storage.reminding): only live, open actions are indexed, so "never worked
        # out" (NULL) finds the new ones, not every done action, and the sweep's cost follows what is due
        # rather than the store (bench/bench_sweep_scale.py). The conditions are written as the sweep's
        # query writes them: SQLite and PostgreSQL use a partial index only for a query that says the same.
        Index(
            "ix_actions_to_look_at",
            "next_nudge_on",
            sqlite_where=text(LOOK_AT_SQLITE),
            postgresql_where=text(LOOK_AT_POSTGRESQL),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"))
    ref: Mapped[str] = mapped_column(String(40), unique=True)
    source_ref: Mapped[str | None] = mapped_column(String(40))  # the plan's own number, if it has one
    # How re-imports recognise this action: its source ref, or group path + normalised title.
    match_key: Mapped[str] = mapped_column(String(600))
    position: Mapped[int] = mapped_column(Integer, default=0)  # order in the plan

    group_path: Mapped[list[Any]] = mapped_column(JSON, default=list)  # [{"level": "theme", "value": "…"}]
    theme: Mapped[str | None] = mapped_column(String(500))  # top of group_path, for filtering
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    how: Mapped[str | None] = mapped_column(Text)
    outputs: Mapped[str | None] = mapped_column(Text)  # outputs, outcomes, success measures, KPIs

    raw_cells: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # header -> cell as written
    # What the last import read for each field; a re-import changes only fields whose cells changed,
    # so an update made in chat is not undone by re-importing an unchanged plan.
    imported_fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    source_location: Mapped[str | None] = mapped_column(String(100))  # "table 2, row 7"

    owners_text: Mapped[str | None] = mapped_column(Text)  # the owner cell as written
    deadline_text: Mapped[str | None] = mapped_column(Text)
    deadline_kind: Mapped[DeadlineKind] = mapped_column(String(12), default="unknown")
    start_date: Mapped[date | None] = mapped_column(Date)
    due_date: Mapped[date | None] = mapped_column(Date)
    recurrence: Mapped[str | None] = mapped_column(String(20))
    milestones: Mapped[list[Any]] = mapped_column(JSON, default=list)  # ISO dates
    warnings: Mapped[list[Any]] = mapped_column(JSON, default=list)

    rag: Mapped[Rag | None] = mapped_column(String(8))
    status: Mapped[Status] = mapped_column(String(12), default="open")
    progress_note: Mapped[str | None] = mapped_column(Text)
    snoozed_until: Mapped[date | None] = mapped_column(Date)
    # The next day the nudge sweep must look at this action; NULL means "work it out at the next sweep".
    next_nudge_on: Mapped[date | None] = mapped_column(Date)  # indexed by ix_actions_to_look_at
    # When an owner or admin last acted on it in chat (a button, a reply, a command); imports don't count.
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)

    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    plan: Mapped[Plan] = relationship(back_populates="actions")
    owners: Mapped[list[Owner]] = relationship(
        secondary=action_owners, back_populates="actions", order_by=action_owners.c.position
    )
    # Write-only: adding a change never loads the whole history (queries.history_of reads it).
    history: WriteOnlyMapped[HistoryEntry] = relationship(
        back_populates="action", cascade="all, delete-orphan", passive_deletes=True
    )


person_roles = Table(
    "person_roles",
    Base.metadata,
    Column("person_id", ForeignKey("people.id", ondelete="CASCADE"), primary_key=True),
    Column("owner_id", ForeignKey("owners.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_person_roles_owner_id", "owner_id"),
)


class Person(Base):
    """Someone who can be reminded and may act: mapped to the owner roles the plans name."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(200), unique=True)  # case- and space-folded name
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    timezone: Mapped[str | None] = mapped_column(String(64))
    working_days: Mapped[str] = mapped_column(String(20), default="Mon-Fri")
    slack_id: Mapped[str | None] = mapped_column(String(40), unique=True)
    slack_team_id: Mapped[str | None] = mapped_column(
        String(32)
    )  # their workspace, when edibot is in several
    teams_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    nation: Mapped[str] = mapped_column(
        String(20), default="england"
    )  # whose bank holidays: england, wales, scotland, northern-ireland
    send_time: Mapped[str] = mapped_column(String(5), default=SEND_TIME)  # local time reminders go out
    away_until: Mapped[date | None] = mapped_column(Date)  # reminders held until the day after
    # Daily quiet hours in local time, "12:00-13:00" ("22:00-07:00" spans midnight): reminders wait until they
    # end.
    quiet_hours: Mapped[str | None] = mapped_column(String(11))
    # The weekday (0 = Monday) their recurring reminders gather on; None: Monday, or their first working day.
    reminder_day: Mapped[int | None] = mapped_column(SmallInteger)
    # Where their reminders go when they are on both Slack and Teams: "slack", "teams", or None for the one
    # they last used edibot on (last_surface: "slack" or "teams", kept as they use it).
    reminders_on: Mapped[str | None] = mapped_column(String(8))
    last_surface: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    roles: Mapped[list[Owner]] = relationship(secondary=person_roles, order_by="Owner.name")


class TeamsConversation(Base):
    """A person's 1:1 chat with edibot in Teams, by their AAD object id: where their reminders are posted.

    Kept when the app is installed for them or they first write to it (possibly before the people directory
    knows them), or made by edibot when it first has something to say."""

    __tablename__ = "teams_conversations"

    aad_object_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(300))
    service_url: Mapped[str] = mapped_column(String(300))  # where the Bot Connector takes posts to it
    tenant_id: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ActionDecline(Base):
    """Someone said an action isn't theirs ("Not mine"): they get no reminders about it until an admin maps
    them to one of its roles again or changes its owners."""

    __tablename__ = "action_declines"
    __table_args__ = (Index("ix_action_declines_person_id", "person_id"),)

    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id", ondelete="CASCADE"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    # When the plan admins were told of it: at once (the day's first), or in the next morning's one message
    # gathering the rest of that day's; None while it waits for that message.
    told_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Welcome(Base):
    """A person was welcomed to a plan: the first sweep that found them answering for its actions sent them
    one message listing all of those, instead of a reminder per action. Once per person and plan."""

    __tablename__ = "welcomes"

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class Nudge(Base):
    """One reminder step of one action for one person; its unique key makes planning it twice impossible."""

    __tablename__ = "nudges"
    __table_args__ = (
        Index("ix_nudges_unsent", "message_id", "send_at"),
        # What an action's owners were sent, asked before escalating it (reminding.reminders_delivered).
        Index("ix_nudges_action_id", "action_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)  # action:step:occurrence:person (or #channel)
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id", ondelete="CASCADE"))
    # Whom it is for: a person, or (an escalation to the plan's channel) a channel id.
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    channel: Mapped[str | None] = mapped_column(String(100))
    # The step's stored name (Step.name: before-14, before-3, due, overdue, escalate, checkin, set-date),
    # its deadline or period, and the day it belongs to; `ladder_step` reads the three back as one Step.
    step: Mapped[str] = mapped_column(String(30))
    occurrence: Mapped[str] = mapped_column(String(40))
    step_on: Mapped[date] = mapped_column(Date)
    send_at: Mapped[datetime] = mapped_column(UtcDateTime)  # the person's next working moment on or after it
    message_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    @property
    def ladder_step(self) -> Step:
        return Step.from_name(self.step, occurrence=self.occurrence, on=self.step_on)


class OutboxMessage(Base):
    """A message to deliver exactly once: claimed with a lease, retried after a crash, marked sent with its
    id."""

    __tablename__ = "outbox"
    __table_args__ = (
        # The claim walks the due messages soonest first, ties by id (outbox.claim_due), and stops at its
        # limit.
        Index("ix_outbox_status_send_at_id", "status", "send_at", "id"),
        # Whether an earlier message of the same person or channel is still to go: one probe per candidate
        # (outbox._first_in_conversation), however deep the backlog.
        Index("ix_outbox_conversation", "status", "person_id", "channel", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)  # person:local-date:n, or #channel:date:n
    # A direct message to a person, or a post in a channel (its platform id, and its Slack workspace if
    # known).
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    channel: Mapped[str | None] = mapped_column(String(100))
    channel_workspace: Mapped[str | None] = mapped_column(String(32))
    send_at: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[OutboxStatus] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # claims so far: the fencing token of each try
    # Tries that failed (the platform's trouble, the network), counted against MAX_ATTEMPTS; a rate limit
    # isn't one.
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Set (committed) just before a try hands the message to the platform, cleared by the try's outcome:
    # still set when the message is claimed again, that try died mid-send and the platform may have it.
    tried_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    platform: Mapped[str | None] = mapped_column(String(20))
    platform_message_id: Mapped[str | None] = mapped_column(
        String(200), index=True
    )  # replies link back by it
    last_error: Mapped[str | None] = mapped_column(Text)
    # A note for a plan admin (unmapped roles, someone unreachable) carries its own text; reminders don't.
    body: Mapped[str | None] = mapped_column(Text)
    # A notice (a message the command layer wrote for someone else, e.g. the admins on "not mine") carries its
    # reply as plain data (handlers.messages.reply_as_data): it says what was true when it was written.
    reply: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class DeliveryPause(Base):
    """The platform said "wait until": no message is claimed before `until` (one row, id 1; outbox.pause).

    Kept in one row the claim reads, not written into every pending message: a 429 costs the same with
    500,000 messages waiting as with ten. Only ever moved later, so two workers' 429s never shorten a wait.
    """

    __tablename__ = "delivery_pause"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    until: Mapped[datetime] = mapped_column(UtcDateTime)


class DigestSubscription(Base):
    """A channel's weekly digest: which actions it covers (a plan, a theme, an owner), and when it goes out.

    One per channel: subscribing again changes it. The channel's week is decided once (`last_week`, an ISO
    week such as "2025-W45", set whether the digest was queued or a quiet week skipped), and the outbox key
    "digest:#channel:week" makes queuing it twice impossible.
    """

    __tablename__ = "digest_subscriptions"
    __table_args__ = (UniqueConstraint("channel", name="uq_digest_subscriptions_channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(100))  # the platform's channel id (Slack "C0123")
    channel_name: Mapped[str] = mapped_column(String(200))
    channel_workspace: Mapped[str | None] = mapped_column(String(32))
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"))
    theme: Mapped[str | None] = mapped_column(String(200))  # part of a theme's name, as `/edi list theme:`
    owner: Mapped[str | None] = mapped_column(String(200))  # part of an owner's name, as `/edi list owner:`
    weekday: Mapped[int] = mapped_column(SmallInteger, default=0)  # 0 = Monday
    send_time: Mapped[str] = mapped_column(String(5), default=DIGEST_TIME)  # the channel's local time
    timezone: Mapped[str | None] = mapped_column(String(64))  # None: the deployment's zone
    nation: Mapped[str] = mapped_column(String(20), default="england")  # whose bank holidays
    skip_quiet: Mapped[bool] = mapped_column(Boolean, default=False)
    stale_weeks: Mapped[int] = mapped_column(SmallInteger, default=STALE_WEEKS)
    last_week: Mapped[str | None] = mapped_column(String(10))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    plan: Mapped[Plan | None] = relationship()


class Leadership(Base):
    """Which scheduler process leads (a lease it renews), so two replicas never sweep at once."""

    __tablename__ = "leadership"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(100))
    lease_until: Mapped[datetime] = mapped_column(UtcDateTime)


class ProcessedDelivery(Base):
    """A platform delivery already handled, so a retried one (same id) is not acted on twice."""

    __tablename__ = "processed_deliveries"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class HistoryEntry(Base):
    """One change to one field of an action: who, when, from → to, why, and through which surface."""

    __tablename__ = "history"
    # By action for its history; by time alone for "what moved this week" across all actions (digests).
    __table_args__ = (Index("ix_history_action_id_at", "action_id", "at"), Index("ix_history_at", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(String(200))  # a person's name, or "import"
    surface: Mapped[str] = mapped_column(String(20))  # import, cli, console, slack, teams
    field: Mapped[str] = mapped_column(String(60))
    from_value: Mapped[str | None] = mapped_column(Text)
    to_value: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)

    action: Mapped[Action] = relationship(back_populates="history")


class ImportRun(Base):
    """A record of each import: which file, when, and what it changed."""

    __tablename__ = "imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    source_name: Mapped[str] = mapped_column(String(500))
    sha256: Mapped[str] = mapped_column(String(64))
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    problems: Mapped[list[Any]] = mapped_column(JSON, default=list)


# -- the diversity calendar: who hears of observances, and what the organisation changed ---------------------


class CalendarSubscription(Base):
    """A channel that hears of observances ahead (lead days before, and on the day), at its local morning."""

    __tablename__ = "calendar_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(100), unique=True)  # the platform's channel id
    channel_name: Mapped[str] = mapped_column(String(100))
    channel_workspace: Mapped[str | None] = mapped_column(String(32))
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)  # none: every category
    lead_days: Mapped[list[int]] = mapped_column(JSON, default=list)  # days before the first day; 0 the day
    working_days_only: Mapped[bool] = mapped_column(Boolean, default=False)
    timezone: Mapped[str | None] = mapped_column(String(64))  # None: the deployment's
    send_time: Mapped[str] = mapped_column(String(5), default=SEND_TIME)
    # The organisation's published calendar (.ics) whose events this channel hears of too (CalendarFeed).
    feed_url: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CalendarFeed(Base):
    """A published .ics calendar as last fetched: its text, when, and whether fetching it is failing."""

    __tablename__ = "calendar_feeds"

    url: Mapped[str] = mapped_column(String(1000), primary_key=True)
    body: Mapped[str | None] = mapped_column(Text)  # the last good copy, kept while fetching fails
    etag: Mapped[str | None] = mapped_column(String(200))
    checked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # the last try, good or bad
    failing_since: Mapped[datetime | None] = mapped_column(UtcDateTime)  # None: the last try worked
    last_error: Mapped[str | None] = mapped_column(Text)


class OrganisationObservance(Base):
    """A date of meaning the organisation added itself (`/edi calendar add`, or `edibot calendar import`)."""

    __tablename__ = "organisation_observances"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(30))
    tone: Mapped[str] = mapped_column(String(20))
    rule: Mapped[str] = mapped_column(String(300))  # as storage.rules.observances.dates.read_rule reads it
    description: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ObservanceSetting(Base):
    """What the organisation changed of one observance, shipped or its own: hidden, its wording,
    suggestions."""

    __tablename__ = "observance_settings"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    wording: Mapped[str | None] = mapped_column(Text)  # replaces the description in posts
    suggestions: Mapped[list[str]] = mapped_column(JSON, default=list)  # suggested actions or links


class ObservanceHold(Base):
    """A person holds non-urgent reminders during an observance they keep (a fast, a festival)."""

    __tablename__ = "observance_holds"

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(120), primary_key=True)


# -- anonymous feedback: nothing here names, or dates to less than a day, the person who wrote it -----------


class FeedbackSettings(Base):
    """Where anonymous feedback goes and how it is handled; one row, changed only by the responders."""

    __tablename__ = "feedback_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(100))  # the responders' restricted channel (platform id)
    channel_name: Mapped[str] = mapped_column(String(200))
    channel_workspace: Mapped[str | None] = mapped_column(String(32))
    # Where "You said, we did" is published: a wider channel; None until one is chosen.
    publish_channel: Mapped[str | None] = mapped_column(String(100))
    publish_channel_name: Mapped[str | None] = mapped_column(String(200))
    k: Mapped[int] = mapped_column(SmallInteger, default=5)  # the smallest group a count describes
    release_times: Mapped[list[str]] = mapped_column(JSON, default=list)  # "HH:MM", the deployment's zone
    retention_days: Mapped[int] = mapped_column(Integer, default=365)
    signposting: Mapped[str | None] = mapped_column(Text)  # how to report an incident formally, who helps
    last_release: Mapped[str | None] = mapped_column(
        String(16)
    )  # the release slot last done, "YYYY-MM-DD HH:MM"


class FeedbackResponder(Base):
    """Someone who reads and answers the feedback (the responders' group)."""

    __tablename__ = "feedback_responders"

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), primary_key=True)


class Feedback(Base):
    """One piece of feedback: its words, topic and day, never who sent it or when in the day.

    The key is random (its reference), so the table's order says nothing about the order it was written in;
    the receipt code's secret is kept only as a salted scrypt hash.
    """

    __tablename__ = "feedback"
    # SQLite keeps a hidden rowid in insertion order; without it, rows are stored by their random reference.
    __table_args__ = ({"sqlite_with_rowid": False},)

    ref: Mapped[str] = mapped_column(String(6), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    topic: Mapped[str | None] = mapped_column(String(200))
    incident: Mapped[bool] = mapped_column(Boolean, default=False)
    received_on: Mapped[date] = mapped_column(Date)
    released_on: Mapped[date | None] = mapped_column(Date)  # None: waiting for the next release
    code_salt: Mapped[str] = mapped_column(String(32))
    code_hash: Mapped[str] = mapped_column(String(64))
    action_id: Mapped[int | None] = mapped_column(ForeignKey("actions.id", ondelete="SET NULL"))
    published_on: Mapped[date | None] = mapped_column(Date)

    messages: Mapped[list[FeedbackMessage]] = relationship(
        order_by="FeedbackMessage.id", cascade="all, delete-orphan", passive_deletes=True
    )


class FeedbackMessage(Base):
    """A message in a feedback's thread: the submitter's anonymous follow-up, or the responders' answer."""

    __tablename__ = "feedback_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    feedback_ref: Mapped[str] = mapped_column(ForeignKey("feedback.ref", ondelete="CASCADE"), index=True)
    author: Mapped[str] = mapped_column(String(12))  # "submitter" or "responders"
    text: Mapped[str] = mapped_column(Text)
    on: Mapped[date] = mapped_column(Date)
    released: Mapped[bool] = mapped_column(Boolean, default=False)  # a follow-up waits for a release too


# Slack's OAuth installations (one row per workspace that installed edibot), in slack_sdk's own table shapes,
# so its SQLAlchemyInstallationStore and SQLAlchemyOAuthStateStore read and write them; Alembic creates them.
SLACK_INSTALLATIONS = "slack_installations"
SLACK_BOTS = "slack_bots"
SLACK_OAUTH_STATES = "slack_oauth_states"
SQLAlchemyInstallationStore.build_installations_table(Base.metadata, SLACK_INSTALLATIONS)
SQLAlchemyInstallationStore.build_bots_table(Base.metadata, SLACK_BOTS)
SQLAlchemyOAuthStateStore.build_oauth_states_table(Base.metadata, SLACK_OAUTH_STATES)
# Their tokens (and an incoming webhook's secret URL) are stored encrypted (bot/slack/installations.py), and
# a ciphertext is longer than the String(200) slack_sdk gives them: these columns are Text (migration 0008).
SLACK_SECRET_COLUMNS = (
    "bot_token",
    "bot_refresh_token",
    "user_token",
    "user_refresh_token",
    "incoming_webhook_url",
)
for _column in [*Base.metadata.tables[SLACK_INSTALLATIONS].c, *Base.metadata.tables[SLACK_BOTS].c]:
    if _column.name in SLACK_SECRET_COLUMNS:
        _column.type = Text()


# An action's owners are kept in the order its list holds them (`position`), however the list was changed:
# the importer's links are written with their positions, but a link the ORM writes for `owners.append` or
# `owners = [...]` would take the column's default, 0, and owners added in chat would then come back in
# whatever order the database likes (SQLite and PostgreSQL differ). After each flush, the positions of every
# action whose owners changed are written from the list.
_OWNERS_CHANGED = "edibot_owners_changed"


@event.listens_for(Session, "before_flush")
def _note_owner_changes(session: Session, _context: object, _instances: object) -> None:
    changed = [
        action
        for action in (*session.new, *session.dirty)
        if isinstance(action, Action) and inspect(action).attrs.owners.history.has_changes()
    ]
    if changed:
        session.info.setdefault(_OWNERS_CHANGED, []).extend(changed)


@event.listens_for(Session, "after_flush")
def _write_owner_positions(session: Session, _context: object) -> None:
    changed: list[Action] = session.info.pop(_OWNERS_CHANGED, [])
    rows = [
        {"action": action.id, "owner": owner.id, "place": place}
        for action in {id(a): a for a in changed}.values()
        for place, owner in enumerate(action.owners)
    ]
    if rows:
        session.execute(
            update(action_owners)
            .where(
                action_owners.c.action_id == bindparam("action"),
                action_owners.c.owner_id == bindparam("owner"),
            )
            .values(position=bindparam("place")),
            rows,
            execution_options={"synchronize_session": False},
        )
