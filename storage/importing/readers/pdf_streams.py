"""Measures what a PDF's streams unpack to, never unpacking more than the limit, before the PDF is read.

pdfminer inflates each stream whole, whatever it inflates to: a 3 MB file can hold a stream of
1.3 GB of zeros. So the raw file is scanned first: every stream is found by its keywords and
undone filter by filter (Flate, LZW, RunLength, ASCIIHex, ASCII85), each step stopped one byte past
the limit. Image codecs (DCT, JPX, JBIG2, CCITT) are left packed, as reading a plan leaves them.
The scan reads the bytes as written, so an encrypted PDF's streams, which only pdfminer can
decrypt, are not measured.
"""

from __future__ import annotations

import io
import re
import zlib
from collections.abc import Callable

from pdfminer.ascii85 import ascii85decode, asciihexdecode
from pdfminer.lzw import LZWDecoder
from pdfminer.pdfpage import PDFPage
from pdfminer.pdftypes import PDFStream, resolve1

from storage.importing.limits import (
    MAX_PDF_PAGE_CONTENT_BYTES,
    MAX_PDF_STREAM_BYTES,
    MAX_PDF_UNPACKED_BYTES,
    megabytes,
    too_large,
)

# "stream" after a dictionary, and the end of the line it ends (the data starts on the next).
_STREAM = re.compile(rb">>\s*stream(?:\r\n|\n|\r)")
_OBJECT = re.compile(rb"\d+\s+\d+\s+obj\b")
_FILTER = re.compile(rb"/Filter\s*(\[[^\]]*\]|/[^\s/\[\]<>()]+)")
_NAME = re.compile(rb"/([^\s/\[\]<>()]+)")
# How far back from "stream" its dictionary may start.
_DICTIONARY_REACH = 64 * 1024
_INFLATE_CHUNK = 64 * 1024
# How deep forms drawn inside forms are followed.
_FORM_DEPTH = 8


def check_streams(data: bytes, *, name: str) -> None:
    """Refuse a PDF with a stream that unpacks to more than MAX_PDF_STREAM_BYTES, or streams that do
    to more than MAX_PDF_UNPACKED_BYTES together."""
    total = 0
    for match in _STREAM.finditer(data):
        start = match.end()
        end = data.find(b"endstream", start)
        if end < 0:
            end = len(data)
        size = _unpacked_size(data[start:end], _filters(data, match.start()))
        if size > MAX_PDF_STREAM_BYTES:
            raise too_large(
                name,
                found=(
                    f"one of its streams (page text, a font or an image) unpacks to more than "
                    f"{megabytes(MAX_PDF_STREAM_BYTES)}"
                ),
                limit=f"{megabytes(MAX_PDF_STREAM_BYTES)} for one stream",
            )
        total += size
        if total > MAX_PDF_UNPACKED_BYTES:
            raise too_large(
                name,
                found=f"its streams unpack to more than {megabytes(MAX_PDF_UNPACKED_BYTES)}",
                limit=f"{megabytes(MAX_PDF_UNPACKED_BYTES)} unpacked",
            )


def check_page_content(page: PDFPage, *, name: str, number: int) -> None:
    """Refuse a page whose drawing instructions (its content streams, the forms it draws and the
    character maps of its fonts) unpack to more than MAX_PDF_PAGE_CONTENT_BYTES.

    pdfminer turns every instruction into objects, and every character drawn into a few more, so
    a page's instructions must stay near what a dense page of a plan needs (tens of kilobytes).
    The streams are taken as pdfminer will decode them, decrypted where the PDF is encrypted.
    """
    remaining = MAX_PDF_PAGE_CONTENT_BYTES
    for stream in _drawn_streams(page):
        remaining -= _stream_size(stream, limit=remaining)
        if remaining < 0:
            raise too_large(
                name,
                found=f"the drawing instructions of page {number} unpack to more than "
                f"{MAX_PDF_PAGE_CONTENT_BYTES // 1024} KB",
                limit=f"{MAX_PDF_PAGE_CONTENT_BYTES // 1024} KB for a page",
            )


def _drawn_streams(page: PDFPage) -> list[PDFStream]:
    """The page's content streams, and those of the forms and font character maps in its resources
    and theirs, each once."""
    streams: list[PDFStream] = []
    seen: set[int] = set()

    def add(item: object) -> PDFStream | None:
        stream = resolve1(item)
        if not isinstance(stream, PDFStream) or id(stream) in seen:
            return None
        seen.add(id(stream))
        streams.append(stream)
        return stream

    def visit(resources: object, depth: int) -> None:
        resources = resolve1(resources)
        if not isinstance(resources, dict) or depth > _FORM_DEPTH:
            return
        fonts = resolve1(resources.get("Font"))
        for font in fonts.values() if isinstance(fonts, dict) else ():
            font = resolve1(font)
            if isinstance(font, dict):
                add(font.get("ToUnicode"))
        forms = resolve1(resources.get("XObject"))
        for item in forms.values() if isinstance(forms, dict) else ():
            form = resolve1(item)
            if isinstance(form, PDFStream) and _name(form.get("Subtype")) == "Form" and add(form) is not None:
                visit(form.get("Resources"), depth + 1)

    for item in page.contents:
        add(item)
    visit(page.resources, 0)
    return streams


def _name(value: object) -> str:
    return str(getattr(resolve1(value), "name", ""))


def _stream_size(stream: PDFStream, *, limit: int) -> int:
    """What pdfminer will make of the stream, measured up to one byte past `limit`."""
    if stream.data is not None:
        return len(stream.data)
    data = stream.rawdata or b""
    if stream.decipher is not None and stream.objid is not None and stream.genno is not None:
        data = stream.decipher(stream.objid, stream.genno, data, stream.attrs)
    filters = [_name(name).encode() for name, _ in stream.get_filters()]
    return _unpacked_size(data, filters, limit=limit)


def _filters(data: bytes, stream_at: int) -> list[bytes]:
    """The filter names in the dictionary of the stream whose keyword is at `stream_at`."""
    reach = max(0, stream_at - _DICTIONARY_REACH)
    objects = list(_OBJECT.finditer(data, reach, stream_at))
    dictionary = data[objects[-1].end() if objects else reach : stream_at]
    found = _FILTER.search(dictionary)
    return [] if found is None else _NAME.findall(found.group(1))


def _unpacked_size(raw: bytes, filters: list[bytes], *, limit: int = MAX_PDF_STREAM_BYTES) -> int:
    """The stream's size once its filters are undone, or any size over `limit` once it is clear."""
    data = raw
    for name in filters:
        decode = _DECODERS.get(name)
        if decode is None:
            break  # an image codec, or a filter pdfminer refuses: left as it is
        data = decode(data, limit)
        if len(data) > limit:
            break
    return len(data)


def _inflate(data: bytes, limit: int) -> bytes:
    """Flate data inflated up to one byte past `limit`; corrupt data as far as it goes, as pdfminer
    reads it."""
    inflater = zlib.decompressobj()
    out = bytearray()
    view = memoryview(data)
    for start in range(0, len(data), _INFLATE_CHUNK):
        piece: bytes | memoryview = view[start : start + _INFLATE_CHUNK]
        while piece and len(out) <= limit:
            try:
                out += inflater.decompress(piece, limit + 1 - len(out))
            except zlib.error:
                return bytes(out)
            piece = inflater.unconsumed_tail
        if len(out) > limit or inflater.eof:
            break
    return bytes(out)


def _lzw(data: bytes, limit: int) -> bytes:
    out = bytearray()
    for piece in LZWDecoder(io.BytesIO(data)).run():
        out += piece
        if len(out) > limit:
            break
    return bytes(out)


def _run_length(data: bytes, limit: int) -> bytes:
    out = bytearray()
    index = 0
    while index < len(data) and len(out) <= limit:
        length = data[index]
        if length == 128:
            break
        if length < 128:
            out += data[index + 1 : index + length + 2]
            index += length + 2
        else:
            out += data[index + 1 : index + 2] * (257 - length)
            index += 2
    return bytes(out)


def _shrinking(decode: Callable[[bytes], bytes]) -> Callable[[bytes, int], bytes]:
    """A filter whose output is never longer than its input: undone as pdfminer undoes it."""

    def undo(data: bytes, limit: int) -> bytes:
        try:
            return decode(data)
        except Exception:  # what pdfminer would make of it is its own business; the size is bounded
            return data

    return undo


_DECODERS: dict[bytes, Callable[[bytes, int], bytes]] = {
    b"FlateDecode": _inflate,
    b"Fl": _inflate,
    b"LZWDecode": _lzw,
    b"LZW": _lzw,
    b"RunLengthDecode": _run_length,
    b"RL": _run_length,
    b"ASCIIHexDecode": _shrinking(asciihexdecode),
    b"AHx": _shrinking(asciihexdecode),
    b"ASCII85Decode": _shrinking(ascii85decode),
    b"A85": _shrinking(ascii85decode),
}
