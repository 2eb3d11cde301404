"""What the format readers share: text split by strike-through, and one sentence for a damaged file."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from storage.importing.cleaning import join_struck
from storage.importing.errors import PlanFileError
from storage.textfiles import TextEncodingError, decode_text


@contextmanager
def unreadable_as(path: Path, what: str, advice: str) -> Iterator[None]:
    """Turn whatever a parsing library raises on a damaged file into one sentence for the owner.

    docx, openpyxl and pdfminer raise a zoo of exceptions on malformed input (BadZipFile,
    KeyError, ValueError, XML syntax errors, ...); none of them means anything to a plan owner.
    """
    try:
        yield
    except PlanFileError:
        raise
    except Exception as exc:
        raise PlanFileError(f"'{path.name}' is damaged or is not really {what}; {advice}.") from exc


def read_text(path: Path) -> str:
    """The text of a CSV, TSV or TXT plan, or PlanFileError when it is in no encoding we read."""
    try:
        return decode_text(path.read_bytes(), name=path.name)
    except TextEncodingError as exc:
        raise PlanFileError(str(exc)) from exc


@dataclass(frozen=True)
class CellText:
    """Text of a paragraph or cell: as written, without struck-through runs, and the struck runs."""

    raw: str
    kept: str
    struck: str

    @staticmethod
    def join(parts: Sequence[CellText], separator: str = "\n") -> CellText:
        return CellText(
            raw=separator.join(part.raw for part in parts),
            kept=separator.join(part.kept for part in parts),
            struck=join_struck(part.struck for part in parts),
        )

    @staticmethod
    def from_runs(runs: Iterable[tuple[str, bool]]) -> CellText:
        """Text written as runs, each struck through or not. Neighbouring struck runs make one struck
        piece ("March " + "2025" is "March 2025", however Word or Excel split the runs); a run of
        spaces between them does not part them."""
        raw: list[str] = []
        kept: list[str] = []
        pieces: list[str] = []
        piece: list[str] = []
        for text, struck in runs:
            raw.append(text)
            if struck:
                piece.append(text)
                continue
            kept.append(text)
            if piece and text.strip():
                pieces.append("".join(piece))
                piece.clear()
            elif piece:
                piece.append(text)
        pieces.append("".join(piece))
        return CellText("".join(raw), "".join(kept), join_struck(pieces))


EMPTY = CellText("", "", "")
