"""Reads a plan file (DOCX, XLSX, CSV, TSV, TXT or PDF) into the plain stream of rows that importing works on.

Readers only read: they keep every cell as the file had it, clean a copy, and leave
finding headers and interpreting cells to the modules that consume the rows. Each format has
its module; this one checks the file and hands it to the reader for its extension.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from storage.importing.errors import PlanFileError
from storage.importing.limits import MAX_FILE_BYTES, PlanTooLargeError, check_rows, megabytes
from storage.importing.readers.delimited import read_csv, read_tsv
from storage.importing.readers.pdf import read_pdf
from storage.importing.readers.text import read_txt
from storage.importing.readers.word import read_docx
from storage.importing.readers.workbook import read_xlsx
from storage.importing.sources import SourceDocument, SourceRow

DEFAULT_MAX_BYTES = MAX_FILE_BYTES

SUPPORTED_EXTENSIONS = (".docx", ".xlsx", ".csv", ".tsv", ".txt", ".pdf")
_SAVE_AS_ADVICE = {
    ".doc": "is an old-style Word file; open it in Word, save it as .docx and import that",
    ".xls": "is an old-style Excel file; open it in Excel, save it as .xlsx and import that",
    ".odt": "is an OpenDocument text file; open it and save it as .docx, then import that",
    ".ods": "is an OpenDocument spreadsheet; open it and save it as .xlsx, then import that",
}
# Password-protected Office files are not zip packages but OLE compound files with this signature.
_OLE_SIGNATURE = bytes.fromhex("D0CF11E0A1B11AE1")


def read_plan_file(path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> SourceDocument:
    """Read the file at `path` into rows, or raise PlanFileError saying what the owner should do."""
    name = path.name
    extension = path.suffix.lower()
    if not path.exists():
        raise PlanFileError(
            f"I can't find '{name}' in {path.parent}; check the file name and folder and try again."
        )
    if path.is_dir():
        raise PlanFileError(f"'{name}' is a folder, not a file; choose the plan file inside it.")
    reader = _READERS.get(extension)
    if reader is None:
        raise PlanFileError(_unsupported_message(name, extension))
    size = path.stat().st_size
    if size == 0:
        raise PlanFileError(f"'{name}' is empty (0 bytes); check you chose the right file and import again.")
    if size > max_bytes:
        raise PlanTooLargeError(
            f"'{name}' is too large: it is {megabytes(size)}, over the {megabytes(max_bytes)} limit for plan "
            "files; remove images or split the plan into smaller files and import those."
        )
    try:
        with path.open("rb") as file:
            head = file.read(len(_OLE_SIGNATURE))
    except OSError as exc:
        raise PlanFileError(
            f"I can't open '{name}' ({exc.strerror}); check you are allowed to read it and try again."
        ) from exc
    if extension in (".docx", ".xlsx") and head == _OLE_SIGNATURE:
        raise PlanFileError(f"'{name}' is password-protected; remove the password and import again.")
    rows = reader(path)
    check_rows(name, len(rows))
    if not rows:
        raise PlanFileError(f"'{name}' has no text I can read; check it is the right file and import again.")
    return SourceDocument(name=name, format=extension.lstrip("."), rows=tuple(rows))


def _unsupported_message(name: str, extension: str) -> str:
    if extension in _SAVE_AS_ADVICE:
        return f"'{name}' {_SAVE_AS_ADVICE[extension]}."
    kind = f"{extension} files" if extension else "files without an extension"
    supported = ", ".join(SUPPORTED_EXTENSIONS[:-1]) + " or " + SUPPORTED_EXTENSIONS[-1]
    return f"I can't read {kind} such as '{name}'; save the plan as {supported} and import that."


_READERS: dict[str, Callable[[Path], list[SourceRow]]] = {
    ".docx": read_docx,
    ".xlsx": read_xlsx,
    ".csv": read_csv,
    ".tsv": read_tsv,
    ".txt": read_txt,
    ".pdf": read_pdf,
}

__all__ = ["DEFAULT_MAX_BYTES", "SUPPORTED_EXTENSIONS", "read_plan_file"]
