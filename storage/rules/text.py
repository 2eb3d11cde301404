"""Text as people send it, made safe to keep and to echo: no NUL or control bytes, no hidden direction
changes.

Everything typed, pressed or submitted passes through `clean_text` once, where it enters the command layer;
so does every cell of a plan file (where the importer builds its rows) and the people CSV (where it is read).
PostgreSQL refuses a NUL byte in text outright, and the rest are how a note is visually spoofed when it is
echoed into a channel: a right-to-left override (U+202E) before "txt.exe" shows "exe.txt", and zero-width
characters make two different references look alike. Everything else is kept as it was typed, accents, other
scripts and emoji included.

Zero-width joiners are the one judgement call. U+200D (ZWJ) builds emoji sequences (👩‍💻, 🏳️‍🌈) and U+200C
(ZWNJ) shapes Persian and Indic words, so either is kept when it sits between two characters that join that
way (a symbol or emoji, a modifier, a letter or mark of a script other than Latin); between Latin letters,
digits or punctuation, or at either end, it only hides something, and goes.
"""

from __future__ import annotations

import re
import unicodedata

# C0 controls but tab and newline, DEL, C1 controls; the bidi embeddings, overrides and isolates, and the
# direction marks; zero-width space, word joiner and byte-order mark.
_ALWAYS_DROPPED = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\u200b\u2060\ufeff]"
)
_JOINERS = "\u200c\u200d"
_JOINING_CATEGORIES = {"So", "Sk", "Lo", "Lm", "Mn", "Mc"}


def clean_text(text: str) -> str:
    """`text` without NUL, control characters (tab and newline kept; CR LF and lone CR become newline), bidi
    controls, or zero-width characters that join nothing; nothing else changes, and cleaning twice changes
    nothing more."""
    text = _ALWAYS_DROPPED.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    if not any(joiner in text for joiner in _JOINERS):
        return text
    kept: list[str] = []
    for index, char in enumerate(text):
        if char in _JOINERS and not (
            index > 0 and index + 1 < len(text) and _joins(text[index - 1]) and _joins(text[index + 1])
        ):
            continue
        kept.append(char)
    return "".join(kept)


def _joins(char: str) -> bool:
    """A character a joiner may legitimately follow or precede: an emoji or symbol, a modifier, a letter or
    mark outside ASCII other than a Latin one (Persian, Devanagari, Sinhala…)."""
    if char.isascii() or char in _JOINERS:
        return False
    if unicodedata.category(char) not in _JOINING_CATEGORIES:
        return False
    return "LATIN" not in unicodedata.name(char, "")
