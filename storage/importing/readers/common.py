"""What the format readers share: one sentence for a damaged file, the bounds of a zip package, text files
read in the encodings spreadsheets write, and text split by strike-through."""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from storage.importing.cleaning import build_row, join_struck
from storage.importing.errors import PlanFileError
from storage.importing.limits import (
    MAX_PART_BYTES,
    MAX_UNPACKED_BYTES,
    MAX_ZIP_MEMBERS,
    megabytes,
    too_large,
)
from storage.importing.sources import SourceRow
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


def check_package(path: Path) -> None:
    """Refuse a DOCX or XLSX whose parts would unpack to more than the limits, before any is unpacked.

    The sizes come from the zip's directory; zipfile never inflates a part past the size written
    there (a part that would is damaged, by its checksum), so they bound what the readers unpack.
    A file that is no zip at all is left to its reader, which says it is damaged.
    """
    try:
        with zipfile.ZipFile(path) as package:
            parts = package.infolist()
    except Exception:  # any failure here is the reader's to report, as damage
        return
    if len(parts) > MAX_ZIP_MEMBERS:
        raise too_large(
            path.name, found=f"it is a package of {len(parts):,} parts", limit=f"{MAX_ZIP_MEMBERS:,} parts"
        )
    biggest = max((part.file_size for part in parts), default=0)
    if biggest > MAX_PART_BYTES:
        raise too_large(
            path.name,
            found=f"one of its parts unpacks to {megabytes(biggest)}",
            limit=f"{megabytes(MAX_PART_BYTES)} for one part",
        )
    total = sum(part.file_size for part in parts)
    if total > MAX_UNPACKED_BYTES:
        raise too_large(
            path.name,
            found=f"its parts unpack to {megabytes(total)} together",
            limit=f"{megabytes(MAX_UNPACKED_BYTES)} unpacked",
        )


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


def row_of_texts(texts: Sequence[CellText], *, line: int, table: int | None, where: str) -> SourceRow | None:
    """A row from cells whose struck-through runs the reader separated itself (DOCX, rich XLSX text)."""
    return build_row(
        [text.raw for text in texts],
        kept=[text.kept for text in texts],
        struck_elsewhere=[text.struck for text in texts],
        line=line,
        table=table,
        where=where,
    )
