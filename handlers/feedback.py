"""Anonymous staff feedback: `/edi feedback` for everyone (send, read replies with a receipt code, follow
up), and `/edi responders` for the responders' group (answer, publish "You said, we did", link an action,
counts, settings).

`/edi feedback` runs anonymously (CommandSpec.anonymous): its handlers never see who asked, and what they keep
is the words, an optional topic and incident flag, the day, and a salted hash of the receipt code's secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, time

from handlers.commands.plan import CHANNEL
from handlers.controls import ButtonMeaning, FormMeaning, Invocation
from handlers.core import CommandSpec, Request
from handlers.errors import CommandError, NotAllowed
from handlers.messages import (
    Button,
    Buttons,
    Choice,
    Context,
    Fields,
    Form,
    FormField,
    Heading,
    Reply,
    Text,
    reply_as_data,
)
from handlers.new_action import add_action_from
from storage import feedback as stored
from storage import outbox
from storage.models import Action, Feedback, FeedbackMessage, FeedbackSettings, Person
from storage.rules.anonymity import (
    FEEDBACK_LIMIT,
    SUBMISSIONS_PER_DAY,
    MalformedCode,
    code_text,
    counts_shown,
    hash_secret,
    new_salt,
    new_secret,
    read_code,
    read_release_times,
    release_times_text,
    secret_matches,
    total_shown,
)
from storage.rules.bounds import CHANNEL_NAME_LIMIT

FEEDBACK_USAGE = (
    "Usage: `/edi feedback` (a form), `/edi feedback TEXT` (send it straight away), "
    "`/edi feedback check CODE` (read replies), `/edi feedback reply CODE TEXT` (add to what you said)."
)
RESPONDERS_USAGE = (
    "Usage (responders): `/edi responders answer REF TEXT`, `publish REF TEXT` (You said, we did), "
    '`link REF NO-4` or `link REF new plan:"Plan" TITLE`, `stats`, `settings`, '
    '`setup #channel [k 5] [release 09:00,15:00] [retention 365] [publish #channel] [signposting "…"] '
    "[responders @a @b]`."
)
NOT_SET_UP = (
    "Anonymous feedback isn't set up here yet: an EDI lead sets it up with `edibot feedback setup`. "
    "I haven't kept anything you wrote."
)
NO_SUCH_CODE = (
    "No feedback matches that code. Check it character by character (it was shown once, when the feedback "
    "was sent); feedback older than the retention period has been deleted. Nothing else is said about codes "
    "that don't match."
)
TOO_MANY_CHECKS = (
    "Too many codes that didn't match have been tried, so I'm not checking codes for now. Please try again "
    "later (tomorrow at the latest)."
)
RESERVED = ("check", "reply", "help")
INCIDENT_ANSWERS = {"yes": True, "no": False, "": False}


def who_sees_what(settings: FeedbackSettings) -> str:
    """The plain-words note shown before anything is sent."""
    return (
        f"*Who can see what.* Only the responders read your words, in #{settings.channel_name}, released in "
        f"batches ({_release_text(settings)}), mixed up, so the time it appears says nothing about when you "
        "sent it. edibot never stores your name, id, email, team or channel, or the time you sent it (only "
        f"the day). Feedback is deleted after {settings.retention_days} days. You get a receipt code, shown "
        "once: it is the only way to read replies."
    )


STYLE_NOTE = (
    "A gentle note: the way people write (words, phrasing, details only you would know) can sometimes "
    "identify them. Write what you're comfortable with."
)
PLATFORM_NOTE = (
    "Slack or Microsoft Teams itself can see who opened this form or typed this command; edibot cannot "
    "change that."
)


def _release_text(settings: FeedbackSettings) -> str:
    return " and ".join(settings.release_times) or "twice a day"


def _settings(request: Request) -> FeedbackSettings:
    found = stored.feedback_settings(request.store.session)
    if found is None:
        raise CommandError(NOT_SET_UP)
    return found


# -- everyone: /edi feedback (anonymous) ---------------------------------------------------------------------


def feedback(request: Request) -> Reply:
    """`/edi feedback [TEXT | check CODE | reply CODE TEXT]`, or the form's answers."""
    settings = _settings(request)
    if request.form_values:
        try:
            return _submit(request, settings, **_from_form(request.form_values))
        except CommandError as error:
            # The form again, saying what to fix: in Slack the modal stays open with what they wrote.
            return Reply([feedback_form(request, values=request.form_values, error=str(error))])
    words = request.words
    verb = words[0].lower() if words else ""
    if not words:
        return Reply(
            [
                Text(who_sees_what(settings)),
                Context(STYLE_NOTE),
                Context(PLATFORM_NOTE),
                Context("About a specific incident? " + (settings.signposting or _DEFAULT_SIGNPOSTING)),
                feedback_form(request),
            ]
        )
    if verb == "check":
        if len(words) < 2:
            raise CommandError(f"Which code? {FEEDBACK_USAGE}")
        return _check(request, settings, "".join(words[1:]))
    if verb == "reply":
        if len(words) < 3:
            raise CommandError(f"Give your code and what you want to add. {FEEDBACK_USAGE}")
        return _follow_up(request, words[1], request.free_text.split(None, 2)[2])
    if verb == "help":
        return Reply([Text(FEEDBACK_USAGE), Text(who_sees_what(settings)), Context(STYLE_NOTE)])
    return _submit(request, settings, text=request.free_text, topic="", incident="")


def _from_form(values: Mapping[str, str]) -> dict[str, str]:
    return {
        "text": values.get("text", ""),
        "topic": values.get("topic", ""),
        "incident": values.get("incident", ""),
    }


def feedback_form(
    request: Request, *, values: Mapping[str, str] | None = None, error: str | None = None
) -> Form:
    """The feedback form: the words, an optional topic from the plans' themes, and the incident flag."""
    themes = stored.themes(request.store.session)
    given = values or {}
    return Form(
        form_id="feedback",
        title="Anonymous feedback",
        fields=(
            FormField(
                "text",
                "Your feedback",
                multiline=True,
                max_length=FEEDBACK_LIMIT,
                initial=given.get("text", ""),
                error=error,
            ),
            *(
                (
                    FormField(
                        "topic",
                        "Topic (optional)",
                        required=False,
                        choices=tuple(Choice(theme[:75], theme[:150]) for theme in themes[:100]),
                        initial=given.get("topic", ""),
                    ),
                )
                if themes
                else ()
            ),
            FormField(
                "incident",
                "Is this about a specific incident? (optional)",
                required=False,
                choices=(Choice("Yes", "yes"), Choice("No", "no")),
            ),
        ),
        submit_label="Send anonymously",
    )


def _clean_text(text: str, *, what: str = "feedback") -> str:
    text = text.strip()
    if not text:
        raise CommandError(f"Your {what} is empty: write what you'd like to say. I haven't kept anything.")
    if len(text) > FEEDBACK_LIMIT:
        raise CommandError(
            f"Your {what} is {len(text):,} characters; I keep at most {FEEDBACK_LIMIT:,}. Shorten it, or "
            "send it in two parts. I haven't kept anything."
        )
    return text


def _topic(request: Request, topic: str) -> str | None:
    topic = topic.strip()
    if not topic:
        return None
    themes = stored.themes(request.store.session)
    found = next((theme for theme in themes if theme.casefold() == topic.casefold()), None)
    if found is None:
        listed = ", ".join(themes[:20]) or "none: the plans have no themes yet"
        raise CommandError(f"'{topic[:100]}' isn't one of the topics ({listed}). I haven't kept anything.")
    return found


def _incident(answer: str) -> bool:
    lowered = answer.strip().lower()
    if lowered not in INCIDENT_ANSWERS:
        raise CommandError("Answer yes or no to “about a specific incident”. I haven't kept anything.")
    return INCIDENT_ANSWERS[lowered]


def _over_cap() -> CommandError:
    return CommandError(
        f"You've sent {SUBMISSIONS_PER_DAY} pieces of feedback or follow-ups today, the most I take from one "
        "person in a day. Please send more tomorrow; I haven't kept this one. (I count without knowing who "
        "you are, and the count is forgotten at midnight.)"
    )


def _submit(request: Request, settings: FeedbackSettings, *, text: str, topic: str, incident: str) -> Reply:
    words = _clean_text(text)
    about = _topic(request, topic)
    is_incident = _incident(incident)
    assert request.sender is not None, "feedback runs anonymously"
    if not request.sender.may_send():
        raise _over_cap()
    session = request.store.session
    ref, secret, salt = stored.unused_ref(session), new_secret(), new_salt()
    session.add(
        Feedback(
            ref=ref,
            text=words,
            topic=about,
            incident=is_incident,
            received_on=request.now.date(),
            code_salt=salt,
            code_hash=hash_secret(secret, salt=salt),
        )
    )
    code = code_text(ref, secret)
    reply = Reply(
        [
            Text(
                "Thank you: your feedback is kept, anonymously. The responders read it after the next "
                f"release ({_release_text(settings)})."
            ),
            Text(f"*Your receipt code:* `{code}`"),
            Context(
                "Keep it somewhere safe: it is shown only now, and it is the only way to read replies "
                f"(`/edi feedback check {code}`) or add to what you said "
                f"(`/edi feedback reply {code} TEXT`). "
                "edibot keeps only a scrambled form of it and cannot show it again."
            ),
        ]
    )
    if is_incident:
        reply.add(Text(settings.signposting or _DEFAULT_SIGNPOSTING))
    return reply


_DEFAULT_SIGNPOSTING = (
    "About a specific incident: anonymous feedback helps us see patterns, but it can't investigate one case. "
    "To report it formally, or for support, speak to HR, your manager, or your Freedom to Speak Up guardian."
)


def _find_by_code(request: Request, code: str) -> Feedback:
    """The feedback this code opens; the same refusal for a wrong code as for none, and guessing is capped."""
    try:
        ref, secret = read_code(code)
    except MalformedCode as error:
        raise CommandError(f"{error} I haven't changed anything.") from None
    assert request.sender is not None, "feedback runs anonymously"
    if not request.sender.may_check():
        raise CommandError(TOO_MANY_CHECKS)
    found = stored.feedback(request.store.session, ref)
    # A missing reference costs the same hash as a wrong secret, so the answer's time says nothing either.
    matched = secret_matches(
        secret, salt=found.code_salt if found else "00" * 16, hashed=found.code_hash if found else ""
    )
    if found is None or not matched:
        request.sender.checked_wrong()
        raise CommandError(NO_SUCH_CODE)
    return found


def _check(request: Request, settings: FeedbackSettings, code: str) -> Reply:
    found = _find_by_code(request, code)
    reply = Reply([Heading(f"Your feedback ({_day(found.received_on)})"), Text(_quoted(found.text))])
    if found.released_on is None:
        reply.add(Context(f"Not yet released to the responders: it goes at {_release_text(settings)}."))
    for message in found.messages:
        who = "You added" if message.author == "submitter" else "The responders replied"
        reply.add(Text(f"*{who}* ({_day(message.on)}):\n{_quoted(message.text)}"))
    if not any(message.author == "responders" for message in found.messages):
        reply.add(Context("No reply from the responders yet."))
    if found.action_id is not None:
        action = request.store.session.get(Action, found.action_id)
        if action is not None:
            reply.add(Text(f"It led to an action in the plan: {action.ref} — {action.title}"))
    if found.published_on is not None:
        reply.add(Context(f"A “You said, we did” about it was published on {_day(found.published_on)}."))
    return reply


def _follow_up(request: Request, code: str, text: str) -> Reply:
    words = _clean_text(text, what="follow-up")
    found = _find_by_code(request, code)
    assert request.sender is not None
    if not request.sender.may_send():
        raise _over_cap()
    found.messages.append(
        FeedbackMessage(author="submitter", text=words, on=request.now.date(), released=False)
    )
    return Reply.say(
        "Added to your feedback, anonymously. The responders read it with the next release; "
        "`/edi feedback check CODE` shows their replies."
    )


def _day(day: date) -> str:
    return f"{day:%-d %B %Y}"


def _quoted(text: str) -> str:
    return "\n".join(f"> {line}" for line in text.splitlines() or [""])


# -- what the responders' channel reads ----------------------------------------------------------------------


def released_post(piece: Feedback, *, follow_ups: list[FeedbackMessage]) -> Reply:
    """One piece of feedback as released to the responders' channel, with what they can do about it."""
    fields = [("Received", _day(piece.received_on))]
    if piece.topic:
        fields.append(("Topic", piece.topic))
    if piece.incident:
        fields.append(("About", "a specific incident"))
    reply = Reply([Heading(f"Anonymous feedback FB-{piece.ref}"), Fields(tuple(fields))], private=False)
    reply.add(Text(_quoted(piece.text)))
    for message in follow_ups:
        reply.add(Text(f"*Follow-up* ({_day(message.on)}):\n{_quoted(message.text)}"))
    reply.add(_responder_buttons(piece.ref))
    return reply


def follow_up_post(piece: Feedback, follow_ups: list[FeedbackMessage]) -> Reply:
    """Follow-ups to feedback released before, released on their own."""
    reply = Reply([Heading(f"Follow-up to anonymous feedback FB-{piece.ref}")], private=False)
    for message in follow_ups:
        reply.add(Text(f"*Follow-up* ({_day(message.on)}):\n{_quoted(message.text)}"))
    reply.add(_responder_buttons(piece.ref))
    return reply


def _responder_buttons(ref: str) -> Buttons:
    return Buttons(
        (
            Button("Reply", "feedback_answer", f"{ref}|", style="primary"),
            Button("You said, we did", "feedback_publish", f"{ref}|"),
            Button("Link to an action", "feedback_link", f"{ref}|"),
        )
    )


# -- responders: /edi responders -----------------------------------------------------------------------------


def _responder(request: Request) -> Person:
    person = request.require_person()
    if not stored.is_responder(request.store.session, person):
        raise NotAllowed(
            "Only the feedback responders can do that. I haven't changed anything. (Anyone can send feedback "
            "with `/edi feedback`.)"
        )
    return person


def responders_command(request: Request) -> Reply:
    words = request.words
    verb = words[0].lower() if words else ""
    if request.form_values:
        return _from_responders_form(request)
    if verb == "form" and len(words) == 3 and words[1] in _RESPONDER_FORMS:
        return responders_form(request)
    handlers = {
        "answer": _answer,
        "publish": _publish,
        "link": _link,
        "stats": _stats,
        "settings": _show_settings,
        "setup": _setup,
    }
    if verb not in handlers:
        raise CommandError(RESPONDERS_USAGE)
    _settings(request)
    _responder(request)
    return handlers[verb](request, words[1:])


def _piece(request: Request, ref: str) -> Feedback:
    found = stored.feedback(request.store.session, ref.upper().removeprefix("FB-"))
    if found is None:
        raise CommandError(
            f"There is no feedback FB-{ref.upper().removeprefix('FB-')[:10]} (it may have been deleted after "
            "the retention period). I haven't changed anything."
        )
    return found


def _rest_after(request: Request, count: int) -> str:
    parts = request.free_text.split(None, count)
    return parts[count] if len(parts) > count else ""


def _answer(request: Request, words: list[str]) -> Reply:
    if len(words) < 2:
        raise CommandError(RESPONDERS_USAGE)
    piece = _piece(request, words[0])
    text = _clean_text(_rest_after(request, 1), what="reply")
    piece.messages.append(
        FeedbackMessage(author="responders", text=text, on=request.now.date(), released=True)
    )
    return Reply.say(f"Replied to FB-{piece.ref}: whoever sent it reads your reply with their receipt code.")


def _publish(request: Request, words: list[str]) -> Reply:
    if len(words) < 2:
        raise CommandError(RESPONDERS_USAGE)
    piece = _piece(request, words[0])
    settings = _settings(request)
    text = _clean_text(_rest_after(request, 1), what="“You said, we did”")
    if not settings.publish_channel:
        raise CommandError(
            "No channel to publish to yet: `/edi responders setup #responders-channel publish #all-staff`. "
            "I haven't published anything."
        )
    post = Reply([Heading("You said, we did"), Text(text)], private=False)
    if piece.topic:
        post.add(Context(f"Topic: {piece.topic} · from anonymous staff feedback"))
    key = f"feedback-published:{piece.ref}:{request.now.date().isoformat()}"
    if outbox.message_keys_taken(request.store.session, [key]):
        raise CommandError(f"FB-{piece.ref}'s “You said, we did” was published today already.")
    row = {
        "key": key,
        "channel": settings.publish_channel,
        "channel_workspace": settings.channel_workspace,
        "send_at": request.now,
        "reply": reply_as_data(post),
        "created_at": request.now,
    }
    outbox.queue_messages(request.store.session, [row])
    piece.published_on = request.now.date()
    return Reply.say(f"Published to #{settings.publish_channel_name}: “You said, we did” for FB-{piece.ref}.")


def _link(request: Request, words: list[str]) -> Reply:
    if len(words) < 2:
        raise CommandError(RESPONDERS_USAGE)
    piece = _piece(request, words[0])
    if words[1].lower() == "new":
        person = request.require_person()
        if not person.is_admin:
            raise NotAllowed(
                "Only a plan admin can add an action; link an existing one with `/edi responders link REF "
                "NO-4`. I haven't changed anything."
            )
        made = add_action_from(request, words[2:], source=f"anonymous feedback FB-{piece.ref}")
        assert request.action is not None
        piece.action_id = request.action.id
        made.add(Context(f"Linked to anonymous feedback FB-{piece.ref}."))
        made.private = True
        return made
    action = request.store.action(words[1])
    if action is None:
        raise CommandError(f"There is no action {words[1][:40]}. I haven't changed anything.")
    piece.action_id = action.id
    return Reply.say(f"FB-{piece.ref} is marked as leading to {action.ref}: {action.title}")


def _stats(request: Request, words: list[str]) -> Reply:
    """Counts by topic and by month, each shown only for a group of at least k."""
    settings = _settings(request)
    k = settings.k
    session = request.store.session
    by_topic, by_month = stored.counts_by(session, "topic"), stored.counts_by(session, "month")
    total = sum(by_topic.values())
    reply = Reply([Heading("Anonymous feedback kept"), Text(f"In all: {total_shown(total, k=k)}")])
    for title, counts in (("By topic", by_topic), ("By month received", by_month)):
        shown = counts_shown(dict(counts), k=k)
        if shown:
            lines = [f"• {name}: {value}" for name, value in sorted(shown.items())]
            reply.add(Text(f"*{title}*\n" + "\n".join(lines)))
    reply.add(Context(f"A group smaller than {k} is shown as “fewer than {k}”, so no one stands out."))
    return reply


def _show_settings(request: Request, words: list[str]) -> Reply:
    settings = _settings(request)
    names = ", ".join(person.name for person in stored.responders(request.store.session)) or "nobody"
    return Reply(
        [
            Heading("Anonymous feedback settings"),
            Fields(
                (
                    ("Responders' channel", f"#{settings.channel_name}"),
                    (
                        "Publish to",
                        f"#{settings.publish_channel_name}" if settings.publish_channel_name else "—",
                    ),
                    ("Responders", names),
                    ("Smallest group shown (k)", str(settings.k)),
                    ("Released at", _release_text(settings)),
                    ("Kept for", f"{settings.retention_days} days"),
                )
            ),
        ]
    )


def _channel(text: str) -> tuple[str, str]:
    found = CHANNEL.match(text.strip())
    if not found:
        raise CommandError(f"'{text}' is not a channel: write it as #channel. I haven't changed anything.")
    ident = found.group(1)
    shown = (found.group(2) or "").strip().lstrip("#") or ident
    if max(len(ident), len(shown)) > CHANNEL_NAME_LIMIT:
        raise CommandError(f"A channel's name may be at most {CHANNEL_NAME_LIMIT} characters.")
    return ident, shown


def _setup(request: Request, words: list[str]) -> Reply:
    """`setup #channel [k 5] [release 09:00,15:00] [retention 365] [publish #channel] [responders @a @b]`."""
    settings = _settings(request)
    changes = read_setup(words)
    people = [_person(request, mention) for mention in changes.responders]
    apply_setup(settings, changes)
    if people:
        stored.set_responders(request.store.session, people)
    return _show_settings(request, [])


def _person(request: Request, mention: str) -> Person:
    person = request.store.person_mentioned(mention)
    if person is None:
        raise CommandError(f"I don't know {mention[:80]}: responders must be in the people directory.")
    return person


@dataclass
class Setup:
    """What `setup` asks to change; None: left as it is."""

    channel: tuple[str, str] | None = None
    publish: tuple[str, str] | None = None
    k: int | None = None
    release: tuple[time, ...] | None = None
    retention: int | None = None
    responders: list[str] = field(default_factory=list)
    signposting: str | None = None  # "" clears it: the default wording again


def read_setup(words: list[str]) -> Setup:
    """What `setup` words ask to change; CommandError naming the first word that makes no sense."""
    changes = Setup()
    rest = iter(words)
    for word in rest:
        lowered = word.lower()
        if lowered.startswith(("#", "<#")):
            changes.channel = _channel(word)
        elif lowered == "k":
            changes.k = read_k(next(rest, ""))
        elif lowered == "release":
            changes.release = read_release(next(rest, ""))
        elif lowered == "retention":
            changes.retention = read_retention(next(rest, ""))
        elif lowered == "publish":
            changes.publish = _channel(next(rest, ""))
        elif lowered == "responders":
            changes.responders = list(rest)
        elif lowered == "signposting":
            changes.signposting = read_signposting(next(rest, ""))
        else:
            raise CommandError(f"I don't understand '{word[:40]}' here. {RESPONDERS_USAGE}")
    return changes


def read_release(text: str) -> tuple[time, ...]:
    try:
        return read_release_times(text)
    except ValueError as error:
        raise CommandError(f"{error}. I haven't changed anything.") from None


def read_signposting(text: str) -> str:
    """What someone reporting an incident reads: how to report formally, who can help ("off": the default)."""
    if text.strip().lower() in ("off", "default"):
        return ""
    if not text.strip() or len(text) > 1000:
        raise CommandError(
            'Signposting is 1 to 1,000 characters, in quotes: signposting "Report to HR at …". '
            "I haven't changed anything."
        )
    return text.strip()


def read_k(text: str) -> int:
    if not text.isdigit() or not 2 <= int(text) <= 50:
        raise CommandError(
            f"k is a whole number from 2 to 50 (got '{text[:10]}'). I haven't changed anything."
        )
    return int(text)


def read_retention(text: str) -> int:
    if not text.isdigit() or not 30 <= int(text) <= 3650:
        raise CommandError(
            f"Retention is a number of days from 30 to 3650 (got '{text[:10]}'). I haven't changed anything."
        )
    return int(text)


def apply_setup(settings: FeedbackSettings, changes: Setup) -> None:
    """Writes what `read_setup` read onto the settings row (not the responders: they are people)."""
    if changes.channel is not None:
        settings.channel, settings.channel_name = changes.channel
    if changes.publish is not None:
        settings.publish_channel, settings.publish_channel_name = changes.publish
    if changes.k is not None:
        settings.k = changes.k
    if changes.release is not None:
        settings.release_times = release_times_text(changes.release).split(",")
    if changes.retention is not None:
        settings.retention_days = changes.retention
    if changes.signposting is not None:
        settings.signposting = changes.signposting or None


# -- the responders' buttons and forms -----------------------------------------------------------------------


_RESPONDER_FORMS = {
    "feedback_answer": ("Reply to feedback", "Your reply (the sender reads it with their code)", "answer"),
    "feedback_publish": (
        "You said, we did",
        "What to publish, in your own words (You said… we did…)",
        "publish",
    ),
    "feedback_link": ("Link to an action", "The action's reference, e.g. NO-4", "link"),
}


def _responder_form_for(action_id: str) -> ButtonMeaning:
    def meaning(ref: str, argument: str) -> Invocation | None:
        return Invocation("responders", ("form", action_id, ref))

    return meaning


def _give_feedback(ref: str, argument: str) -> Invocation | None:
    return Invocation("feedback", ())


def _from_responders_form(request: Request) -> Reply:
    verb = request.form_values.get("_verb", "")
    ref = request.form_values.get("_ref", "")
    text = request.form_values.get("text", "")
    request.words = [verb, ref, *text.split()]
    request.free_text = f"{ref} {text}"
    handlers = {"answer": _answer, "publish": _publish, "link": _link}
    if verb not in handlers:
        raise CommandError(RESPONDERS_USAGE)
    _settings(request)
    _responder(request)
    return handlers[verb](request, request.words[1:])


def responders_form(request: Request) -> Reply:
    """The form a responder's button opens (words: "form", its action id, the feedback's reference)."""
    _responder(request)
    action_id, ref = request.words[1], request.words[2]
    title, label, _ = _RESPONDER_FORMS[action_id]
    piece = _piece(request, ref)
    return Reply(
        [
            Form(
                form_id=action_id,
                title=title,
                fields=(
                    FormField(
                        "text", label, multiline=action_id != "feedback_link", max_length=FEEDBACK_LIMIT
                    ),
                ),
                state=piece.ref,
                submit_label="Save",
            )
        ]
    )


def _submit_responder_form(action_id: str) -> FormMeaning:
    verb = _RESPONDER_FORMS[action_id][2]

    def meaning(state: str, values: Mapping[str, str]) -> Invocation | Reply | None:
        if not state:
            return None
        return Invocation(
            "responders", (), values={"_verb": verb, "_ref": state, "text": values.get("text", "")}
        )

    return meaning


def _submit_feedback_form(state: str, values: Mapping[str, str]) -> Invocation | Reply | None:
    # An empty answer still goes to the handler, which refuses it in words and keeps nothing.
    return Invocation("feedback", (), values={**_from_form(values), "_form": "1"})


BUTTONS: dict[str, ButtonMeaning] = {
    "feedback_give": _give_feedback,
    **{action_id: _responder_form_for(action_id) for action_id in _RESPONDER_FORMS},
}
FORMS: dict[str, FormMeaning] = {
    "feedback": _submit_feedback_form,
    **{action_id: _submit_responder_form(action_id) for action_id in _RESPONDER_FORMS},
}


def give_feedback_button() -> Buttons:
    """The App Home's way in (anonymous: pressing it tells edibot nothing of who pressed)."""
    return Buttons((Button("Give anonymous feedback", "feedback_give", "form|"),))


COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec(
        "feedback",
        "feedback [TEXT] | feedback check CODE | feedback reply CODE TEXT",
        "anonymous feedback on equality and inclusion: nobody, not even edibot's admins, can tell it was you",
        feedback,
        anyone=True,
        anonymous=True,
    ),
    CommandSpec(
        "responders",
        "responders answer|publish|link REF … | responders stats | responders setup …",
        "(feedback responders) answer anonymous feedback, publish “You said, we did”, counts, settings",
        responders_command,
    ),
)
