"""Understands a plain reply in a reminder's thread ("amber - waiting on budget") as the command it means."""

from __future__ import annotations

import re
from dataclasses import dataclass

_STATUS_WORDS = {
    "green": "green",
    "g": "green",
    "on track": "green",
    "amber": "amber",
    "a": "amber",
    "at risk": "amber",
    "red": "red",
    "r": "red",
    "blocked": "red",
    "off track": "red",
    "done": "done",
    "complete": "done",
    "completed": "done",
    "finished": "done",
    "delivered": "done",
}
_DONE_EMOJI = ("✅", "✔", "☑", ":white_check_mark:", ":heavy_check_mark:")
# A status word counts alone ("done") or followed by a separator ("amber - waiting on budget",
# "green, on track"); "Completed the first of three workshops" and "Red tape…" are sentences, not updates.
_STATUS = re.compile(
    r"^(green|amber|red|done|complete|completed|finished|delivered|on track|at risk|blocked|off track|[gar])"
    r"\s*(?:$|[,.:;!\-–—]+\s*(.*)$)",
    re.IGNORECASE | re.DOTALL,
)
_DONE_WORD = re.compile(r"^(?:done|complete|completed|finished|delivered)\b[\s,.:;!\-–—]*", re.IGNORECASE)
_SNOOZE = re.compile(r"^(?:snooze|remind me)\s+(?:(?:for|in)\s+)?(.+)$", re.IGNORECASE)
_NEW_DATE = re.compile(
    r"^(?:new\s+(?:date|deadline)|(?:moved?|push(?:ed)?|change[d]?)\s+(?:it\s+)?to|due(?:\s+date)?|deadline)"
    r"\s*[:\-–]?\s*(.+)$",
    re.IGNORECASE,
)
_NOTE = re.compile(r"^(?:note|update|progress)\s*[:\-–]\s*(.+)$", re.IGNORECASE | re.DOTALL)
_NOT_MINE = re.compile(
    r"^(?:not\s+(?:mine|me|my\s+action)|wrong\s+person|this\s+isn'?t\s+mine|not\s+my\s+(?:job|area|team))\b",
    re.IGNORECASE,
)
_SNOOZE_UNITS = re.compile(r"^(\d+)\s*(d|day|days|w|wk|wks|week|weeks|m|month|months)$", re.IGNORECASE)


@dataclass(frozen=True)
class Understood:
    command: str  # a command of the layer: "amber", "snooze", "due", "note", "notmine"
    arguments: list[str]  # after the action reference
    summary: str  # what we understood, in words


def understand(text: str) -> Understood | None:
    """The command a thread reply means, or None when it is not clear enough to act on."""
    text = text.strip()
    for emoji in _DONE_EMOJI:
        if emoji in text:
            rest = text.replace(emoji, " ").strip(" -–—,.:;!")
            note = _DONE_WORD.sub("", rest, count=1).strip()
            return Understood("done", [note] if note else [], "marked done")
    if _NOT_MINE.match(text):
        return Understood("notmine", [], "this action is not yours")
    if match := _SNOOZE.match(text):
        period = match.group(1).strip().rstrip(".")
        return Understood("snooze", [_snooze_period(period)], f"snooze for {period}")
    if match := _NEW_DATE.match(text):
        return Understood("due", [match.group(1).strip()], f"new deadline {match.group(1).strip()}")
    if match := _NOTE.match(text):
        return Understood("note", [match.group(1).strip()], "a progress note")
    if match := _STATUS.match(text):
        status = _STATUS_WORDS[match.group(1).lower()]
        note = (match.group(2) or "").strip()
        return Understood(
            status, [note] if note else [], f"mark {status}" + (f" with note “{note}”" if note else "")
        )
    return None


def _snooze_period(period: str) -> str:
    """ "2 weeks" → "2w", "until 3 March" stays as it is (the snooze command reads both)."""
    match = _SNOOZE_UNITS.match(period.replace(" ", "") if period[:1].isdigit() else period)
    if not match:
        match = _SNOOZE_UNITS.match(period)
    if match:
        return f"{match.group(1)}{match.group(2)[0].lower()}"
    return period
