"""The plan admins' `/edi digest` command: subscribe a channel to a weekly digest of a plan (or a theme, or an
owner's actions), list the channels that have one, and unsubscribe."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from handlers.commands.plan import CHANNEL
from handlers.core import CommandSpec, Request
from handlers.digests import build_digest
from handlers.errors import CommandError
from handlers.messages import Context, Heading, Reply, Text
from storage.digests import DigestSource, digest_subscription_of, digest_subscriptions
from storage.models import DigestSubscription, Plan
from storage.observances import calendar_observances
from storage.rules.bounds import CHANNEL_NAME_LIMIT, FILTER_LIMIT
from storage.rules.calendar import (
    WEEKDAYS,
    Hours,
    is_working_weekday,
    read_send_time,
    read_weekday,
    send_time_problem,
)
from storage.rules.defaults import DIGEST_TIME, DIGEST_WEEKDAY, NATIONS, STALE_WEEKS

UNCHANGED = "I haven't changed anything."
SUBSCRIBE_USAGE = (
    "`/edi digest subscribe [#channel] [plan:NAME] [theme:TEXT] [owner:TEXT] [day:Mon] [time:09:00] "
    "[quiet:skip|post] [stale:4w] [zone:Europe/London] [nation:england]`"
)
DIGEST_USAGE = (
    f"Usage: {SUBSCRIBE_USAGE}, `/edi digest list`, `/edi digest preview [#channel]` or "
    "`/edi digest unsubscribe [#channel]`."
)
MAX_STALE_WEEKS = 52


def digest(request: Request) -> Reply:
    words = request.words
    sub = words[0].lower() if words else ""
    if sub == "subscribe":
        return _subscribe(request, words[1:])
    if sub == "list" and len(words) == 1:
        return _listing(request)
    if sub in ("unsubscribe", "preview") and len(words) <= 2:
        subscription = _subscription_of(request, words[1] if len(words) == 2 else None)
        if sub == "preview":
            return _preview(request, subscription)
        request.store.session.delete(subscription)
        return Reply.say(f"#{subscription.channel_name} no longer gets a weekly digest.")
    raise CommandError(f"{DIGEST_USAGE} {UNCHANGED}")


@dataclass(frozen=True)
class _Where:
    """The channel a subscription is for: its platform id and the name people know it by."""

    id: str
    name: str


def _channel(request: Request, mention: str | None) -> _Where:
    """The channel named (`#edi-group`, a platform mention), else the one the command was typed in."""
    if mention is None:
        ident, name = request.actor.channel, request.actor.channel_name
        if not ident or ident.startswith("D") or name in ("directmessage", "privategroup"):
            raise CommandError(
                "Which channel? Name it (`/edi digest subscribe #edi-group plan:NAME`), or type the command "
                f"in the channel itself. {UNCHANGED}"
            )
        return _Where(ident, (name or ident).lstrip("#"))
    found = CHANNEL.match(mention.strip())
    if not found:
        raise CommandError(f"'{mention}' is not a channel; name one like #edi-group. {UNCHANGED}")
    ident = found.group(1)
    name = (found.group(2) or "").strip().lstrip("#") or ident
    longest = max(len(ident), len(name))
    if longest > CHANNEL_NAME_LIMIT:
        raise CommandError(
            f"A channel's name may be at most {CHANNEL_NAME_LIMIT} characters; that one is {longest:,}. "
            f"{UNCHANGED}"
        )
    return _Where(ident, name)


def _subscription_of(request: Request, mention: str | None) -> DigestSubscription:
    where = _channel(request, mention)
    found = digest_subscription_of(request.store.session, where.id) or digest_subscription_of(
        request.store.session, where.name
    )
    if found is None:
        have = ", ".join(f"#{s.channel_name}" for s in digest_subscriptions(request.store.session))
        raise CommandError(
            f"#{where.name} has no weekly digest (channels that do: {have or 'none yet'}). {UNCHANGED}"
        )
    return found


_OPTIONS = ("plan", "theme", "owner", "day", "time", "quiet", "stale", "zone", "nation")


def _subscribe(request: Request, words: list[str]) -> Reply:
    mention: str | None = None
    given: dict[str, str] = {}
    for word in words:
        key, sep, value = word.partition(":")
        key = key.lower()
        if word.startswith(("#", "<#")) and mention is None and not given:
            mention = word
        elif sep and key in _OPTIONS and value.strip():
            if key in given:
                raise CommandError(f"You gave {key}: twice; say it once. {UNCHANGED}")
            given[key] = value.strip()
        else:
            raise CommandError(
                f"I don't understand '{word}' in a digest subscription. Usage: {SUBSCRIBE_USAGE}. {UNCHANGED}"
            )
    where = _channel(request, mention)
    for key in ("plan", "theme", "owner"):
        if len(given.get(key, "")) > FILTER_LIMIT:
            raise CommandError(
                f"A digest filter may be at most {FILTER_LIMIT} characters; {key}: was "
                f"{len(given[key]):,}. {UNCHANGED}"
            )
    plan = _plan(request, given["plan"]) if "plan" in given else None
    theme = _theme(request, plan, given["theme"]) if "theme" in given else None
    owner = _owner(request, given["owner"]) if "owner" in given else None
    zone = _zone(given["zone"]) if "zone" in given else None
    nation = _nation(given["nation"]) if "nation" in given else "england"
    hours = Hours(timezone=zone, nation=nation)
    weekday = _weekday(given["day"], hours) if "day" in given else DIGEST_WEEKDAY
    send_time = _time(given["time"]) if "time" in given else DIGEST_TIME
    skip_quiet = _quiet(given["quiet"]) if "quiet" in given else False
    stale = _stale(given["stale"]) if "stale" in given else STALE_WEEKS

    session = request.store.session
    subscription = digest_subscription_of(session, where.id)
    changed = subscription is not None
    if subscription is None:
        subscription = DigestSubscription(
            channel=where.id, created_at=request.now, created_by=request.require_person().name
        )
        session.add(subscription)
    subscription.channel_name = where.name
    subscription.channel_workspace = request.actor.workspace
    subscription.plan_id = plan.id if plan else None
    subscription.plan = plan
    subscription.theme, subscription.owner = theme, owner
    subscription.weekday, subscription.send_time = weekday, send_time
    subscription.timezone, subscription.nation = zone, nation
    subscription.skip_quiet, subscription.stale_weeks = skip_quiet, stale
    session.flush()
    reply = Reply(
        [
            Text(
                f"#{where.name} {'now gets' if changed else 'will get'} a weekly digest of "
                f"{_covers(subscription)} every {WEEKDAYS[weekday].title()} at {send_time}"
                f"{f' ({zone})' if zone else ''} — on the next working day if that is a bank holiday."
            ),
            Context(
                f"Quiet weeks: {'skipped' if skip_quiet else 'one line saying so'}. Stale means no update in "
                f"{stale} week{'s' if stale != 1 else ''}. Make sure edibot is in #{where.name}. "
                f"See it now with `/edi digest preview{'' if mention is None else ' ' + mention}`."
            ),
        ]
    )
    if plan is not None and plan.restricted:
        reply.add(Context(f"{plan.name} is restricted: everyone in #{where.name} will see its actions."))
    return reply


def _covers(subscription: DigestSubscription) -> str:
    parts = [subscription.plan.name if subscription.plan else "every open plan"]
    if subscription.theme:
        parts.append(f"theme “{subscription.theme}”")
    if subscription.owner:
        parts.append(f"owner “{subscription.owner}”")
    return ", ".join(parts)


def _plan(request: Request, wanted: str) -> Plan:
    """A plan by its name or any unique part of it, as `/edi list plan:` finds one."""
    plans = list(request.store.plans())
    exact = [plan for plan in plans if plan.name.casefold() == wanted.casefold()]
    matches = exact or [plan for plan in plans if wanted.casefold() in plan.name.casefold()]
    if len(matches) == 1:
        return matches[0]
    names = ", ".join(plan.name for plan in (matches or plans)) or "none yet"
    if not matches:
        raise CommandError(f"No plan is called '{wanted}'. Plans: {names}. {UNCHANGED}")
    raise CommandError(f"'{wanted}' could be {names}. Which plan? {UNCHANGED}")


def _theme(request: Request, plan: Plan | None, wanted: str) -> str:
    themes = sorted(
        {
            action.theme
            for action in request.store.actions_matching(plan=plan.name if plan else None)
            if action.theme
        }
    )
    if not any(wanted.casefold() in theme.casefold() for theme in themes):
        where = plan.name if plan else "any plan"
        raise CommandError(
            f"No action in {where} has a theme like '{wanted}'. Themes: {', '.join(themes) or 'none'}. "
            f"{UNCHANGED}"
        )
    return wanted


def _owner(request: Request, wanted: str) -> str:
    if not request.store.owners_like(wanted):
        raise CommandError(f"No plan has an owner like '{wanted}'. {UNCHANGED}")
    return wanted


def _zone(wanted: str) -> str:
    try:
        ZoneInfo(wanted)
    except (ZoneInfoNotFoundError, ValueError):
        raise CommandError(
            f"'{wanted}' is not a time zone I know; write it like Europe/London. {UNCHANGED}"
        ) from None
    return wanted


def _nation(wanted: str) -> str:
    nation = wanted.strip().lower().replace(" ", "-")
    if nation not in NATIONS:
        raise CommandError(
            f"'{wanted}' is not a UK nation whose bank holidays I know: {', '.join(NATIONS)}. {UNCHANGED}"
        )
    return nation


def _weekday(wanted: str, hours: Hours) -> int:
    day = read_weekday(wanted)
    if day is None:
        raise CommandError(f"'{wanted}' is not a day of the week; write it like Mon or Monday. {UNCHANGED}")
    if not is_working_weekday(hours, day):
        raise CommandError(
            f"{WEEKDAYS[day].title()} isn't a working day; a digest goes out Monday to Friday. {UNCHANGED}"
        )
    return day


def _time(wanted: str) -> str:
    problem = send_time_problem(wanted)
    clock = read_send_time(wanted)
    if problem is not None or clock is None:
        said = problem or f"'{wanted}' is not a time of day such as 09:00"
        raise CommandError(f"{said[0].upper()}{said[1:]}. {UNCHANGED}")
    return clock


def _quiet(wanted: str) -> bool:
    if wanted.lower() not in ("skip", "post"):
        raise CommandError(
            f"quiet:{wanted} — say quiet:skip (no digest in a week with nothing to say) or quiet:post (a "
            f"one-line digest saying so). {UNCHANGED}"
        )
    return wanted.lower() == "skip"


def _stale(wanted: str) -> int:
    number = wanted.lower().removesuffix("weeks").removesuffix("week").removesuffix("w").strip()
    if not number.isdigit() or not 1 <= int(number) <= MAX_STALE_WEEKS:
        raise CommandError(
            f"stale:{wanted} should be how many weeks without an update make an action stale, e.g. stale:4w "
            f"(1 to {MAX_STALE_WEEKS}). {UNCHANGED}"
        )
    return int(number)


def _listing(request: Request) -> Reply:
    subscriptions = digest_subscriptions(request.store.session)
    if not subscriptions:
        return Reply.say(f"No channel gets a weekly digest yet. Start one with {SUBSCRIBE_USAGE}.")
    lines = [
        f"#{s.channel_name} — {_covers(s)} · {WEEKDAYS[s.weekday].title()} {s.send_time}"
        f"{f' ({s.timezone})' if s.timezone else ''} · stale after {s.stale_weeks}w"
        f"{' · quiet weeks skipped' if s.skip_quiet else ''}"
        for s in subscriptions
    ]
    return Reply(
        [
            Heading(f"{len(lines)} channel{'s' if len(lines) != 1 else ''} with a weekly digest"),
            Text("\n".join(lines)),
            Context("Stop one with `/edi digest unsubscribe #channel`."),
        ]
    )


def _preview(request: Request, subscription: DigestSubscription) -> Reply:
    zone = ZoneInfo(subscription.timezone) if subscription.timezone else request.now.tzinfo
    today = request.now.astimezone(zone).date()
    session = request.store.session
    built = build_digest(
        DigestSource(session, now=request.now),
        subscription,
        today=today,
        observances=calendar_observances(session),
    )
    reply = Reply([Context(f"What #{subscription.channel_name} would see now:"), *built.reply.blocks])
    if built.quiet and subscription.skip_quiet:
        reply.add(Context("It is a quiet week and this channel skips those: nothing would be posted."))
    return reply


# One command for a channel's weekly digest, its first word saying what.
COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec(
        "digest",
        "digest subscribe [#channel] [plan:NAME] [theme:TEXT] [owner:TEXT] [day:Mon] [time:09:00] "
        "[quiet:skip] [stale:4w] | digest list | digest preview [#channel] | digest unsubscribe [#channel]",
        "a weekly digest of a plan in a channel: RAG counts, what moved, overdue, due soon and stale actions",
        digest,
        admin_only=True,
    ),
)
