"""How a plan's sentence reads: an action says what to do ("Identify training providers"), a progress note
reports what was done ("Potential training providers have been identified")."""

from __future__ import annotations

import re

# Verbs plans start their actions with. Words ending -ise, -ize, -ify or -ate are taken as verbs too
# ("Prioritise", "Identify", "Create"), so the list holds the rest.
_ACTION_VERBS = frozenset(
    [
        "adopt",
        "agree",
        "align",
        "allocate",
        "analyse",
        "appoint",
        "arrange",
        "assess",
        "attend",
        "audit",
        "benchmark",
        "brief",
        "build",
        "carry",
        "challenge",
        "champion",
        "check",
        "co-produce",
        "coproduce",
        "collect",
        "commission",
        "complete",
        "conduct",
        "consider",
        "consult",
        "continue",
        "deliver",
        "design",
        "develop",
        "devise",
        "draft",
        "embed",
        "encourage",
        "engage",
        "enhance",
        "ensure",
        "establish",
        "expand",
        "explore",
        "extend",
        "hold",
        "host",
        "implement",
        "improve",
        "include",
        "increase",
        "introduce",
        "invest",
        "involve",
        "keep",
        "launch",
        "lead",
        "look",
        "maintain",
        "make",
        "map",
        "measure",
        "meet",
        "mentor",
        "monitor",
        "offer",
        "plan",
        "produce",
        "promote",
        "provide",
        "publish",
        "raise",
        "recruit",
        "reduce",
        "refresh",
        "report",
        "research",
        "review",
        "revise",
        "run",
        "seek",
        "set",
        "share",
        "sign",
        "strengthen",
        "support",
        "take",
        "target",
        "test",
        "train",
        "undertake",
        "understand",
        "use",
        "work",
        "write",
    ]
)
_VERB_ENDINGS = ("ise", "ize", "ify", "ate")
_NOT_VERBS = frozenset({"corporate", "candidate", "climate", "private", "senate", "separate", "graduate"})
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")
# "has been identified", "have now completed", "was launched", "were held": the work reported as done.
_PERFECT = re.compile(
    r"\b(has|have|had|was|were)\s+(?:now\s+|already\s+|also\s+|successfully\s+|recently\s+)?"
    r"(?:been\s+)?(?:\w+ly\s+)?([a-z]+)\b",
    re.IGNORECASE,
)
_PARTICIPLE = re.compile(r"(?:ed|en|wn|ne|ht|id|ung|un|ent|ought|ade|eld|ole)$")
_DONE_STATE = re.compile(
    r"\b(?:is|are)\s+(?:now\s+)?(?:complete|completed|done|in place|under\s*way|up and running|live)\b",
    re.IGNORECASE,
)
# Before these the perfect is a plan's aim, not a report: "all managers will have completed the training".
_AIMING = frozenset({"will", "would", "should", "shall", "must", "may", "might", "could", "to"})
# A perfect after these is inside a clause of a longer sentence: "staff who have been affected".
_CLAUSE = re.compile(r"\b(?:who|whom|which|that|where|when|if|whether|once|until)\b", re.IGNORECASE)
REPORT_MIN_WORDS = 3


def first_word(text: str) -> str:
    match = _WORD.search(text)
    return match.group(0).casefold() if match else ""


def starts_with_action_verb(text: str) -> bool:
    """Whether a sentence opens the way an action does, with what to do: "Identify…", "Prioritise…"."""
    word = first_word(text)
    if word in _ACTION_VERBS:
        return True
    return len(word) > 4 and word.endswith(_VERB_ENDINGS) and word not in _NOT_VERBS


def reads_as_report(text: str) -> bool:
    """Whether a cell reports work done rather than saying what to do: "Potential training providers have been
    identified", "The guide is now in place". An action ("Ensure staff who have been
    affected are supported") or an aim ("All managers will have completed the training") is not one."""
    sentence = " ".join(text.split())
    if len(sentence.split(" ")) < REPORT_MIN_WORDS or starts_with_action_verb(sentence):
        return False
    # A first word in -ed ("Improved staff awareness") is as often an outcome a plan aims at as a report.
    if _DONE_STATE.search(sentence):
        return True
    for match in _PERFECT.finditer(sentence):
        before = sentence[: match.start()]
        words = before.split()
        if (words and words[-1].casefold() in _AIMING) or _CLAUSE.search(before):
            continue
        if _PARTICIPLE.search(match.group(2).casefold()):
            return True
    return False


def reads_as_action(text: str) -> bool:
    """Whether a cell says what to do, as a plan's action does: a few words opening with a verb."""
    sentence = " ".join(text.split())
    return len(sentence.split(" ")) >= REPORT_MIN_WORDS and starts_with_action_verb(sentence)
