"""Decodes a text file a person exported (a plan's CSV, the people directory) in the encodings spreadsheets
write."""

from __future__ import annotations

import codecs


class TextEncodingError(ValueError):
    """The bytes are in no encoding we read; the message says so to the person who chose the file."""


def decode_text(data: bytes, *, name: str) -> str:
    """Decode UTF-8 (with or without BOM), UTF-16 with a BOM, or Windows-1252, refusing anything else."""
    text: str | None = None
    if data.startswith(codecs.BOM_UTF8):
        text = _try_decode(data, "utf-8-sig")
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = _try_decode(data, "utf-16")
    elif b"\x00" not in data:
        text = _try_decode(data, "utf-8") or _try_decode(data, "cp1252")
    if text is None or "\x00" in text:
        raise TextEncodingError(
            f"'{name}' is not in a text encoding I can read (UTF-8, UTF-16 with a byte-order mark, or "
            "Windows-1252); save it as UTF-8 (in Excel: 'CSV UTF-8') and import again."
        )
    return text


def _try_decode(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        return None
