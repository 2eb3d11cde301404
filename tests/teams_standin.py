"""Local stand-ins for the Microsoft services a Teams bot talks to: real HTTP(S) on 127.0.0.1.

    with EntraStandIn(tmp_path) as entra, ConnectorStandIn(entra) as connector:
        entra.login_url         # https://localhost:<port>: Entra's token endpoint and tenant metadata (msal)
        entra.openid_url        # the Bot Framework's OpenID metadata, naming its JWKS (the channel's keys)
        entra.channel_token(service_url=connector.url)  # a JWT as the Bot Connector signs each activity
        entra.roll_keys()       # a new signing key, published beside the old one, signs from now on
        entra.metadata_fails = 2                        # the next 2 reads of the OpenID metadata answer 503
        connector.url           # a serviceUrl: activities posted to it are recorded
        connector.activities_in(conversation_id)        # what the bot posted there, as Teams received it
        connector.rate_limit(3, retry_after=7)          # the next 3 calls answer 429 with Retry-After: 7
        connector.allow_rate(per_second=APP_RATE)       # beyond Teams' 50 calls a second per app: 429
        connector.withhold_answer(after=2)              # the 3rd post is kept, but never answered
        connector.storm(every=3, retry_after=[1, 4])    # from now on every 3rd call: 429, Retry-After 1, 4…

The Entra stand-in speaks HTTPS, because msal accepts nothing else: `EntraStandIn` makes a certificate for
localhost in the test, and `trust()` points SSL_CERT_FILE and REQUESTS_CA_BUNDLE at it (urllib, httpx and
requests then trust it, and nothing else is reached). Its signing key is made in the test too: tokens it
issues (to the bot, for the Connector) and the channel tokens it mints (for the bot to check) are RS256 JWTs
under that key, published in the JWKS that the OpenID metadata names. `channel_token` can also mint what an
attacker would send: signed by another key, for another audience, expired, unsigned.

The Connector stand-in refuses what Teams refuses, written out here independently of bot/teams/cards.py:
an activity over 28 KB (Teams' limit on a bot message, card included), an Adaptive Card of a schema
version over 1.5 (what Teams desktop and mobile render), more than 6 actions in one action set, an empty
message, a call without a valid Entra token (401). Conversations are created on POST /v3/conversations from
a member's AAD object id and tenant id, as Teams does for a proactive 1:1 chat; members are looked up by id
(GET /v3/conversations/{id}/members/{member}). `withhold_answer` plays the crash window: Teams has taken the
post, and its answer never reaches the caller. Like the real Connector, it offers no way to list the
activities of a conversation: a bot cannot ask it afterwards what it posted.

It is served as Microsoft's front ends serve it: HTTP/1.1 with keep-alive, a listening socket with room for
a burst of new connections, and idle keep-alive connections closed after `idle_timeout` seconds (a real
Connector closes them too; a test sets it short to see edibot open a fresh one). `connections` counts the
TCP connections it accepted; `restart(after=…)` stops listening (a connection is refused) and listens again
on the same port `after` seconds later, as a front end that is being replaced; `vanish(times)` takes the
next calls (a post is kept) and closes their connection without an answer, as a front end failing mid-way.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import itertools
import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from ssl import PROTOCOL_TLS_SERVER, SSLContext
from typing import Any
from urllib.parse import parse_qsl, urlparse

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

PAYLOADS = Path(__file__).resolve().parent / "payloads" / "teams"
APP_ID = "8f5c2d1e-4b3a-4c6d-9e8f-1a2b3c4d5e6f"
APP_PASSWORD = "stand-in~client~secret~for~edibot"
TENANT_ID = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CHANNEL_ISSUER = "https://api.botframework.com"
CONNECTOR_AUDIENCE = "https://api.botframework.com"

# Teams' documented limits on what a bot posts.
MESSAGE_BYTES = 28 * 1024  # "about 28 KB" for a bot's message, its cards included
CARD_VERSIONS = {"1.0", "1.1", "1.2", "1.3", "1.4", "1.5"}  # rendered on desktop and mobile
ACTIONS_PER_SET = 6
# "The global limit per app per tenant is 50 requests per second", every call counted (messages, rosters…):
# https://learn.microsoft.com/microsoftteams/platform/bots/how-to/rate-limit
APP_RATE = 50
ROSTER_PAGE = 2  # members a roster page holds here: small, so that every test of the roster pages
IDLE_SECONDS = (
    60.0  # a keep-alive connection idle this long is closed (Microsoft's front ends close them too)
)


def payload(name: str, **values: str) -> dict[str, Any]:
    """A recorded Teams activity from tests/payloads/teams/, its {placeholders} filled in."""
    text = (PAYLOADS / f"{name}.json").read_text(encoding="utf-8")
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for localhost and 127.0.0.1: (certificate file, key file)."""
    key = new_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "entra-standin.pem", directory / "entra-standin.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default backlog is 5: a burst of new connections (50 answers at once, each on a fresh
    # connection) overflowed it, and Linux reset connections whose request was already written, so answers
    # were lost that a real Connector would have taken. Its front ends have room for thousands.
    request_queue_size = 1024
    standin: Any


class _Running:
    """A ThreadingHTTPServer on a thread, started and stopped with the stand-in."""

    idle_timeout: float | None = None  # seconds a keep-alive connection may sit idle before it is closed

    def __init__(self, handler: type[BaseHTTPRequestHandler], name: str) -> None:
        self._handler, self._name = handler, name
        self._server = self._serving(("127.0.0.1", 0))
        self.connections = 0  # TCP connections accepted
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()

    def _serving(self, address: tuple[str, int]) -> _Server:
        server = _Server(address, self._handler)
        server.standin = self
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.01}, name=self._name, daemon=True
        )
        return server

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        with self._open_lock:
            still_open, self._open = set(self._open), set()
        for connection in still_open:  # kept-alive connections end with the server, as a process exiting
            with contextlib.suppress(OSError):  # the client closed it meanwhile
                connection.shutdown(socket.SHUT_RDWR)

    def restart(self, *, after: float) -> None:
        """Stops listening now (new connections are refused) and listens on the same port again `after`
        seconds later; connections already open are closed."""
        port = self.port
        self.stop()

        def again() -> None:
            self._server = self._serving(("127.0.0.1", port))
            self.start()

        threading.Timer(after, again).start()

    def _opened(self, connection: socket.socket) -> None:
        with self._open_lock:
            self.connections += 1
            self._open.add(connection)

    def _closed(self, connection: socket.socket) -> None:
        with self._open_lock:
            self._open.discard(connection)


class EntraStandIn(_Running):
    """Entra ID's token endpoint and tenant metadata, and the Bot Framework's OpenID metadata and keys."""

    def __init__(
        self, directory: Path, *, app_id: str = APP_ID, password: str = APP_PASSWORD, tenant: str = TENANT_ID
    ) -> None:
        super().__init__(_EntraHandler, "entra-standin")
        self.app_id, self.password, self.tenant = app_id, password, tenant
        self.key = new_key()
        self.kid = "edibot-test-key-1"
        self._earlier: list[tuple[str, rsa.RSAPrivateKey]] = []  # keys rolled over, still published
        self.certificate, key_file = _certificate(directory)
        context = SSLContext(PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.certificate, key_file)
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.tokens_issued = 0
        self.metadata_reads = 0
        self.key_reads = 0  # of the JWKS
        self.metadata_fails = 0  # reads of the OpenID metadata still to answer 503 (counted as reads)
        self._lock = threading.Lock()

    def __enter__(self) -> EntraStandIn:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def login_url(self) -> str:
        return f"https://localhost:{self.port}"

    @property
    def openid_url(self) -> str:
        return f"{self.login_url}/v1/.well-known/openidconfiguration"

    def trust(self) -> dict[str, str]:
        """The environment under which urllib, httpx and requests (msal's client) trust this stand-in."""
        return {"SSL_CERT_FILE": str(self.certificate), "REQUESTS_CA_BUNDLE": str(self.certificate)}

    # -- tokens ----------------------------------------------------------------------------------------
    def channel_token(
        self,
        *,
        service_url: str,
        audience: str | None = None,
        issuer: str = CHANNEL_ISSUER,
        expires_in: float = 3600,
        key: rsa.RSAPrivateKey | None = None,
        kid: str | None = None,
        unsigned: bool = False,
    ) -> str:
        """A JWT as the Bot Connector sends with every activity (its Authorization header's bearer); `key`
        and `kid` forge one signed by another key, or naming another key id."""
        now = int(time.time())
        claims = {
            "serviceurl": service_url,
            "nbf": now - 5,
            "iat": now - 5,
            "exp": int(now + expires_in),
            "iss": issuer,
            "aud": audience or self.app_id,
        }
        if unsigned:
            return jwt.encode(claims, "", algorithm="none")
        return jwt.encode(claims, key or self.key, algorithm="RS256", headers={"kid": kid or self.kid})

    def roll_keys(self) -> None:
        """As Microsoft rolls the Bot Framework's keys: a new key, under a new key id, signs every token from
        now on; the old one stays published beside it."""
        self._earlier.append((self.kid, self.key))
        self.key, self.kid = new_key(), f"edibot-test-key-{len(self._earlier) + 1}"

    def access_token(self, *, audience: str = CONNECTOR_AUDIENCE) -> str:
        now = int(time.time())
        claims = {
            "aud": audience,
            "iss": f"https://sts.windows.net/{self.tenant}/",
            "appid": self.app_id,
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
            "tid": self.tenant,
        }
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid})

    def valid_access_token(self, token: str) -> bool:
        """Whether `token` is one this Entra issued to our app for the Bot Connector (as the Connector
        checks), under its current key or one rolled over."""
        for key in [self.key, *(earlier for _, earlier in self._earlier)]:
            try:
                claims = jwt.decode(
                    token, key.public_key(), algorithms=["RS256"], audience=CONNECTOR_AUDIENCE
                )
            except jwt.InvalidTokenError:
                continue
            return bool(claims.get("appid") == self.app_id)
        return False

    def jwks(self) -> dict[str, Any]:
        published = []
        for kid, key in [(self.kid, self.key), *reversed(self._earlier)]:
            public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
            published.append({**public, "kid": kid, "use": "sig", "endorsements": ["msteams"]})
        return {"keys": published}


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    # An answer's head and body are two writes: without TCP_NODELAY, a kept-alive connection waits out the
    # client's delayed ACK (40 ms) between them.
    disable_nagle_algorithm = True

    @property
    def timeout(self) -> float | None:  # type: ignore[override]  # read by StreamRequestHandler.setup
        standin: _Running = self.server.standin
        return standin.idle_timeout

    def setup(self) -> None:
        super().setup()
        self.server.standin._opened(self.connection)

    def finish(self) -> None:
        self.server.standin._closed(self.connection)
        super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests read what was recorded, not an access log."""

    def _answer(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))


class _EntraHandler(_Handler):
    def do_GET(self) -> None:
        entra: EntraStandIn = self.server.standin
        base, path = entra.login_url, urlparse(self.path).path
        if path == f"/{entra.tenant}/v2.0/.well-known/openid-configuration" or path.endswith(
            "/v2.0/.well-known/openid-configuration"
        ):
            tenant = path.split("/")[1]
            self._answer(
                200,
                {
                    "issuer": f"{base}/{tenant}/v2.0",
                    "authorization_endpoint": f"{base}/{tenant}/oauth2/v2.0/authorize",
                    "token_endpoint": f"{base}/{tenant}/oauth2/v2.0/token",
                    "jwks_uri": f"{base}/{tenant}/discovery/v2.0/keys",
                    "response_types_supported": ["code", "id_token", "token"],
                    "id_token_signing_alg_values_supported": ["RS256"],
                },
            )
        elif path == "/v1/.well-known/openidconfiguration":
            with entra._lock:
                entra.metadata_reads += 1
                failing, entra.metadata_fails = entra.metadata_fails > 0, max(entra.metadata_fails - 1, 0)
            if failing:
                self._answer(503, {"error": "temporarily_unavailable"})
                return
            self._answer(
                200,
                {
                    "issuer": CHANNEL_ISSUER,
                    "authorization_endpoint": "https://invalid.botframework.com",
                    # Where Microsoft keeps them too: beside the metadata, which the SDK's own check assumes.
                    "jwks_uri": f"{base}/v1/.well-known/keys",
                    "id_token_signing_alg_values_supported": ["RS256"],
                    "token_endpoint_auth_methods_supported": ["private_key_jwt"],
                },
            )
        elif path == "/v1/.well-known/keys":
            with entra._lock:
                entra.key_reads += 1
            self._answer(200, entra.jwks())
        elif path.endswith("/discovery/v2.0/keys"):
            self._answer(200, entra.jwks())
        else:
            self._answer(404, {"error": "not_found"})

    def do_POST(self) -> None:
        entra: EntraStandIn = self.server.standin
        path = urlparse(self.path).path
        if not path.endswith("/oauth2/v2.0/token"):
            self._answer(404, {"error": "not_found"})
            return
        form = dict(parse_qsl(self._body().decode()))
        if form.get("grant_type") != "client_credentials":
            self._answer(400, {"error": "unsupported_grant_type"})
        elif form.get("client_id") != entra.app_id or form.get("client_secret") != entra.password:
            self._answer(
                401,
                {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret."},
            )
        elif form.get("scope") != f"{CONNECTOR_AUDIENCE}/.default":
            self._answer(400, {"error": "invalid_scope"})
        else:
            with entra._lock:
                entra.tokens_issued += 1
            self._answer(
                200,
                {
                    "token_type": "Bearer",
                    "expires_in": 3599,
                    "ext_expires_in": 3599,
                    "access_token": entra.access_token(),
                },
            )


# -- the Bot Connector ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One Connector call as received: method, path, body, and the status answered."""

    method: str
    path: str
    body: dict[str, Any]
    status: int
    retry_after: float | None = None  # the Retry-After of a 429
    at: float = field(default_factory=time.monotonic)  # when it was received (time.monotonic)


@dataclass
class Member:
    """Someone in the tenant, as the Connector's roster describes them."""

    id: str  # "29:…", their id on the Bot Framework channel
    aad_object_id: str
    name: str
    email: str
    tenant_id: str = TENANT_ID

    def account(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "aadObjectId": self.aad_object_id,
            "email": self.email,
            "userPrincipalName": self.email,
            "givenName": self.name.split()[0],
            "surname": self.name.split()[-1],
            "tenantId": self.tenant_id,
            "userRole": "user",
        }


class ConnectorRefused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code = status, code


@dataclass
class _ConnectorState:
    members: dict[str, Member] = field(default_factory=dict)  # by "29:" id
    conversations: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # id -> activities
    personal: dict[str, str] = field(default_factory=dict)  # AAD object id -> their 1:1 conversation id


class ConnectorStandIn(_Running):
    """The Bot Connector at http://127.0.0.1:<port>/teams/ (a serviceUrl); see the module docstring."""

    def __init__(self, entra: EntraStandIn, *, idle_timeout: float = IDLE_SECONDS) -> None:
        super().__init__(_ConnectorHandler, "connector-standin")
        self.entra = entra
        self.idle_timeout = idle_timeout
        self.calls: list[Call] = []
        self.state = _ConnectorState()
        self.channel_names: dict[str, str] = {}  # a team channel's conversation id -> its name
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._throttled: list[float] = []  # Retry-After of each 429 still to answer
        self._trouble: list[int] = []  # statuses (503…) of the next calls
        self._allowed: tuple[float, list[float]] | None = None  # (calls a second, recent call times)
        self._withheld: list[int] = []  # for each post to be left unanswered: the posts answered before it
        self._released = threading.Event()  # set on stop: withheld answers are dropped, connections closed
        self._storm: tuple[int, itertools.cycle[float]] | None = None  # every n-th call: 429, these waits
        self._storm_calls = 0
        self._vanishing = 0  # calls still to take and leave unanswered

    def __enter__(self) -> ConnectorStandIn:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._released.set()
        super().stop()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/teams/"

    # -- the tenant ------------------------------------------------------------------------------------
    def add_member(self, name: str, *, email: str) -> Member:
        number = next(self._ids)
        member = Member(
            id=f"29:1{number:03d}Xq7Lk9mTsB3vQ0-{uuid.uuid4().hex[:20]}",
            aad_object_id=str(uuid.uuid4()),
            name=name,
            email=email,
        )
        with self._lock:
            self.state.members[member.id] = member
        return member

    def personal_chat(self, member: Member) -> str:
        """Their 1:1 conversation with the bot (made as Teams makes it when they first open the app)."""
        with self._lock:
            return self._personal(member.aad_object_id)

    def _personal(self, aad_object_id: str) -> str:
        found = self.state.personal.get(aad_object_id)
        if found is None:
            found = f"a:1{uuid.uuid4().hex}{uuid.uuid4().hex[:12]}"
            self.state.personal[aad_object_id] = found
            self.state.conversations.setdefault(found, [])
        return found

    def channel(self, name: str) -> str:
        """A team channel's conversation id (the bot is in the team)."""
        conversation = f"19:{uuid.uuid4().hex}@thread.tacv2"
        with self._lock:
            self.state.conversations.setdefault(conversation, [])
            self.channel_names[conversation] = name
        return conversation

    # -- what happened ---------------------------------------------------------------------------------
    def activities_in(self, conversation: str) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(activity) for activity in self.state.conversations.get(conversation, [])]

    def calls_to(self, method: str, suffix: str = "") -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method and c.path.endswith(suffix)]

    def rate_limit(self, times: int, *, retry_after: float) -> None:
        with self._lock:
            self._throttled.extend([retry_after] * times)

    def storm(self, *, every: int, retry_after: list[float]) -> None:
        """From now on, every `every`-th call answers 429 TooManyRequests with Retry-After taken in turn from
        `retry_after`, as the Connector throttles a bot that posts too fast."""
        with self._lock:
            self._storm = (every, itertools.cycle(retry_after))
            self._storm_calls = 0

    def fail(self, times: int, *, status: int = 503) -> None:
        with self._lock:
            self._trouble.extend([status] * times)

    def allow_rate(self, *, per_second: float) -> None:
        """From now on, calls beyond `per_second` in any one second (all of the app's calls, as Teams counts
        them) answer 429 with Retry-After: 1."""
        with self._lock:
            self._allowed = (per_second, [])

    def withhold_answer(self, *, after: int = 0) -> None:
        """`after` posted activities are answered; the next one is kept (it is in the chat) but its answer is
        never sent, as when the bot dies, or its connection drops, after Teams took the post."""
        with self._lock:
            self._withheld.append(after)

    def _withhold(self) -> bool:
        """Whether this (accepted) post's answer is the one to withhold."""
        with self._lock:
            if not self._withheld:
                return False
            if self._withheld[0] > 0:
                self._withheld[0] -= 1
                return False
            self._withheld.pop(0)
            return True

    def posts(self) -> list[dict[str, Any]]:
        """Every activity posted, in every conversation, as kept (after any update)."""
        with self._lock:
            return [dict(a) for activities in self.state.conversations.values() for a in activities]

    def vanish(self, times: int) -> None:
        with self._lock:
            self._vanishing += times

    def _vanishes(self) -> bool:
        with self._lock:
            if self._vanishing <= 0:
                return False
            self._vanishing -= 1
            return True

    # -- the API ---------------------------------------------------------------------------------------
    def handle(
        self,
        method: str,
        path: str,
        body: dict[str, Any],
        authorization: str,
        query: dict[str, str] | None = None,
    ) -> tuple[int, Any, dict[str, str]]:
        with self._lock:
            if not self._throttled and self._allowed is not None:
                per_second, recent = self._allowed
                moment = time.monotonic()
                recent[:] = [at for at in recent if moment - at < 1.0]
                if len(recent) >= per_second:
                    self._throttled.append(1.0)
                else:
                    recent.append(moment)
            seconds: float | None = None
            if self._throttled:
                seconds = self._throttled.pop(0)
            elif self._storm is not None:
                self._storm_calls += 1
                if self._storm_calls % self._storm[0] == 0:
                    seconds = next(self._storm[1])
            if seconds is not None:
                self.calls.append(Call(method, path, body, 429, retry_after=seconds))
                return 429, _error("TooManyRequests", "Too many requests"), {"Retry-After": f"{seconds:g}"}
            if self._trouble:
                status = self._trouble.pop(0)
                self.calls.append(Call(method, path, body, status))
                return status, _error("ServiceUnavailable", "The service is unavailable"), {}
        token = authorization.removeprefix("Bearer ")
        if not authorization.startswith("Bearer ") or not self.entra.valid_access_token(token):
            with self._lock:
                self.calls.append(Call(method, path, body, 401))
            return 401, {"message": "Authorization has been denied for this request."}, {}
        try:
            status, answer = self._route(method, path, body, query or {})
        except ConnectorRefused as refused:
            status, answer = refused.status, _error(refused.code, str(refused))
        with self._lock:
            self.calls.append(Call(method, path, body, status))
        return status, answer, {}

    def _route(self, method: str, path: str, body: dict[str, Any], query: dict[str, str]) -> tuple[int, Any]:
        parts = [part for part in path.split("/") if part]
        # ["teams", "v3", "conversations", id?, "activities" | "members", id?]
        if parts[:3] != ["teams", "v3", "conversations"]:
            raise ConnectorRefused(404, "NotFound", f"no such resource {path}")
        rest = parts[3:]
        if method == "POST" and not rest:
            return 201, self._create_conversation(body)
        if len(rest) >= 2 and rest[1] == "activities":
            # A channel thread is addressed as "<channel>;messageid=<its first post>": kept with its channel.
            conversation, _, thread = rest[0].partition(";messageid=")
            if thread:
                body = {**body, "thread": thread}
            with self._lock:
                if conversation not in self.state.conversations:
                    raise ConnectorRefused(404, "ConversationNotFound", "Conversation not found.")
            if method == "POST":
                return 201, {"id": self._post(conversation, body)}
            if method == "PUT" and len(rest) == 3:
                return 200, {"id": self._update(conversation, rest[2], body)}
        if method == "GET" and len(rest) == 2 and rest[1] == "pagedmembers":
            return 200, self._page_of_members(query)
        if method == "GET" and len(rest) == 3 and rest[1] == "members":
            with self._lock:
                member = self.state.members.get(rest[2]) or next(
                    (m for m in self.state.members.values() if m.aad_object_id == rest[2]), None
                )
            if member is None:
                raise ConnectorRefused(404, "MemberNotFoundInConversation", "The member was not found.")
            return 200, member.account()
        raise ConnectorRefused(404, "NotFound", f"no such resource {method} {path}")

    def _page_of_members(self, query: dict[str, str]) -> dict[str, Any]:
        """A team's roster, `pageSize` members a page (at most ROSTER_PAGE here, to make paging happen)."""
        size = min(int(query.get("pageSize") or ROSTER_PAGE), ROSTER_PAGE)
        start = int(query.get("continuationToken") or 0)
        with self._lock:
            members = list(self.state.members.values())
        page: dict[str, Any] = {"members": [m.account() for m in members[start : start + size]]}
        if start + size < len(members):
            page["continuationToken"] = str(start + size)
        return page

    def _create_conversation(self, body: dict[str, Any]) -> dict[str, Any]:
        members = body.get("members") or []
        tenant = (body.get("channelData") or {}).get("tenant", {}).get("id") or body.get("tenantId")
        if body.get("isGroup") or len(members) != 1 or not tenant:
            raise ConnectorRefused(400, "BadArgument", "A 1:1 conversation needs one member and a tenant id.")
        wanted = str(members[0].get("id") or "")
        with self._lock:
            member = next((m for m in self.state.members.values() if wanted in (m.id, m.aad_object_id)), None)
            if member is None or tenant != member.tenant_id:
                raise ConnectorRefused(403, "Forbidden", "The bot is not installed for that user.")
            return {"id": self._personal(member.aad_object_id)}

    def _post(self, conversation: str, activity: dict[str, Any]) -> str:
        check_activity(activity)
        activity_id = f"1:{int(time.time() * 1000)}{next(self._ids):04d}"
        with self._lock:
            self.state.conversations[conversation].append({**activity, "id": activity_id})
        return activity_id

    def _update(self, conversation: str, activity_id: str, activity: dict[str, Any]) -> str:
        check_activity(activity)
        with self._lock:
            kept = self.state.conversations[conversation]
            for index, old in enumerate(kept):
                if old["id"] == activity_id:
                    kept[index] = {**activity, "id": activity_id}
                    return activity_id
        raise ConnectorRefused(404, "ActivityNotFoundInConversation", "The activity was not found.")


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def check_activity(activity: dict[str, Any]) -> None:
    """Refuses, as Teams does, a message over the size limit, an empty one, or a card Teams can't render."""
    size = len(json.dumps(activity, ensure_ascii=False).encode())
    if size > MESSAGE_BYTES:
        raise ConnectorRefused(413, "MessageSizeTooBig", f"Message size too big ({size:,} bytes).")
    attachments = activity.get("attachments") or []
    if activity.get("type", "message") == "message" and not (
        str(activity.get("text") or "").strip() or attachments
    ):
        raise ConnectorRefused(400, "BadArgument", "Activity has no text and no attachments.")
    for attachment in attachments:
        if attachment.get("contentType") == "application/vnd.microsoft.card.adaptive":
            check_card(attachment.get("content") or {})


def check_card(card: dict[str, Any]) -> None:
    if card.get("type") != "AdaptiveCard":
        raise ConnectorRefused(400, "BadArgument", "An adaptive card attachment must be an AdaptiveCard.")
    if str(card.get("version")) not in CARD_VERSIONS:
        raise ConnectorRefused(
            400, "BadArgument", f"Adaptive Card version {card.get('version')!r} is not supported by Teams."
        )
    if not card.get("body"):
        raise ConnectorRefused(400, "BadArgument", "An Adaptive Card needs a body.")
    for actions in _action_lists(card):
        if len(actions) > ACTIONS_PER_SET:
            raise ConnectorRefused(400, "BadArgument", f"{len(actions)} actions in one set; Teams shows 6.")
        for action in actions:
            if action.get("type") == "Action.Execute" and not action.get("verb"):
                raise ConnectorRefused(400, "BadArgument", "Action.Execute needs a verb.")


def _action_lists(node: Any) -> Iterator[list[dict[str, Any]]]:
    if isinstance(node, dict):
        if isinstance(node.get("actions"), list):
            yield node["actions"]
        for value in node.values():
            yield from _action_lists(value)
    elif isinstance(node, list):
        for item in node:
            yield from _action_lists(item)


class _ConnectorHandler(_Handler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the real Connector: every answer has a Content-Length

    def _call(self, method: str) -> None:
        connector: ConnectorStandIn = self.server.standin
        raw = self._body()
        try:
            body = json.loads(raw) if raw else {}
        except json.JSONDecodeError:
            self._answer(400, _error("BadSyntax", "The body is not JSON."))
            return
        url = urlparse(self.path)
        status, answer, headers = connector.handle(
            method, url.path, body, self.headers.get("Authorization") or "", dict(parse_qsl(url.query))
        )
        posted = method == "POST" and url.path.endswith("/activities") and status < 300
        if posted and connector._withhold():
            connector._released.wait(timeout=120)  # the caller is gone (or gives up): no answer, ever
            self.close_connection = True
            return
        if connector._vanishes():
            self.close_connection = True  # taken, and no answer: the connection just closes
            return
        self._answer(status, answer, headers)

    def do_POST(self) -> None:
        self._call("POST")

    def do_PUT(self) -> None:
        self._call("PUT")

    def do_GET(self) -> None:
        self._call("GET")


def environment_for(entra: EntraStandIn) -> dict[str, str]:
    """What `edibot run --teams` needs to reach these stand-ins (besides the database)."""
    return {
        **entra.trust(),
        "EDIBOT_TEAMS_APP_ID": entra.app_id,
        "EDIBOT_TEAMS_APP_PASSWORD": entra.password,
        "EDIBOT_TEAMS_LOGIN_URL": entra.login_url,
        "EDIBOT_TEAMS_OPENID_URL": entra.openid_url,
    }


def member_activity(
    name: str,
    member: Member,
    *,
    connector: ConnectorStandIn,
    entra: EntraStandIn,
    activity_id: str,
    conversation: str | None = None,
    **values: str,
) -> dict[str, Any]:
    """A recorded activity from `member` in their 1:1 chat (or `conversation`), pointed at the stand-ins:
    what Teams would send edibot when they write to it."""
    return payload(
        name,
        serviceUrl=connector.url,
        userId=member.id,
        userName=member.name,
        aadObjectId=member.aad_object_id,
        conversationId=conversation or connector.personal_chat(member),
        tenantId=TENANT_ID,
        appId=entra.app_id,
        activityId=activity_id,
        **values,
    )
