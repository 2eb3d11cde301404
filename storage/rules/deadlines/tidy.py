"""Tidies a cell before it is read: markup gone, one kind of space and dash, the framing punctuation off."""

from __future__ import annotations

import html
import re
from typing import Final

from storage.rules.deadlines.vocabulary import F

_HTML_BREAK: Final = re.compile(r"<\s*(?:br|/p|/li|/div|/tr|/h[1-6])\b[^<>]*>", F)
_HTML_TAG: Final = re.compile(r"</?[a-z][^<>]{0,300}>", F)
_CHARACTERS: Final = str.maketrans(
    {
        **dict.fromkeys("\u00a0\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u3000", " "),
        **dict.fromkeys("\u200b\u200c\u200d\u2060\ufeff\u00ad", ""),
        **dict.fromkeys("\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d", "\u2013"),
        **dict.fromkeys("\u2010\u2011", "-"),
        **dict.fromkeys("\u2018\u2019\u2032", "'"),
        **dict.fromkeys("\u201c\u201d", '"'),
        "\uff0f": "/",
        **dict.fromkeys("\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029", "\n"),
    }
)
# Bullets, quotes, brackets and trailing full stops frame a date without changing it.
_PUNCTUATION_RUN: Final = re.compile(r"[\W_]+")


def visible(text: str) -> str:
    """The cell as a reader sees it: markup gone, paragraphs as lines, every dash and space one of a kind."""
    if "<" in text:
        text = _HTML_TAG.sub(" ", _HTML_BREAK.sub("\n", text))
    if "&" in text:
        text = html.unescape(text)
    return text.translate(_CHARACTERS)


def lines(text: str) -> str:
    """The visible cell with one space between words and its lines trimmed; blank lines dropped."""
    if "\n" in text:
        return "\n".join(line for line in (trim(" ".join(line.split())) for line in text.split("\n")) if line)
    return trim(" ".join(text.split()))


def trim(text: str) -> str:
    """`text` without the punctuation framing it; a closing bracket stays when its opening one does."""
    if not text or (text[0].isalnum() and text[-1].isalnum()):
        return text
    leading = _PUNCTUATION_RUN.match(text)
    if leading is not None:
        text = text[leading.end() :]
    # Read from the end, so that a long run of punctuation inside the text is passed over once, not once
    # for every character in it.
    trailing = _PUNCTUATION_RUN.match(text[::-1])
    if trailing is None:
        return text
    end = len(text) - trailing.end()
    keep = ")" if ")" in text[end:] and "(" in text[:end] else ""
    return text[:end] + keep
