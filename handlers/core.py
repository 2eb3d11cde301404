"""The command layer's engine: who is speaking, one transaction per input, and the middleware around every
handler."""

from __future__ import annotations

import functools
import logging
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Concatenate, ParamSpec
from uuid import uuid4

from handlers.anonymity import Pseudonyms, Sender
from handlers.controls import ButtonMeaning, FormMeaning, Invocation
from handlers.errors import DATA_UNREACHABLE, CommandError, NotAllowed, UnknownPerson, cannot_save
from handlers.messages import Context, Notice, Outcome, Reply, Text, reply_as_data
from handlers.refs import may_change_action, resolve_action
from handlers.replies import understand
from storage.db import DATABASE_DOWN, Database, cannot_write, database_down
from storage.models import Action, Person
from storage.rules.bounds import BUTTON_VALUE_LIMIT, COMMAND_LIMIT, FORM_VALUE_LIMIT, NOTE_LIMIT, TITLE_LIMIT
from storage.rules.clock import Clock
from storage.rules.owners import list_owners
from storage.rules.text import clean_text
from storage.store import Store

log = logging.getLogger(__name__)
P = ParamSpec("P")


@dataclass(frozen=True)
class Actor:
    """Who is speaking, as the platform knows them; the layer finds them in the people directory."""

    surface: str  # "console", "slack", "teams", "cli"
    name: str | None = None
    slack_id: str | None = None
    teams_id: str | None = None
    email: str | None = None
    workspace: str | None = None  # the Slack workspace (team id) they spoke from
    # Where they spoke, when the platform says: the channel's id and name (a digest subscribes "this one").
    channel: str | None = None
    channel_name: str | None = None

    def describe(self) -> str:
        return self.name or self.email or self.slack_id or self.teams_id or "someone"


@dataclass
class Change:
    """One field of one action changed by a handler; the history middleware writes it down."""

    action: Action
    field: str
    from_value: str | None
    to_value: str | None
    note: str | None = None


@dataclass
class Request:
    store: Store
    now: datetime
    actor: Actor
    person: Person | None
    command: str
    words: list[str]  # the arguments, split like a shell would ("HR Manager" stays one)
    rest: str  # the arguments as typed
    free_text: str = ""  # what follows the action reference, exactly as typed: notes keep their apostrophes
    commands: Mapping[str, CommandSpec] = field(default_factory=dict)
    thread_ref: str | None = None
    action: Action | None = None  # resolved by the authorise middleware for commands about one action
    changes: list[Change] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    form_values: dict[str, str] = field(default_factory=dict)  # what was typed in a submitted form
    # An anonymous command's sender: who they are is never known to it (actor and person are empty), only
    # what they may still do today.
    sender: Sender | None = None

    @property
    def today(self) -> datetime:
        return self.now

    def require_person(self) -> Person:
        if self.person is None:
            raise UnknownPerson(
                f"I don't know you yet, {self.actor.describe()}: ask an EDI lead to add you to the people "
                "directory (edibot people import). I haven't changed anything."
            )
        return self.person

    def require_action(self) -> Action:
        """The action a command is about (`about_action`), which the authorise middleware has found."""
        assert self.action is not None, "the authorise middleware resolves the action first"
        return self.action

    def notify(self, person: Person, reply: Reply) -> None:
        self.notices.append(Notice(person_id=person.id, name=person.name, reply=reply))

    def change(self, action: Action, field: str, old: object, new: object, note: str | None = None) -> None:
        self.changes.append(
            Change(action, field, None if old is None else str(old), None if new is None else str(new), note)
        )


Handler = Callable[[Request], Reply]


@dataclass(frozen=True)
class CommandSpec:
    name: str
    usage: str
    summary: str
    handler: Handler
    about_action: bool = False  # the first argument is an action reference
    changes_action: bool = False  # only the action's owners and admins may run it
    admin_only: bool = False
    anyone: bool = False  # may be used by people not in the directory (help)
    aliases: tuple[str, ...] = ()
    # Run without knowing who asked (anonymous feedback): no identity, no history, no remembered delivery.
    anonymous: bool = False


def split_words(text: str) -> list[str]:
    """Arguments split like a shell would, forgiving an unbalanced quote or apostrophe."""
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


def _after_first_word(text: str) -> str:
    parts = text.strip().split(None, 1)
    return parts[1].strip() if len(parts) > 1 else ""


def too_long_to_read(text: str) -> str | None:
    """Why a command or a plain reply is refused before it is read: longer than COMMAND_LIMIT characters."""
    if len(text) <= COMMAND_LIMIT:
        return None
    return (
        f"That is {len(text):,} characters; I read at most {COMMAND_LIMIT:,} in one command or reply. Put "
        f"detail in a note (up to {NOTE_LIMIT:,} characters). I haven't changed anything."
    )


def delivery_key(actor: Actor, delivery_id: str) -> str:
    """How a platform's delivery is remembered, so a retry of it (same surface, same id) is recognised."""
    return f"{actor.surface}:{delivery_id}"


# -- middleware: written once, applied around every handler --------------------------------------------


def identify(store: Store, actor: Actor, *, remember: bool = True) -> Person | None:
    """The person speaking; someone first recognised by their email has their platform id remembered, and
    the platform they spoke on is kept as the one they last used (`remember=False`: nothing written)."""
    person = store.person_by_identity(
        name=actor.name, slack_id=actor.slack_id, teams_id=actor.teams_id, email=actor.email
    )
    if person is not None and remember:
        store.link_identity(
            person, slack_id=actor.slack_id, teams_id=actor.teams_id, slack_team_id=actor.workspace
        )
        # The chat platform they last used edibot on: where their reminders go if they are on both. Written
        # only when it changes, so a read stays a read.
        if actor.surface in ("slack", "teams") and person.last_surface != actor.surface:
            person.last_surface = actor.surface
    return person


def authorise(spec: CommandSpec, request: Request) -> None:
    """Who may do what: owners and admins change an action; admins run admin commands; restricted plans
    hide."""
    if spec.anyone:
        return
    person = request.require_person()
    if spec.admin_only and not person.is_admin:
        raise NotAllowed(f"Only a plan admin can use `/edi {spec.name}`. I haven't changed anything.")
    if not spec.about_action:
        return
    if not request.words:
        raise CommandError(f"Which action? Usage: `/edi {spec.usage}`")
    # resolve_action refuses an action of a restricted plan first, so only an open plan's owners are named
    # here.
    action = resolve_action(request.store, request.words[0], person=person)
    if spec.changes_action and not may_change_action(request.store, person, action):
        owners = list_owners((owner.name for owner in action.owners), none="nobody yet")
        raise NotAllowed(
            f"Only {action.ref}'s owners ({owners}) or a plan admin can change it, so I haven't. "
            f"If it should be yours, ask an EDI lead to map you to its owner."
        )
    request.action = action


def record_history(request: Request) -> None:
    person = request.require_person()
    for change in request.changes:
        request.store.record(
            change.action,
            at=request.now,
            actor=person.name,
            surface=request.actor.surface,
            field=change.field,
            from_value=change.from_value,
            to_value=change.to_value,
            note=change.note,
        )
        change.action.updated_at = request.now
        change.action.next_nudge_on = None  # the nudge sweep works out the next step again
        change.action.answered_at = request.now


def refused_without_data(
    method: Callable[Concatenate[CommandLayer, P], Outcome],
) -> Callable[Concatenate[CommandLayer, P], Outcome]:
    """A lost database file or a database server that can't be reached (DATABASE_DOWN) becomes a short apology
    for the person and an ERROR for the operator."""

    @functools.wraps(method)
    def guarded(layer: CommandLayer, /, *args: P.args, **kwargs: P.kwargs) -> Outcome:
        try:
            return method(layer, *args, **kwargs)
        except DATABASE_DOWN as error:
            if why := cannot_write(error):  # a full disk or a read-only file: reads still work, say so
                log.error(
                    "refused a change: the database %s (%s)", why, getattr(error, "orig", None) or error
                )
                return Outcome(Reply.say(cannot_save(why)))
            if not database_down(error):
                raise  # one statement failed: the adapter's fault handling reports it
            # The reason only: a statement's text and parameters would carry what the person wrote.
            log.error("refused a request: %s", getattr(error, "orig", None) or error)
            return Outcome(Reply.say(DATA_UNREACHABLE))

    return guarded


def queue_notices(store: Store, notices: list[Notice], *, origin: str, now: datetime) -> list[Notice]:
    """Each notice into the outbox under its own key, in the input's own transaction: it leaves when the
    change is kept, and never for a change rolled back. `origin` (the platform's delivery, or a fresh id) keys
    them."""
    queued = []
    for number, notice in enumerate(notices, start=1):
        key = f"notice:{origin}:{notice.person_id}:{number}"
        store.queue_notice(key=key, person_id=notice.person_id, reply=reply_as_data(notice.reply), at=now)
        queued.append(replace(notice, key=key))
    return queued


class CommandLayer:
    """Turns what someone typed, pressed or submitted into a change and a reply, the same on every
    platform."""

    def __init__(
        self,
        database: Database,
        clock: Clock,
        commands: dict[str, CommandSpec],
        *,
        views: dict[str, CommandSpec] | None = None,
        buttons: Mapping[str, ButtonMeaning] | None = None,
        forms: Mapping[str, FormMeaning] | None = None,
    ) -> None:
        self.database = database
        self.clock = clock
        self.commands = commands
        # What is shown or asked outside a command: "home", "new_action_form", "new_action".
        self.views = views or {}
        # What each button and form runs, by its action id and form id (declared beside what makes them).
        self.buttons = buttons or {}
        self.forms = forms or {}
        # Told the surface of each command run (a served edibot counts them for /metrics); nothing by default.
        self.counted: Callable[[str], object] = _uncounted
        self.pseudonyms = Pseudonyms()  # today's in-memory key for counting anonymous senders

    # -- what an adapter must not look up: who is behind an anonymous command, button or form ------------

    def anonymous_text(self, text: str) -> bool:
        """Whether this typed command runs anonymously: the adapter then looks up no one and logs no id."""
        stripped = clean_text(text).strip()
        if not stripped.lower().startswith("/edi"):
            return False
        name = stripped[4:].strip().partition(" ")[0].lower()
        spec = self.commands.get(name) or next((s for s in self.commands.values() if name in s.aliases), None)
        return spec is not None and spec.anonymous

    def anonymous_form(self, form_id: str) -> bool:
        return form_id in ANONYMOUS_FORMS

    def anonymous_button(self, action_id: str) -> bool:
        return action_id in ANONYMOUS_BUTTONS

    def handle(
        self,
        actor: Actor,
        text: str,
        *,
        thread_ref: str | None = None,
        delivery_id: str | None = None,
        replay_id: str | None = None,
    ) -> Outcome:
        """A slash command ("/edi amber LT-4 waiting on budget") or a plain reply in a reminder's thread."""
        stripped = clean_text(text).strip()
        if stripped.lower().startswith("/edi"):
            body = stripped[4:].strip()
            name, _, rest = body.partition(" ")
            return self.run(
                actor,
                name.lower() or "help",
                rest.strip(),
                thread_ref=thread_ref,
                delivery_id=delivery_id,
                replay_id=replay_id,
            )
        return self.reply_in_thread(actor, stripped, thread_ref=thread_ref, delivery_id=delivery_id)

    def knows(self, actor: Actor) -> bool:
        """Whether the people directory has this person (adapters refuse scripts naming strangers)."""
        with self.database.session() as session:
            return identify(Store(session), actor) is not None

    @refused_without_data
    def reply_in_thread(
        self, actor: Actor, text: str, *, thread_ref: str | None, delivery_id: str | None = None
    ) -> Outcome:
        """A plain reply to a reminder: acted on only when its meaning is clear; otherwise nothing changes."""
        text = clean_text(text)
        if refused := too_long_to_read(text):
            return Outcome(Reply.say(refused))
        if thread_ref is None:
            return Outcome(
                Reply.say(
                    "I only understand plain replies in the thread of a reminder. For anything else, start "
                    "with `/edi` — `/edi help` lists what I can do."
                )
            )
        meant = understand(text)
        if meant is None:
            if delivery_id and not self._first_delivery(actor, delivery_id):
                return Outcome(Reply(), duplicate=True)
            return Outcome(
                Reply(
                    [
                        Text(
                            f"I didn't change anything on {thread_ref}: I couldn't tell what you meant by "
                            f"“{text[:200]}”."
                        ),
                        Context(
                            "Try “amber - waiting on budget”, “done ✅”, “snooze 2 weeks”, "
                            f"“new date 30 June”, “not mine”, or `/edi note {thread_ref} TEXT`."
                        ),
                    ]
                )
            )
        return self.run(
            actor,
            meant.command,
            " ".join(meant.arguments),
            words=[thread_ref, *meant.arguments],
            thread_ref=thread_ref,
            delivery_id=delivery_id,
        )

    @refused_without_data
    def reply_to_message(
        self, actor: Actor, text: str, *, message_id: str, delivery_id: str | None = None
    ) -> Outcome:
        """A plain reply in the thread of a message we sent (its platform id): about the action it reminded
        of.

        A reminder that listed several actions needs the reply to name one ("LT-4 amber - waiting on budget"),
        and is said to list only those the person may see (a channel's reminder may hold a restricted plan's).
        """
        text = clean_text(text)
        with self.database.session() as session:
            store = Store(session)
            refs = store.refs_of_message(message_id)
            person = identify(store, actor)
            seen = [
                ref for ref in refs if (found := store.action(ref)) is None or store.may_see(person, found)
            ]
        if len(refs) > 1:
            # None of them theirs to see: the first is refused as restricted, naming only the thread's own.
            refs = seen or refs[:1]
        if not refs:
            return self.reply_in_thread(actor, text, thread_ref=None, delivery_id=delivery_id)
        if len(refs) == 1:
            return self.reply_in_thread(actor, text, thread_ref=refs[0], delivery_id=delivery_id)
        first, _, rest = text.strip().partition(" ")
        named = next((ref for ref in refs if ref.casefold() == first.strip(" :,.-").casefold()), None)
        if named is not None:
            return self.reply_in_thread(actor, rest.strip(" :,-"), thread_ref=named, delivery_id=delivery_id)
        if delivery_id and not self._first_delivery(actor, delivery_id):
            return Outcome(Reply(), duplicate=True)
        return Outcome(
            Reply(
                [
                    Text(
                        f"That reminder was about {len(refs)} actions ({', '.join(refs)}), so I haven't "
                        "changed anything: start your reply with the one you mean."
                    ),
                    Context(f"For example: “{refs[0]} amber - waiting on budget” or “{refs[-1]} done”."),
                ]
            )
        )

    def _first_delivery(self, actor: Actor, delivery_id: str) -> bool:
        """Records a delivery that changes nothing; False when it was seen before (a platform's retry)."""
        with self.database.session() as session:
            store = Store(session)
            key = delivery_key(actor, delivery_id)
            if store.delivery_seen(key):
                return False
            store.remember_delivery(key, at=self.clock.now())
            return True

    def home(self, actor: Actor) -> Outcome:
        """The person's home page: their actions by when they are due, and plan health for admins."""
        return self.run(actor, "home", "", spec=self.views["home"])

    def new_action_form(self, actor: Actor, *, text: str, source: str = "") -> Outcome:
        """The form that turns a message into a new action (plan admins only), its title taken from the
        message.

        A long message is welcome: only as much as a title holds is read from it (and a link's worth of where
        it came from), so it is never refused as too long to read.
        """
        words = [clean_text(text).strip()[:TITLE_LIMIT], clean_text(source)[:BUTTON_VALUE_LIMIT]]
        return self.run(actor, "add", "", spec=self.views["new_action_form"], words=words)

    def press(self, actor: Actor, action_id: str, value: str, *, delivery_id: str | None = None) -> Outcome:
        """A button: the same command the words would run, so the same checks apply."""
        action_id, value = clean_text(action_id), clean_text(value)
        if len(value) > BUTTON_VALUE_LIMIT:
            return Outcome(
                Reply.say(
                    f"That button carried more than I read ({BUTTON_VALUE_LIMIT:,} characters); I haven't "
                    "changed anything."
                )
            )
        ref, _, argument = value.partition("|")
        if not ref.strip():
            return Outcome(Reply.say("That button carried no action reference; I haven't changed anything."))
        meaning = self.buttons.get(action_id)
        invocation = meaning(ref, argument) if meaning else None
        if invocation is None:
            return Outcome(
                Reply.say(
                    f"I don't recognise that button ({action_id!r} with {value!r}); it may be from an older "
                    "version of me. I haven't changed anything."
                )
            )
        return self.invoke(actor, invocation, delivery_id=delivery_id)

    def submit(
        self,
        actor: Actor,
        form_id: str,
        state: str,
        values: dict[str, str],
        *,
        delivery_id: str | None = None,
        replay_id: str | None = None,
    ) -> Outcome:
        """A filled-in form (a Slack modal, Teams card inputs, a console prompt)."""
        form_id, state = clean_text(form_id), clean_text(state)
        values = {clean_text(name): clean_text(value) for name, value in values.items()}
        longest = max((len(value) for value in [state, *values.values()]), default=0)
        if longest > FORM_VALUE_LIMIT:
            return Outcome(
                Reply.say(
                    f"Your answer is {longest:,} characters; I read at most {FORM_VALUE_LIMIT:,}. I haven't "
                    "changed anything."
                )
            )
        meaning = self.forms.get(form_id)
        answer = meaning(state, values) if meaning else None
        if isinstance(answer, Reply):
            return Outcome(answer)
        if answer is None or (answer.view and answer.command not in self.views):
            return Outcome(
                Reply.say(f"I don't recognise that form ({form_id!r}); I haven't changed anything.")
            )
        return self.invoke(actor, answer, delivery_id=delivery_id, replay_id=replay_id)

    def invoke(
        self,
        actor: Actor,
        invocation: Invocation,
        *,
        delivery_id: str | None = None,
        replay_id: str | None = None,
    ) -> Outcome:
        """What a button or a form means, run as if typed."""
        spec = self.views[invocation.command] if invocation.view else None
        return self.run(
            actor,
            spec.name if spec else invocation.command,
            invocation.rest,
            words=list(invocation.words),
            spec=spec,
            values=dict(invocation.values),
            delivery_id=delivery_id,
            replay_id=replay_id,
        )

    @refused_without_data
    def run(
        self,
        actor: Actor,
        command: str,
        rest: str,
        *,
        words: list[str] | None = None,
        thread_ref: str | None = None,
        delivery_id: str | None = None,
        replay_id: str | None = None,
        spec: CommandSpec | None = None,
        values: dict[str, str] | None = None,
    ) -> Outcome:
        """Run one command in one transaction: any refusal rolls everything back and becomes the reply.

        `delivery_id`: a platform's id for a delivery it may retry (an event, a button press); once handled,
        a retry of it does nothing. `replay_id`: a request's identity when it can only recur as a replay (a
        signed slash command or form); remembered only if the command changed something or told someone,
        since a read asked twice may be answered twice, and remembering every read would cost it a write.

        What comes in is cleaned here (clean_text is idempotent, so a way in that cleaned it already loses
        nothing): every command, thread reply, button and form reaches the handlers through this door.
        """
        rest = clean_text(rest)
        words = None if words is None else [clean_text(word) for word in words]
        values = None if values is None else {name: clean_text(value) for name, value in values.items()}
        if refused := too_long_to_read(" ".join([command, rest] if words is None else words)):
            return Outcome(Reply.say(refused))
        spec = (
            spec
            or self.commands.get(command)
            or next((s for s in self.commands.values() if command in s.aliases), None)
        )
        if spec is not None and spec.anonymous:
            # Not counted for /metrics either: a counter's rise would date the feedback to the scrape.
            return self._run_anonymously(
                actor, spec, rest, words=words, values=values, delivery=delivery_id or replay_id
            )
        self.counted(actor.surface)
        attempt = functools.partial(
            self._run_once, actor, spec, command, rest, words=words, thread_ref=thread_ref, values=values
        )
        try:
            return attempt(once=delivery_id or replay_id, retry=delivery_id is not None)
        except DATABASE_DOWN as error:
            if not cannot_write(error):
                raise
        # A database that takes no writes (a full disk, a read-only file) may still answer a read: the same
        # command again without its bookkeeping (who spoke where, the delivery remembered). A command that
        # changes something is refused all the same, when its own write fails.
        return attempt(once=None, retry=False, remember=False)

    def _run_once(
        self,
        actor: Actor,
        spec: CommandSpec | None,
        command: str,
        rest: str,
        *,
        words: list[str] | None,
        thread_ref: str | None,
        once: str | None,
        retry: bool,
        values: dict[str, str] | None,
        remember: bool = True,
    ) -> Outcome:
        """`run`'s one transaction (`retry`: `once` is a platform's delivery id, kept even for a read)."""
        try:
            with self.database.session() as session:
                store = Store(session)
                key = delivery_key(actor, once) if once else None
                if key and store.delivery_seen(key):
                    return Outcome(Reply(), duplicate=True)
                if spec is None:
                    raise CommandError(
                        f"I don't know the command '{command}'. Try `/edi help` for what I can do. "
                        "I haven't changed anything."
                    )
                now = self.clock.now()
                request = Request(
                    store=store,
                    now=now,
                    actor=actor,
                    person=identify(store, actor, remember=remember),
                    command=spec.name,
                    words=split_words(rest) if words is None else words,
                    rest=rest,
                    thread_ref=thread_ref,
                    free_text=_after_first_word(rest) if words is None else " ".join(words[1:]).strip(),
                    commands=self.commands,
                    form_values=values or {},
                )
                authorise(spec, request)
                reply = spec.handler(request)
                if request.changes:
                    record_history(request)
                if key and (retry or request.changes or request.notices):
                    store.remember_delivery(key, at=now)
                notices = queue_notices(
                    store, request.notices, origin=key or f"{actor.surface}:{uuid4().hex}", now=now
                )
                return Outcome(
                    reply,
                    notices,
                    ref=request.action.ref if request.action else None,
                    changed=bool(request.changes),
                )
        except CommandError as error:
            return Outcome(Reply.say(str(error)))

    def _run_anonymously(
        self,
        actor: Actor,
        spec: CommandSpec,
        rest: str,
        *,
        words: list[str] | None,
        values: dict[str, str] | None,
        delivery: str | None,
    ) -> Outcome:
        """An anonymous command: the person is never looked up, nothing is recorded of them, nothing is
        logged.

        Who they are becomes a keyed hash for today's counts (handlers.anonymity) before anything else, and
        the handler sees only an empty actor: no name, no platform id, no channel. A retried delivery is
        recognised in memory by a hash of its id, never written down (a delivery's id and a signed request's
        timestamp would date the feedback to the second). A failure is logged by its kind alone: an
        exception's message or traceback could carry what was written, and its frames who wrote it.
        """
        now = self.clock.now()
        sender = self.pseudonyms.of(_identity_of(actor), now=now)
        if delivery and not self.pseudonyms.first_delivery(delivery_key(actor, delivery), now=now):
            return Outcome(Reply(), duplicate=True)
        try:
            with self.database.session() as session:
                request = Request(
                    store=Store(session),
                    now=now,
                    actor=Actor(surface=actor.surface),
                    person=None,
                    command=spec.name,
                    words=split_words(rest) if words is None else words,
                    rest=rest,
                    free_text=rest if words is None else " ".join(words).strip(),
                    commands=self.commands,
                    form_values=values or {},
                    sender=sender,
                )
                return Outcome(spec.handler(request))
        except CommandError as error:
            return Outcome(Reply.say(str(error)))
        except Exception as error:
            # Nothing was kept: today's allowance is given back, and the platform may deliver it again.
            sender.nothing_kept()
            if delivery:
                self.pseudonyms.forget_delivery(delivery_key(actor, delivery), now=now)
            return Outcome(Reply.say(_anonymous_failure(spec, error)))


def _anonymous_failure(spec: CommandSpec, error: Exception) -> str:
    """What an anonymous command that failed says; logged by the failure's kind alone, on purpose (see
    `_run_anonymously`)."""
    if isinstance(error, DATABASE_DOWN):
        if why := cannot_write(error):  # a full disk or a read-only file: said as it is for every command
            log.error("refused anonymous feedback: the database %s", why)
            return cannot_save(why)
        if database_down(error):
            log.error("an anonymous %s request failed: %s", spec.name, type(error).__name__)
            return DATA_UNREACHABLE
    log.error("an anonymous %s request failed: %s", spec.name, type(error).__name__)
    return ANONYMOUS_SORRY


def _uncounted(_surface: str) -> None:
    pass


def _identity_of(actor: Actor) -> str:
    """Everything that tells this sender from another, as one text to be hashed (and then forgotten)."""
    return "|".join(
        part or ""
        for part in (actor.surface, actor.workspace, actor.slack_id, actor.teams_id, actor.name, actor.email)
    )


ANONYMOUS_SORRY = "Sorry, something went wrong on my side and nothing was kept. Please try again later."

# The buttons and forms that run anonymous feedback (declared in handlers.feedback), so an adapter can tell
# before it looks anyone up.
ANONYMOUS_BUTTONS = frozenset({"feedback_give"})
ANONYMOUS_FORMS = frozenset({"feedback"})
