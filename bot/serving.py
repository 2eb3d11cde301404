"""How uvicorn serves every HTTP front edibot has — Slack, Teams, both, the operator routes, `--workers N` —
with one set of options, so a change to how requests are read reaches them all.

The HTTP parser is httptools and the event loop uvloop (uvicorn's own choices when `uvicorn[standard]` is
installed) rather than the pure-Python h11 parser and asyncio's loop: reading a request, writing its answer
and waking the loop when a request thread is done cost about a third less CPU (0.39 -> 0.26 ms a request for
a Bolt app that only acks, about 0.3 ms less for `/edi mine`; docs/performance.md, "Serving throughput").
uvloop has no Windows build; there the loop is asyncio's.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import uvicorn

KEEP_ALIVE_SECONDS = 75  # longer than a proxy in front keeps an idle connection (60 s is usual)
HTTP_PARSER = "httptools"
EVENT_LOOP = "asyncio" if sys.platform == "win32" else "uvloop"


def uvicorn_options(*, host: str, port: int) -> dict[str, Any]:
    """uvicorn.Config's keywords for an edibot server on host:port (or uvicorn.run's, for `--workers N`).

    An idle connection is kept open longer than a proxy in front keeps it: closed first at this end, a request
    the proxy sends on it meanwhile would be lost (uvicorn's default is 5 s). No access log: the request
    latency histogram (/metrics) counts requests, and a line per request would cost more than the request.
    """
    return {
        "host": host,
        "port": port,
        "http": HTTP_PARSER,
        "loop": EVENT_LOOP,
        "log_level": "warning",
        "access_log": False,
        "lifespan": "off",
        "timeout_keep_alive": KEEP_ALIVE_SECONDS,
    }


def uvicorn_server(front: Any, *, host: str, port: int, **more: Any) -> uvicorn.Server:
    """A uvicorn server for an ASGI front on host:port with edibot's options (`more`: any others)."""
    import uvicorn  # noqa: PLC0415 — the command line's other commands never load it

    return uvicorn.Server(uvicorn.Config(front, **uvicorn_options(host=host, port=port), **more))
