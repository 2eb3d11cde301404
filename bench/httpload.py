"""A load generator's HTTP client: keep-alive HTTP/1.1 POSTs on raw asyncio streams, cheap enough per request
that the benchmarks measure the server rather than themselves.

httpx's AsyncClient spends about 1.7 ms of CPU on a request at 1 in flight and about 7.5 ms at 50 (its
connection pool scans every connection for each request), so at 50 in flight the benchmarks' client process
was the bottleneck: an app that only acks measured 120 requests/s with a p99 of 1.8 s, four times its mean.
This client spends well under 0.2 ms a request at any concurrency. One Connection is one TCP connection,
used by one sender at a time (as a browser or Slack's own senders do); a connection the server closed is
opened again.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from urllib.parse import urlsplit


class ClosedByServer(ConnectionError):
    """The server closed the connection before answering."""


@dataclass(frozen=True)
class Answer:
    status: int
    text: str


class Connection:
    """One keep-alive connection to `url`'s host; `post` sends a request and reads its whole answer."""

    def __init__(self, url: str, *, timeout: float = 60.0) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.timeout = timeout
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> Answer:
        if self._writer is None or self._writer.is_closing():
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        assert self._reader is not None and self._writer is not None
        lines = [f"POST {path} HTTP/1.1", f"Host: {self.host}:{self.port}", f"Content-Length: {len(body)}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        self._writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        try:
            return await asyncio.wait_for(self._answer(self._reader), self.timeout)
        except BaseException:
            self.close()
            raise

    async def _answer(self, reader: asyncio.StreamReader) -> Answer:
        head = await reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        parts = status_line.split(" ", 2)
        if len(parts) < 2:
            raise ClosedByServer(f"not an HTTP answer: {status_line!r}")
        fields = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            if name:
                fields[name.strip().lower()] = value.strip()
        if "content-length" in fields:
            body = await reader.readexactly(int(fields["content-length"]))
        elif fields.get("transfer-encoding", "").lower() == "chunked":
            body = await _chunked(reader)
        else:
            body = await reader.read()
        if fields.get("connection", "").lower() == "close":
            self.close()
        return Answer(int(parts[1]), body.decode("utf-8", errors="replace"))

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None


async def _chunked(reader: asyncio.StreamReader) -> bytes:
    body = bytearray()
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")
            return bytes(body)
        body += await reader.readexactly(size)
        await reader.readexactly(2)


TRANSPORT_ERRORS = (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError, asyncio.LimitOverrunError)
