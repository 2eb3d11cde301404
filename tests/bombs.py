"""Builds hostile plan files for tests, in a few seconds and a few megabytes: zip parts and PDF streams
that unpack to gigabytes, and sheets whose grid would span the whole of Excel.

A bomb's filler is deflated once and its deflate segment repeated: after a full flush a deflate
segment stands alone, so a gigabyte of spaces costs a megabyte of work, not a gigabyte. The files
are otherwise honest: sizes and checksums in a zip's directory, and a PDF's stream, are what a
reader inflating them all the way would find.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import docx
import openpyxl

GIGABYTE = 1024 * 1024 * 1024
_SEGMENT = 1024 * 1024


@dataclass(frozen=True)
class Filler:
    """`size` bytes of one repeated byte, as written into a bomb."""

    size: int
    byte: bytes = b" "


Part = bytes | tuple[bytes, Filler, bytes]  # plain bytes, or prefix + filler + suffix


def _deflated(part: Part, *, wbits: int) -> tuple[bytes, int, int, int]:
    """The part deflated (raw with wbits -15, zlib-wrapped with 15), its CRC-32, Adler-32 and size."""
    prefix, filler, suffix = (part, Filler(0), b"") if isinstance(part, bytes) else part
    whole, rest = divmod(filler.size, _SEGMENT)
    chunk = filler.byte * (_SEGMENT if whole else rest)
    start = zlib.compressobj(9, zlib.DEFLATED, wbits)
    head = start.compress(prefix) + start.flush(zlib.Z_FULL_FLUSH)
    segment = b""
    if whole:
        repeat = zlib.compressobj(9, zlib.DEFLATED, -15)
        segment = repeat.compress(chunk) + repeat.flush(zlib.Z_FULL_FLUSH)
    end = zlib.compressobj(9, zlib.DEFLATED, -15)
    tail = end.compress(chunk[:rest] + suffix) + end.flush(zlib.Z_FINISH)
    crc, adler = zlib.crc32(prefix), zlib.adler32(prefix)
    for _ in range(whole):
        crc, adler = zlib.crc32(chunk, crc), zlib.adler32(chunk, adler)
    crc, adler = zlib.crc32(chunk[:rest] + suffix, crc), zlib.adler32(chunk[:rest] + suffix, adler)
    body = head + segment * whole + tail
    if wbits > 0:
        body += struct.pack(">I", adler)
    return body, crc, adler, len(prefix) + filler.size + len(suffix)


def write_zip(path: Path, parts: dict[str, Part]) -> Path:
    """A zip package of deflated parts, written by hand so that a filler is never inflated here."""
    out = io.BytesIO()
    directory = b""
    for name, part in parts.items():
        data, crc, _, size = _deflated(part, wbits=-15)
        encoded = name.encode()
        offset = out.tell()
        out.write(
            struct.pack("<4s5H3I2H", b"PK\x03\x04", 20, 0, 8, 0, 0x21, crc, len(data), size, len(encoded), 0)
        )
        out.write(encoded + data)
        directory += (
            struct.pack(
                "<4s6H3I5H2I",
                b"PK\x01\x02",
                20,
                20,
                0,
                8,
                0,
                0x21,
                crc,
                len(data),
                size,
                len(encoded),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + encoded
        )
    start = out.tell()
    out.write(directory)
    out.write(struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, len(parts), len(parts), len(directory), start, 0))
    path.write_bytes(out.getvalue())
    return path


def _parts(package: io.BytesIO) -> dict[str, Part]:
    with zipfile.ZipFile(package) as source:
        return {name: source.read(name) for name in source.namelist()}


def xlsx_with_sheet(path: Path, sheet_xml: Part) -> Path:
    """A real workbook (made by openpyxl) whose one sheet's XML is replaced by `sheet_xml`."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Action", "Owner", "Deadline"])
    package = io.BytesIO()
    book.save(package)
    parts = _parts(package)
    parts["xl/worksheets/sheet1.xml"] = sheet_xml
    return write_zip(path, parts)


SHEET_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    b'<row r="1"><c r="A1" t="inlineStr"><is><t>Action</t></is></c>'
    b'<c r="B1" t="inlineStr"><is><t>Owner</t></is></c>'
    b'<c r="C1" t="inlineStr"><is><t>Deadline</t></is></c></row>'
    b'<row r="2"><c r="A2" t="inlineStr"><is><t>Review the adverts</t></is></c>'
    b'<c r="B2" t="inlineStr"><is><t>HR</t></is></c>'
    b'<c r="C2" t="inlineStr"><is><t>June 2024</t></is></c></row>'
)
SHEET_TAIL = b"</sheetData></worksheet>"


def docx_with_body(path: Path, body: Part) -> Path:
    """A real Word document (made by python-docx) whose document.xml is replaced by `body`."""
    document = docx.Document()
    document.add_paragraph("Our EDI plan")
    package = io.BytesIO()
    document.save(package)
    parts = _parts(package)
    parts["word/document.xml"] = body
    return write_zip(path, parts)


DOCUMENT_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
    b"<w:p><w:r><w:t>Our EDI plan</w:t></w:r></w:p>"
)
DOCUMENT_TAIL = b"</w:body></w:document>"


def pdf_with_content(path: Path, content: Part) -> Path:
    """A one-page PDF, written by hand, whose page content stream is `content`, Flate-compressed."""
    stream, _, _, _ = _deflated(content, wbits=15)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    path.write_bytes(out.getvalue())
    return path
