"""A channel's weekly digest as a reply every adapter renders: the RAG counts and their change, what moved,
what is overdue, due soon or stale, grouped by theme, each list within the platform's limits.

Upcoming observances (the diversity calendar) come in through `Observances`, a function the caller may pass:
given the digest's first and last day, it answers the lines to show. Without one the digest has no such
section; nothing here knows where observances come from.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TypeVar

from handlers.cards import changed_by
from handlers.messages import Block, Context, Heading, Reply, Text
from storage.digests import BUCKET_NAMES, BUCKETS, DigestAction, DigestFacts, DigestSource, Move, Section
from storage.models import DigestSubscription
from storage.rules.defaults import DUE_SOON_DAYS

# What a digest shows per list before "…and N more": enough to act on in a meeting, short enough to read.
SECTION_ITEMS = 10
# Characters in one list's text: Slack's section holds 3000, and its escaping of & < > may lengthen ours.
SECTION_CHARACTERS = 2400
TITLE_CHARACTERS = 80
OBSERVANCE_DAYS = 28  # how far ahead the observances section looks

# Lines about upcoming observances between two days (inclusive), e.g. "Diwali · Mon 20 Oct"; empty when none.
Observances = Callable[[date, date], Sequence[str]]

_SQUARE = {"red": "🟥", "amber": "🟧", "green": "🟩", "done": "🟦", "unrated": "⬜"}
_NAME = BUCKET_NAMES
_BAR = 20  # squares in the bar of counts
T = TypeVar("T")


@dataclass(frozen=True)
class Digest:
    """One channel's digest: the reply to post, and whether it had nothing to say."""

    reply: Reply
    quiet: bool


def build_digest(
    source: DigestSource,
    subscription: DigestSubscription,
    *,
    today: date,
    observances: Observances | None = None,
) -> Digest:
    """The digest for `subscription` on `today` (the channel's local date), from facts loaded once."""
    facts = source.facts(subscription, today=today, shown=SECTION_ITEMS)
    coming = list(observances(today, today + timedelta(days=OBSERVANCE_DAYS))) if observances else []
    return Digest(digest_reply(facts, observances=coming), quiet=facts.quiet)


def digest_reply(facts: DigestFacts, *, observances: Sequence[str] = ()) -> Reply:
    """The digest as a channel post (public): a heading, the counts, and each list that has anything in it."""
    heading = Heading(f"Weekly digest · {facts.title} · week of {facts.today:%-d %b %Y}"[:150])
    coming = [Text("*Coming up*\n" + "\n".join(observances[:SECTION_ITEMS]))] if observances else []
    # A paused plan's digest still goes (the group still meets), saying why nobody is being reminded.
    paused = (
        [Context(f"{facts.plan_name} is paused: no reminders go out for it until a plan admin resumes it.")]
        if facts.paused
        else []
    )
    if facts.quiet:  # the plan's week in one line; the calendar's coming observances still under it
        quiet = Text(
            f"Weekly digest · {facts.title}: a quiet week — nothing moved, and nothing is overdue, "
            f"due in the next {DUE_SOON_DAYS} days or stale."
        )
        return Reply([quiet, *paused, *coming], private=False)
    blocks: list[Block] = [heading, *paused, Text(counts_line(facts.counts, facts.last_week))]
    more = _full_list(facts)
    if facts.moved.total:
        blocks += _listed(
            f"What moved this week ({facts.moved.total})",
            facts.moved.groups,
            _move_line,
            total=facts.moved.total,
            more=f"`/edi history REF` shows an action's changes{more.history}.",
        )
    for title, section, describe, filters in (
        ("Overdue, oldest first", facts.overdue, _overdue_line, "overdue"),
        (f"Due in the next {DUE_SOON_DAYS} days", facts.due_soon, _due_line, f"due:{DUE_SOON_DAYS}d"),
        (f"No update in {facts.stale_weeks} weeks or more", facts.stale, _stale_line, ""),
    ):
        if section.total:
            blocks += _section(
                f"{title} ({section.total})", section, facts.today, describe, more=more.command(filters)
            )
    blocks += coming
    # The board-ready report of the plan (HTML, XLSX, CSV or Markdown) comes to whoever asks, by DM.
    report = f' · full report: `/edi report "{facts.plan_name}"`' if facts.plan_name else ""
    blocks.append(Context(f"Full list: {more.command('')}{report}"))
    return Reply(blocks, private=False)


def counts_line(counts: dict[str, int], last_week: dict[str, int]) -> str:
    """A bar of coloured squares in proportion, then each count and its change since last week:
    "🟥🟥🟧🟩🟩🟩 …\n🟥 Red 2 (+1) · 🟧 Amber 1 (−1) · …"."""
    total = sum(counts.values())
    squares = ""
    if total:
        shares = {bucket: counts[bucket] * _BAR / total for bucket in BUCKETS}
        whole = {bucket: int(share) for bucket, share in shares.items()}
        # Largest remainders get the squares left over, so the bar is always _BAR long.
        for bucket in sorted(BUCKETS, key=lambda b: whole[b] - shares[b])[: _BAR - sum(whole.values())]:
            whole[bucket] += 1
        squares = "".join(_SQUARE[bucket] * whole[bucket] for bucket in BUCKETS) + "\n"
    parts = []
    for bucket in BUCKETS:
        change = counts[bucket] - last_week[bucket]
        shown = "=" if change == 0 else (f"+{change}" if change > 0 else f"−{-change}")
        parts.append(f"{_SQUARE[bucket]} {_NAME[bucket]} {counts[bucket]} ({shown})")
    return squares + " · ".join(parts) + "  — change since last week"


@dataclass(frozen=True)
class _FullList:
    """The commands that show a digest's lists in full (a report button, later, will sit beside them)."""

    base: str
    history: str

    def command(self, filters: str) -> str:
        words = " ".join(part for part in (self.base, filters) if part)
        return f"`/edi list {words}`" if words else "`/edi list`"


def _full_list(facts: DigestFacts) -> _FullList:
    parts = []
    if facts.plan_name:
        parts.append(_filter("plan", facts.plan_name))
    if facts.theme:
        parts.append(_filter("theme", facts.theme))
    if facts.owner:
        parts.append(_filter("owner", facts.owner))
    return _FullList(" ".join(parts), "" if facts.plan_name else "; `/edi plans` shows every plan")


def _filter(name: str, value: str) -> str:
    return f'{name}:"{value}"' if " " in value else f"{name}:{value}"


def _clip(text: str) -> str:
    return text if len(text) <= TITLE_CHARACTERS else text[: TITLE_CHARACTERS - 1] + "…"


def _days(count: int) -> str:
    return f"{count} day{'s' if count != 1 else ''}"


def _overdue_line(action: DigestAction, today: date) -> str:
    due = action.due_date or today
    return f"{action.ref} · {_clip(action.title)} · due {due:%-d %b %Y}, {_days((today - due).days)} overdue"


def _due_line(action: DigestAction, today: date) -> str:
    due = action.due_date or today
    when = "today" if due == today else f"{due:%a %-d %b}"
    return f"{action.ref} · {_clip(action.title)} · due {when} · {_NAME[action.bucket]}"


def _stale_line(action: DigestAction, today: date) -> str:
    return f"{action.ref} · {_clip(action.title)} · last updated {action.updated_at:%-d %b %Y}"


def _move_line(move: Move) -> str:
    def said(value: str | None) -> str:
        if move.field == "status":
            return (value or "—").title()
        return _NAME.get(value or "", "Done" if value == "blue" else "not rated")

    note = f" — “{_clip(move.note)}”" if move.note else ""
    who = changed_by(move.actor, move.surface)
    return (
        f"{move.action.ref} · {_clip(move.action.title)} · {who}: "
        f"{said(move.from_value)} → {said(move.to_value)}{note}"
    )


def _section(
    title: str,
    section: Section,
    today: date,
    describe: Callable[[DigestAction, date], str],
    *,
    more: str,
) -> list[Block]:
    return _listed(
        title,
        section.groups,
        lambda action: describe(action, today),
        total=section.total,
        more=f"All of them: {more}.",
    )


def _listed(
    title: str,
    groups: Sequence[tuple[str, Sequence[T]]],
    describe: Callable[[T], str],
    *,
    total: int,
    more: str,
) -> list[Block]:
    """A list's title and lines, under their group labels, cut at SECTION_ITEMS lines or SECTION_CHARACTERS
    characters; what is left out is counted in "…and N more". Only the lines shown are written."""
    lines = [f"*{title}*"]
    length, shown = len(lines[0]), 0
    for label, items in groups:
        if shown >= SECTION_ITEMS or length >= SECTION_CHARACTERS:
            break
        heading = [f"_{label}_"] if label else []
        for item in items:
            if shown >= SECTION_ITEMS:
                break
            added = [*heading, f"• {describe(item)}"]
            cost = sum(len(line) + 1 for line in added)
            if length + cost > SECTION_CHARACTERS:
                length = SECTION_CHARACTERS  # full: a shorter line of a later group would read out of order
                break
            lines += added
            length += cost
            shown += 1
            heading = []
    blocks: list[Block] = [Text("\n".join(lines))]
    if total > shown:
        blocks.append(Context(f"…and {total - shown} more. {more}"))
    return blocks


def week_of(moment: datetime) -> str:
    """The ISO week a moment falls in, as a digest's key names it: "2025-W45"."""
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"
