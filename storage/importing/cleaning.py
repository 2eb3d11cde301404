"""Turns one cell as a file holds it into clean text, setting struck-through text aside and dropping what
text must not carry in (storage.rules.text)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from html.parser import HTMLParser

from storage.importing.sources import SourceRow
from storage.rules.text import clean_text

# Tags whose start or end begins a new line of text.
_LINE_BREAK_TAGS = frozenset(
    {"p", "br", "li", "div", "tr", "ul", "ol", "table", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6"}
)
_CELL_TAGS = frozenset({"td", "th"})
_STRIKE_TAGS = frozenset({"del", "s", "strike"})
_INVISIBLE_TAGS = frozenset({"script", "style"})

# Deciding whether a cell holds markup at all keeps "B&NES" or "<5 staff" in plain cells untouched.
_ENTITY = r"&(?:#[0-9]+|#[xX][0-9A-Fa-f]+|[A-Za-z][A-Za-z0-9]*);"
_LOOKS_LIKE_MARKUP = re.compile(rf"<[A-Za-z/!]|{_ENTITY}")
# html.unescape also honours old entities written without ";" ("&not" in "&notes"); plain
# ampersands are escaped first so that only complete entities are unescaped.
_BARE_AMPERSAND = re.compile(rf"&(?!{_ENTITY[1:]})")
# Word leaves these bookmark names in its plain-text extracts: "[bookmark: _Hlk78985188]".
_BOOKMARK = re.compile(r"\[bookmark: [^\]]*\]")
_LINE_BREAKS = re.compile(r"\r\n|[\r\x0b\x0c\u2028\u2029]")
_SPACES = re.compile(r"[^\S\n]+")
# Anything tidy_text would change: whitespace other than single inner spaces, or a bookmark.
_UNTIDY = re.compile(r"[^\S ]|  |^ | $|\[bookmark: ")


@dataclass(frozen=True, slots=True)
class CleanCell:
    """A cell's readable text and the struck-through text taken out of it."""

    text: str
    struck: str = ""


class _CellHTMLParser(HTMLParser):
    """Collects a cell's text, sending anything inside <del>/<s>/<strike> to a separate list."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.kept: list[str] = []
        self.struck: list[str] = []
        self._strike_depth = 0
        self._invisible_depth = 0

    def _emit(self, text: str) -> None:
        (self.struck if self._strike_depth else self.kept).append(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _STRIKE_TAGS:
            self._strike_depth += 1
            self.struck.append("\n")
        elif tag in _INVISIBLE_TAGS:
            self._invisible_depth += 1
        elif tag in _LINE_BREAK_TAGS:
            self._emit("\n")
        elif tag in _CELL_TAGS:
            self._emit(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _STRIKE_TAGS:
            self._strike_depth = max(0, self._strike_depth - 1)
            self.struck.append("\n")
        elif tag in _INVISIBLE_TAGS:
            self._invisible_depth = max(0, self._invisible_depth - 1)
        elif tag in _LINE_BREAK_TAGS:
            self._emit("\n")

    def handle_data(self, data: str) -> None:
        if not self._invisible_depth:
            self._emit(data)


def tidy_text(text: str) -> str:
    """Collapse spaces inside each line, trim every line and drop blank lines."""
    if not _UNTIDY.search(text):
        return text
    text = _LINE_BREAKS.sub("\n", _BOOKMARK.sub("", text))
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


# A cell a spreadsheet would take for a formula is written with a leading apostrophe by careful exporters
# (edibot's reports among them, as OWASP advises against formula injection): the apostrophe is not the text.
_NEUTRALISED = re.compile(r"^'(?=[=+\-@\t\r])")


@lru_cache(maxsize=4096)  # plans repeat owners, dates and ratings down whole columns
def clean_cell(raw: str) -> CleanCell:
    """Strip HTML, Word bookmark markers and stray whitespace from one cell; keep struck text apart."""
    raw = _NEUTRALISED.sub("", raw)
    if not _LOOKS_LIKE_MARKUP.search(raw):
        return CleanCell(tidy_text(raw))
    parser = _CellHTMLParser()
    parser.feed(_BARE_AMPERSAND.sub("&amp;", raw))
    parser.close()
    return CleanCell(tidy_text("".join(parser.kept)), tidy_text("".join(parser.struck)))


def join_struck(parts: Iterable[str]) -> str:
    """Join pieces of struck-through text found in one cell, one piece a line."""
    return "\n".join(part for part in parts if part)


@dataclass(frozen=True, slots=True)
class CleanRow:
    """The cleaned cells of one row, with the struck text of each."""

    cells: tuple[str, ...]
    struck: tuple[str, ...]

    @property
    def is_blank(self) -> bool:
        return not any(self.cells) and not any(self.struck)


def clean_row(texts: Sequence[str], *, struck_elsewhere: Sequence[str] = ()) -> CleanRow:
    """Clean each cell of a row; `struck_elsewhere` adds struck text the reader found outside the
    cell text (DOCX runs formatted as struck-through), one entry per cell."""
    cleaned = [clean_cell(text) for text in texts]
    if not any(struck_elsewhere):
        # join_struck(("", struck)) is struck itself: the usual row needs no joining.
        return CleanRow(
            cells=tuple(cell.text for cell in cleaned), struck=tuple(cell.struck for cell in cleaned)
        )
    extra = [*struck_elsewhere, *([""] * (len(texts) - len(struck_elsewhere)))]
    return CleanRow(
        cells=tuple(cell.text for cell in cleaned),
        struck=tuple(
            join_struck((tidy_text(more), cell.struck)) if more or cell.struck else ""
            for cell, more in zip(cleaned, extra, strict=True)
        ),
    )


def build_row(
    raw: Sequence[str],
    *,
    line: int,
    table: int | None,
    where: str = "",
    kept: Sequence[str] | None = None,
    struck_elsewhere: Sequence[str] = (),
) -> SourceRow | None:
    """Make a row from cells as the file holds them, or None when the row has no text at all.

    `kept` is the cell text without struck-through runs when the reader separated those
    itself (DOCX); otherwise the raw text is cleaned.
    """
    cleaned = clean_row(raw if kept is None else kept, struck_elsewhere=struck_elsewhere)
    cells, struck = tuple(map(safe_text, cleaned.cells)), tuple(map(safe_text, cleaned.struck))
    if not any(cells) and not any(struck):
        return None
    return SourceRow(
        cells=cells, raw=tuple(map(safe_text, raw)), line=line, table=table, where=where, struck=struck
    )


@lru_cache(maxsize=4096)
def safe_text(text: str) -> str:
    """A cell's text as it may be kept and echoed: storage.rules.text.clean_text (no NUL, which PostgreSQL
    refuses, no bidi controls or hidden zero-width characters, which spoof what a channel shows), with a
    vertical tab or form feed (line breaks, as Word and Excel write them) read as the line break it is.

    Every reader's rows pass here (build_row), cells and raw text alike: the one door a plan's text comes in
    by, as commands come in by the command layer's.
    """
    return clean_text(text.replace("\x0b", "\n").replace("\x0c", "\n"))
