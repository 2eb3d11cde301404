"""Who may talk to edibot on Teams, and how edibot proves itself to Teams: JWTs both ways.

Incoming: every request to /api/messages carries a JWT the Bot Connector signed. `ChannelTokens.check` accepts
it only if it is signed (RS256) by a key in the JWKS that the Bot Framework's OpenID metadata names (read from
the metadata, re-read daily, and again when a token names a key we have not seen: Microsoft rolls them), is
issued by https://api.botframework.com, is for our app id (the audience), has not expired (five minutes'
leeway for clock skew, as the Bot Framework allows), and names in its `serviceurl` claim the serviceUrl the
activity asks us to answer at — so a token taken from one request can't send our answers somewhere else.
Anything else is `Refused` (401), before the activity is read.

Outgoing: `ConnectorTokens` gets edibot's own token for the Bot Connector from Entra by msal's
client-credentials flow (app id and client secret); msal keeps it until shortly before it expires, so Entra
is asked about once an hour. What msal last gave is also held here (`held`) until five minutes before it
expires, so that an answer can take it on the event loop without crossing to a thread to ask msal.
"""

from __future__ import annotations

import logging
import threading
import time
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

    def __init__(self, *, app_id: str, openid_url: str, issuer: str = CHANNEL_ISSUER) -> None:
        self.app_id = app_id
        self.openid_url = openid_url
        self.issuer = issuer
        self._keys: jwt.PyJWKClient | None = None
        self._read_at = 0.0
        self._held: dict[str, Any] = {}  # the keys of the current set that tokens have named, by kid
        self._lock = threading.Lock()

    def check(self, authorization: str, *, service_url: str | None) -> Caller:
        """The caller a request's Authorization header proves; Refused otherwise. It may read the OpenID
        metadata and keys (over HTTP): on a thread, not the event loop."""
        token, kid = _bearer(authorization)
        try:
            key = self._signing_key(token, kid)
        except (jwt.InvalidTokenError, jwt.PyJWKClientError) as error:
            raise Refused(f"token refused: {error}") from None
        return self._verified(token, key, service_url)

    def check_with_held_keys(self, authorization: str, *, service_url: str | None) -> Caller | None:
        """As `check`, if the key the token names is already held (so no HTTP is needed: fit for the event
        loop); None when it is not, and `check` must read the keys."""
        token, kid = _bearer(authorization)
        with self._lock:
            fresh = self._keys is not None and time.monotonic() - self._read_at <= METADATA_SECONDS
            key = self._held.get(kid) if fresh else None
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

    def _signing_key(self, token: str, kid: str) -> Any:
        keys = self._jwks()
        try:
            key = keys.get_signing_key_from_jwt(token).key
        except jwt.PyJWKClientError:
            # A key we have not seen: Microsoft may have rolled its keys, and the metadata may name a new set.
            keys = self._jwks(fresh=True)
            key = keys.get_signing_key_from_jwt(token).key
        with self._lock:
            if keys is self._keys:  # not a set the metadata has since replaced
                self._held[kid] = key
        return key

    def _jwks(self, *, fresh: bool = False) -> jwt.PyJWKClient:
        with self._lock:
            stale = time.monotonic() - self._read_at > METADATA_SECONDS
            if self._keys is None or stale or fresh:
                try:
                    metadata = httpx.get(self.openid_url, timeout=10).raise_for_status().json()
                    jwks_uri = str(metadata["jwks_uri"])
                except (httpx.HTTPError, ValueError, KeyError) as error:
                    if self._keys is None:
                        raise Refused(f"the OpenID metadata could not be read: {error}") from None
                    log.warning("the Bot Framework's OpenID metadata could not be re-read: %s", error)
                    return self._keys
                # cache_keys: a key is parsed from its JWK once, not on every request (a millisecond each).
                self._keys = jwt.PyJWKClient(
                    jwks_uri, cache_keys=True, cache_jwk_set=True, lifespan=METADATA_SECONDS
                )
                self._held = {}
                self._read_at = time.monotonic()
            return self._keys


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
