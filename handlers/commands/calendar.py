"""The `/edi calendar` command: the observances of the next 30 days for everyone; channel subscriptions, the
organisation's own dates, hidden entries and wording for plan admins; and each person's choice to hold
non-urgent reminders during an observance they keep."""

from __future__ import annotations

import re
from datetime import date, timedelta

from handlers.commands.plan import CHANNEL  # the one way a channel is written: #name or <#C123|name>
from handlers.core import CommandSpec, Request
from handlers.errors import CommandError, NotAllowed
from handlers.messages import Context, Heading, Reply, Text
from storage import observances as stored
from storage.rules.bounds import CHANNEL_NAME_LIMIT
from storage.rules.observances.catalogue import CATEGORIES, TONES, Calendar, Dated, Observance, slug
from storage.rules.observances.dates import DateRuleError, Occurrence, read_rule, rule_text
from storage.rules.observances.posting import DEFAULT_LEAD_DAYS as POSTED_AHEAD
from storage.rules.observances.wording import announcement, tone_problem, when_text

LOOK_AHEAD_DAYS = 30
DEFAULT_LEAD_DAYS = POSTED_AHEAD
SECTION_CHARACTERS = 2800  # under Slack's 3,000 per section, with room for a renderer's markup

CALENDAR_USAGE = (
    "Usage: `/edi calendar` (the next 30 days), `/edi calendar hold NAME` / `unhold NAME` / `holds` "
    "(hold your non-urgent reminders during an observance you keep); for plan admins: "
    "`/edi calendar subscribe #channel [CATEGORIES…] [lead 7,0] [working-days] [https://….ics]`, "
    "`unsubscribe #channel`, "
    '`channels`, `add "NAME" WHEN CATEGORY [commemoration] ["description"] [https://link]`, `remove NAME`, '
    '`hide NAME`, `show NAME`, `wording NAME "text"|off`, `suggest NAME "text or link"|off`.'
)

# A channel as typed ("#edi-network") or as an adapter passes a platform mention ("#C0123|edi-network",
# Slack's "<#C0123|edi-network>").
_LEAD = re.compile(r"^((?:\d{1,3},)*\d{1,3})$")


def calendar(request: Request) -> Reply:
    words = request.words
    if not words:
        return upcoming(request)
    verb, rest = words[0].lower(), words[1:]
    personal = {"hold": _hold, "unhold": _unhold, "holds": _holds}
    if verb in personal:
        return personal[verb](request, rest)
    admin = {
        "subscribe": _subscribe,
        "unsubscribe": _unsubscribe,
        "channels": _channels,
        "add": _add,
        "remove": _remove,
        "hide": _hide,
        "show": _show,
        "wording": _wording,
        "suggest": _suggest,
    }
    if verb not in admin:
        raise CommandError(CALENDAR_USAGE)
    if not request.require_person().is_admin:
        raise NotAllowed(f"Only a plan admin can use `/edi calendar {verb}`. I haven't changed anything.")
    return admin[verb](request, rest)


def _calendar(request: Request, *, with_hidden: bool = False) -> Calendar:
    return stored.organisation_calendar(request.store.session, with_hidden=with_hidden)


def upcoming(request: Request) -> Reply:
    """The observances of the next 30 days (and any running now), soonest first."""
    today = request.now.date()
    found = _calendar(request).between(today, today + timedelta(days=LOOK_AHEAD_DAYS), ongoing=True)
    if not found:
        return Reply.say("No observances in the next 30 days.")
    lines = [_line(dated, today=today) for dated in found]
    reply = Reply([Heading(f"Observances in the next {LOOK_AHEAD_DAYS} days")])
    reply.add(*(Text(part) for part in _sections(lines)))
    reply.add(Context("`/edi calendar hold NAME` holds your non-urgent reminders during one you keep."))
    return reply


def _line(dated: Dated, *, today: date) -> str:
    observance, occurrence = dated.observance, dated.occurrence
    when = when_text(observance, occurrence)
    if occurrence.start < today:
        when = f"now, until {occurrence.end:%A} {occurrence.end.day} {occurrence.end:%B}"
    return f"• {observance.name} — {when} ({observance.category}, {observance.tone})"


def _sections(lines: list[str]) -> list[str]:
    sections: list[str] = []
    for line in lines:
        if sections and len(sections[-1]) + len(line) + 1 <= SECTION_CHARACTERS:
            sections[-1] += "\n" + line
        else:
            sections.append(line)
    return sections


def observance_post(observance: Observance, occurrence: Occurrence, *, today: date) -> Reply:
    """What a subscribed channel reads: the announcement in the observance's tone, the organisation's
    suggestions, and the source."""
    reply = Reply([Text(announcement(observance, occurrence, today=today))], private=False)
    if observance.suggestions:
        reply.add(Text("Suggested: " + " · ".join(observance.suggestions)))
    if observance.source:
        reply.add(Context(f"More: {observance.source}"))
    return reply


def _find(request: Request, name: str, *, with_hidden: bool = True) -> Observance:
    if not name.strip():
        raise CommandError(CALENDAR_USAGE)
    calendar_ = _calendar(request, with_hidden=with_hidden)
    found = calendar_.find(name)
    if found is None:
        wanted = slug(name)
        close = [o.name for o in calendar_.observances if wanted and wanted in o.key][:5]
        hint = f" Did you mean {', '.join(close)}?" if close else " `/edi calendar` lists what is coming up."
        raise CommandError(f"There is no observance called '{name}' in the calendar.{hint}")
    return found


# -- your own holds ------------------------------------------------------------------------------------------


def _hold(request: Request, words: list[str]) -> Reply:
    person = request.require_person()
    observance = _find(request, " ".join(words))
    if not stored.hold_during(request.store.session, person.id, observance.key):
        return Reply.say(f"You already hold non-urgent reminders during {observance.name}.")
    return Reply.say(
        f"During {observance.name} your non-urgent reminders wait until it ends; reminders on a deadline's "
        f"own day still reach you. `/edi calendar unhold {observance.name}` undoes this."
    )


def _unhold(request: Request, words: list[str]) -> Reply:
    person = request.require_person()
    observance = _find(request, " ".join(words))
    if not stored.release_hold(request.store.session, person.id, observance.key):
        return Reply.say(f"You weren't holding reminders during {observance.name}.")
    return Reply.say(f"Your reminders go out as usual during {observance.name}.")


def _holds(request: Request, words: list[str]) -> Reply:
    person = request.require_person()
    keys = stored.holds_of(request.store.session, [person.id]).get(person.id, [])
    if not keys:
        return Reply.say(
            "You hold reminders during no observance. `/edi calendar hold Ramadan`, for example."
        )
    calendar_ = _calendar(request, with_hidden=True)
    names = [found.name if (found := calendar_.find(key)) else key for key in keys]
    return Reply.say("Your non-urgent reminders wait during: " + ", ".join(names) + ".")


# -- channels ------------------------------------------------------------------------------------------------


def _channel(text: str) -> tuple[str, str]:
    found = CHANNEL.match(text.strip())
    if not found:
        raise CommandError(f"'{text}' is not a channel: write it as #channel. I haven't changed anything.")
    ident = found.group(1)
    shown = (found.group(2) or "").strip().lstrip("#") or ident
    if max(len(ident), len(shown)) > CHANNEL_NAME_LIMIT:
        raise CommandError(
            f"A channel's name may be at most {CHANNEL_NAME_LIMIT} characters. I haven't changed anything."
        )
    return ident, shown


def _category(word: str) -> str:
    wanted = word.lower().strip(",")
    if wanted in CATEGORIES:
        return wanted
    raise CommandError(
        f"'{word}' is not a calendar category. Categories: {', '.join(CATEGORIES)}. "
        "I haven't changed anything."
    )


def _subscribe(request: Request, words: list[str]) -> Reply:
    if not words:
        raise CommandError(CALENDAR_USAGE)
    ident, shown = _channel(words[0])
    categories: list[str] = []
    lead_days = list(DEFAULT_LEAD_DAYS)
    working_days_only = False
    feed_url: str | None = None
    rest = iter(words[1:])
    for word in rest:
        lowered = word.lower()
        if lowered in ("working-days", "weekdays", "working-days-only"):
            working_days_only = True
        elif lowered == "lead" or lowered.startswith("lead="):
            lead_days = _lead_days(lowered.removeprefix("lead").lstrip("=") or next(rest, ""))
        elif lowered.startswith(("http://", "https://", "webcal://")) or "://" in lowered:
            feed_url = _feed_url(word)
        else:
            categories.extend(_category(part) for part in word.split(",") if part)
    subscription, new = stored.subscribe(
        request.store.session,
        channel=ident,
        channel_name=shown,
        workspace=request.actor.workspace,
        categories=sorted(set(categories)),
        lead_days=lead_days,
        working_days_only=working_days_only,
        feed_url=feed_url,
        at=request.now,
    )
    which = ", ".join(subscription.categories) if subscription.categories else "every category"
    when = _lead_text(lead_days) + (", on working days only" if working_days_only else "")
    verb = "now hears" if new else "now hears (changed)"
    feed = f", and of the events in {feed_url} (fetched every few hours)" if feed_url else ""
    return Reply.say(
        f"#{shown} {verb} of observances ({which}){feed} {when}, at {subscription.send_time}. Make sure "
        f"edibot is in #{shown} (invite it there), or the plan admins will hear it couldn't post."
    )


def _feed_url(text: str) -> str:
    """A published calendar's address: http(s), or webcal (which calendar apps use for the same thing)."""
    url = text.strip("<>").split("|")[0]  # Slack sends a link as <https://…|label>
    if url.lower().startswith("webcal://"):
        url = "https://" + url[len("webcal://") :]
    if not re.match(r"^https?://[^\s/]+\S*$", url, re.IGNORECASE) or len(url) > 1000:
        raise CommandError(
            f"'{text}' is not the address of a published calendar: give its https:// (or webcal://) link. "
            "I haven't changed anything."
        )
    return url


def _lead_days(text: str) -> list[int]:
    """ "7,0" → [7, 0]: days before the first day a channel hears of an observance (0: on the day)."""
    found = _LEAD.match(text)
    days = sorted({int(day) for day in found.group(1).split(",")}, reverse=True) if found else []
    if not days or days[0] > 90:
        raise CommandError(
            f"'{text}' should be days before, e.g. `lead 7,0` (0 is the day itself; at most 90). "
            "I haven't changed anything."
        )
    return days


def _lead_text(days: list[int]) -> str:
    parts = ["on the day" if day == 0 else f"{day} day{'s' if day != 1 else ''} before" for day in days]
    return " and ".join(parts)


def _unsubscribe(request: Request, words: list[str]) -> Reply:
    if not words:
        raise CommandError(CALENDAR_USAGE)
    ident, shown = _channel(words[0])
    if not stored.unsubscribe(request.store.session, ident):
        return Reply.say(f"#{shown} isn't subscribed to the calendar.")
    return Reply.say(f"#{shown} no longer hears of observances.")


def _channels(request: Request, words: list[str]) -> Reply:
    found = stored.subscriptions(request.store.session)
    if not found:
        return Reply.say("No channel subscribes to the calendar yet: `/edi calendar subscribe #channel`.")
    lines = [
        f"• #{s.channel_name} — {', '.join(s.categories) or 'every category'}, {_lead_text(s.lead_days)}"
        + (", working days only" if s.working_days_only else "")
        for s in found
    ]
    return Reply([Heading("Channels that hear of observances"), *(Text(part) for part in _sections(lines))])


# -- the organisation's own dates, hidden entries and wording ------------------------------------------------


def _add(request: Request, words: list[str]) -> Reply:
    """`add "Name" WHEN CATEGORY [commemoration|celebration] ["description"] [https://link]`."""
    if len(words) < 3:
        raise CommandError(CALENDAR_USAGE)
    name, when, rest = words[0].strip(), words[1], words[2:]
    if not 1 <= len(name) <= 100:
        raise CommandError("An observance's name is 1 to 100 characters. I haven't changed anything.")
    try:
        rule = read_rule(when)
    except DateRuleError as error:
        raise CommandError(f"{error}. I haven't changed anything.") from None
    category = _category(rest[0])
    tone, description, source = "celebration", "", None
    for word in rest[1:]:
        if word.lower() in TONES:
            tone = word.lower()
        elif re.match(r"^https?://\S+$", word):
            source = word
        else:
            description = f"{description} {word}".strip()
    for said in (name, description):
        if problem := tone_problem(tone, said):
            raise CommandError(f"{problem}. I haven't changed anything.")
    key = slug(name)
    if not key or _calendar(request, with_hidden=True).find(name) is not None:
        raise CommandError(f"The calendar already has {name}. I haven't changed anything.")
    stored.add_own_observance(
        request.store.session,
        key=key,
        name=name,
        category=category,
        tone=tone,
        rule=rule_text(rule),
        description=description,
        source=source,
        at=request.now,
    )
    return Reply.say(f"Added {name} ({category}, {tone}): {rule_text(rule)}.")


def _remove(request: Request, words: list[str]) -> Reply:
    observance = _find(request, " ".join(words))
    if not observance.added_by_organisation:
        raise CommandError(
            f"{observance.name} is in the calendar edibot ships: `/edi calendar hide {observance.name}` "
            "keeps it out of posts and lists instead."
        )
    stored.remove_own_observance(request.store.session, observance.key)
    return Reply.say(f"Removed {observance.name} from the calendar.")


def _hide(request: Request, words: list[str]) -> Reply:
    observance = _find(request, " ".join(words))
    setting = stored.setting_of(request.store.session, observance.key)
    if setting.hidden:
        return Reply.say(f"{observance.name} is already hidden.")
    setting.hidden = True
    return Reply.say(f"{observance.name} is hidden: no posts, and it is left out of `/edi calendar`.")


def _show(request: Request, words: list[str]) -> Reply:
    observance = _find(request, " ".join(words))
    setting = stored.setting_of(request.store.session, observance.key)
    if not setting.hidden:
        return Reply.say(f"{observance.name} isn't hidden.")
    setting.hidden = False
    return Reply.say(f"{observance.name} is back in the calendar.")


def _wording(request: Request, words: list[str]) -> Reply:
    if len(words) < 2:
        raise CommandError(CALENDAR_USAGE)
    observance = _find(request, words[0])
    text = " ".join(words[1:]).strip()
    setting = stored.setting_of(request.store.session, observance.key)
    if text.lower() in ("off", "default", "none"):
        setting.wording = None
        return Reply.say(f"{observance.name} is described in the calendar's own words again.")
    if len(text) > 1000:
        raise CommandError("Wording is at most 1,000 characters. I haven't changed anything.")
    if problem := tone_problem(observance.tone, text):
        raise CommandError(f"{problem}. I haven't changed anything.")
    setting.wording = text
    return Reply.say(f"Posts about {observance.name} now say: {text}")


def _suggest(request: Request, words: list[str]) -> Reply:
    if len(words) < 2:
        raise CommandError(CALENDAR_USAGE)
    observance = _find(request, words[0])
    text = " ".join(words[1:]).strip()
    setting = stored.setting_of(request.store.session, observance.key)
    if text.lower() in ("off", "none", "clear"):
        setting.suggestions = []
        return Reply.say(f"Posts about {observance.name} suggest nothing now.")
    if len(text) > 500 or len(setting.suggestions or []) >= 5:
        raise CommandError("Up to 5 suggestions of up to 500 characters each. I haven't changed anything.")
    if problem := tone_problem(observance.tone, text):
        raise CommandError(f"{problem}. I haven't changed anything.")
    setting.suggestions = [*(setting.suggestions or []), text]
    return Reply.say(f"Posts about {observance.name} now suggest: " + " · ".join(setting.suggestions))


COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec(
        "calendar",
        "calendar | calendar hold|unhold NAME | calendar subscribe #channel [CATEGORIES] | calendar add "
        '"NAME" WHEN CATEGORY | calendar hide|show|wording|suggest NAME',
        "observances of the next 30 days; hold your reminders during one you keep; (admins) which channels "
        "hear of them, the organisation's own dates, hidden entries and wording",
        calendar,
    ),
)
