"""Who may talk to edibot on Teams, and how edibot proves itself to Teams: JWTs both ways.

Incoming: every request to /api/messages carries a JWT the Bot Connector signed. `ChannelTokens.check` accepts
it only if it is signed (RS256) by a key in the JWKS that the Bot Framework's OpenID metadata names, is
issued by https://api.botframework.com, is for our app id (the audience), has not expired (five minutes'
leeway for clock skew, as the Bot Framework allows), and names in its `serviceurl` claim the serviceUrl the
activity asks us to answer at — so a token taken from one request can't send our answers somewhere else.
Anything else is `Refused` (401), before the activity is read.

The keys are read (the metadata, then the JWKS it names) with the first token, again once they are a day
old, and again when a token names a key id the set lacks, since Microsoft rolls its keys. Anyone can send a
token naming a made-up key id, though, so the keys are never read twice within REREAD_SECONDS, however they
are asked for: a stream of such tokens costs Microsoft's endpoints (and us) one read in five minutes, not
one a token, and a key Microsoft really rolled is taken up at most five minutes late (Microsoft publishes a
new key well before signing with it, so the daily read normally has it first). A read that fails leaves the
keys held as they were; with none held yet, it is tried again after RETRY_SECONDS.

Outgoing: `ConnectorTokens` gets edibot's own token for the Bot Connector from Entra by msal's
client-credentials flow (app id and client secret); msal keeps it until shortly before it expires, so Entra
is asked about once an hour. What msal last gave is also held here (`held`) until five minutes before it
expires, so that an answer can take it on the event loop without crossing to a thread to ask msal.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
import jwt
import msal

if TYPE_CHECKING:
    from bot.config import Settings

log = logging.getLogger(__name__)

CHANNEL_ISSUER = "https://api.botframework.com"
CONNECTOR_SCOPE = "https://api.botframework.com/.default"
MULTI_TENANT = "botframework.com"  # the tenant a multi-tenant bot's tokens come from
LEEWAY_SECONDS = 300
HELD_MARGIN_SECONDS = 300  # a held Connector token is asked of msal again this long before it expires
METADATA_SECONDS = 24 * 3600  # the Bot Framework asks for the metadata to be cached no longer than a day
# The keys are read at most this often, whatever tokens name: Microsoft.IdentityModel's refresh interval
# when a signing key is not found (the Bot Framework SDKs allow one such refresh an hour; a shorter wait takes
# up a rolled key sooner, at a cost of one read in five minutes under a stream of forged tokens).
REREAD_SECONDS = 5 * 60
RETRY_SECONDS = (
    10  # ... except while no keys have been read at all: a failed first read is tried again sooner
)


class Refused(Exception):
    """A request that is not from the Bot Connector for us; the reason is for the log, never for the
    caller."""


class ConnectorAuthError(Exception):
    """Entra would not give edibot a token: the app id or secret is wrong, or has expired."""


@dataclass(frozen=True)
class Caller:
    """What a checked token says: the service URL its activity may be answered at."""

    service_url: str


class ChannelTokens:
    """Checks the Bot Connector's JWT on each request; see the module docstring for the rules."""

    def __init__(
        self,
        *,
        app_id: str,
        openid_url: str,
        issuer: str = CHANNEL_ISSUER,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`clock` gives seconds on a clock that only moves forward (how old the keys are, how long since
        they were last read); a test passes one it moves."""
        self.app_id = app_id
        self.openid_url = openid_url
        self.issuer = issuer
        self._clock = clock
        self._keys: dict[str, Any] | None = None  # the current set's signing keys, parsed, by kid
        self._read_at = 0.0  # when the current set was read
        self._asked_at: float | None = None  # when the keys were last asked for, whether or not that worked
        self._lock = threading.Lock()

    def check(self, authorization: str, *, service_url: str | None) -> Caller:
        """The caller a request's Authorization header proves; Refused otherwise. It may read the OpenID
        metadata and keys (over HTTP): on a thread, not the event loop."""
        token, kid = _bearer(authorization)
        key = self._keys_now().get(kid)
        if key is None:  # a key we have not seen: Microsoft may have rolled its keys
            key = self._keys_now(lacking=kid).get(kid)
        if key is None:
            raise Refused(f"the token names a key ({kid!r}) that is not in the Bot Framework's key set")
        return self._verified(token, key, service_url)

    def check_with_held_keys(self, authorization: str, *, service_url: str | None) -> Caller | None:
        """As `check`, if the key the token names is already held (so no HTTP is needed: fit for the event
        loop); None when it is not, and `check` must read the keys."""
        token, kid = _bearer(authorization)
        with self._lock:
            keys = self._keys
            fresh = keys is not None and self._clock() - self._read_at <= METADATA_SECONDS
            key = keys.get(kid) if keys is not None and fresh else None
        return None if key is None else self._verified(token, key, service_url)

    def _verified(self, token: str, key: Any, service_url: str | None) -> Caller:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=["RS256"],
                audience=self.app_id,
                issuer=self.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.InvalidTokenError as error:
            raise Refused(f"token refused: {error}") from None
        claimed = str(claims.get("serviceurl") or "")
        if not claimed or not service_url or claimed.rstrip("/") != service_url.rstrip("/"):
            raise Refused("the token's serviceurl is not the activity's serviceUrl")
        return Caller(service_url=claimed)

    def _keys_now(self, *, lacking: str | None = None) -> dict[str, Any]:
        """The signing keys to check a token against: read when none are held, when they are a day old, or
        when they lack the key id `lacking` — but not within REREAD_SECONDS of the last read (RETRY_SECONDS
        while none are held), whatever its outcome. Refused when no keys could be read."""
        with self._lock:  # held across the read: requests arriving meanwhile wait for it, not read again
            now, held = self._clock(), self._keys
            wanted = (
                held is None
                or now - self._read_at > METADATA_SECONDS
                or (lacking is not None and lacking not in held)
            )
            spacing = RETRY_SECONDS if held is None else REREAD_SECONDS
            if wanted and (self._asked_at is None or now - self._asked_at >= spacing):
                self._asked_at = now
                try:
                    held, self._read_at = self._read_keys(), now
                except (httpx.HTTPError, ValueError, KeyError, TypeError, jwt.PyJWTError) as error:
                    if held is None:
                        raise Refused(f"the Bot Framework's keys could not be read: {error}") from None
                    log.warning("the Bot Framework's OpenID metadata or keys could not be re-read: %s", error)
                self._keys = held
            if held is None:
                raise Refused("the Bot Framework's keys could not be read, and are not tried again yet")
            return held

    def _read_keys(self) -> dict[str, Any]:
        """The signing keys of the JWKS the OpenID metadata names, parsed once here rather than per token (a
        millisecond each)."""
        metadata = httpx.get(self.openid_url, timeout=10).raise_for_status().json()
        jwks = httpx.get(str(metadata["jwks_uri"]), timeout=10).raise_for_status().json()
        return {
            key.key_id: key.key
            for key in jwt.PyJWKSet.from_dict(jwks).keys
            if key.key_id and key.public_key_use in ("sig", None)
        }


def _bearer(authorization: str) -> tuple[str, str]:
    """The token of a "Bearer …" header and the key id it names, if it is an RS256 JWT; Refused
    otherwise."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Refused("no bearer token")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError as error:
        raise Refused(f"not a JWT ({error})") from None
    if header.get("alg") != "RS256":
        raise Refused(f"signed with {header.get('alg')!r}, not RS256")
    return token, str(header.get("kid") or "")


class ConnectorTokens:
    """edibot's bearer token for the Bot Connector, from Entra by msal (client credentials)."""

    def __init__(self, *, app_id: str, password: str, login_url: str, tenant: str | None = None) -> None:
        self.app_id = app_id
        self._password = password
        self.authority = f"{login_url.rstrip('/')}/{tenant or MULTI_TENANT}"
        self._app: msal.ConfidentialClientApplication | None = None
        self._held: dict[str, tuple[str, float]] = {}  # scope -> (token, monotonic time it is held until)
        self._lock = threading.Lock()

    def held(self, scope: str = CONNECTOR_SCOPE) -> str | None:
        """The token msal last gave for `scope`, while it has more than HELD_MARGIN_SECONDS left (no call to
        msal: fit for the event loop); None when `token` must be asked."""
        with self._lock:
            found = self._held.get(scope)
        return found[0] if found is not None and time.monotonic() < found[1] else None

    def token(self, scope: str = CONNECTOR_SCOPE) -> str:
        """A current access token for `scope`; ConnectorAuthError when Entra refuses us."""
        with self._lock:
            if self._app is None:
                # Made on first use: msal reads the tenant's metadata when it is made.
                self._app = msal.ConfidentialClientApplication(
                    self.app_id,
                    client_credential=self._password,
                    authority=self.authority,
                    # A known Microsoft host needs no instance discovery; another (a stand-in) must not try.
                    instance_discovery=False,
                )
            app = self._app
        result: dict[str, Any] = app.acquire_token_for_client(scopes=[scope])
        if "access_token" not in result:
            reason = str(result.get("error_description") or result.get("error") or "no token").splitlines()[0]
            raise ConnectorAuthError(
                f"Entra refused edibot's Teams credentials ({result.get('error')}): {reason}. Check "
                "EDIBOT_TEAMS_APP_ID and EDIBOT_TEAMS_APP_PASSWORD against the bot's Entra app registration."
            )
        token = str(result["access_token"])
        until = time.monotonic() + float(result.get("expires_in") or 0) - HELD_MARGIN_SECONDS
        with self._lock:
            self._held[scope] = (token, until)
        return token


class TeamsNotConfigured(Exception):
    """A Teams setting is missing; the message says which and where to find it."""


def connector_tokens(settings: Settings) -> ConnectorTokens:
    """edibot's msal client for the Bot Connector, from the settings; TeamsNotConfigured if they are
    missing."""
    if not settings.teams_app_id:
        raise TeamsNotConfigured(
            "EDIBOT_TEAMS_APP_ID is not set: it is the Microsoft App ID of your Azure Bot (Configuration "
            "page), the Application (client) ID of its Entra app registration."
        )
    if settings.teams_app_password is None:
        raise TeamsNotConfigured(
            "EDIBOT_TEAMS_APP_PASSWORD is not set: make a client secret under the Entra app registration's "
            "Certificates & secrets and copy its Value."
        )
    return ConnectorTokens(
        app_id=settings.teams_app_id,
        password=settings.teams_app_password.get_secret_value(),
        login_url=settings.teams_login_url,
        tenant=settings.teams_tenant_id,
    )
