"""The Bot Framework's signing keys under a stream of forged tokens: each forged token is refused, and the
keys are read from Microsoft at most once in REREAD_SECONDS however many made-up key ids the tokens name;
a key Microsoft really rolls is taken up once that interval has passed. (Through edibot's HTTP endpoint:
tests/test_teams_app.py.)

The keys come from the Entra stand-in over real HTTPS, which counts every read of the OpenID metadata and of
the JWKS it names (tests/teams_standin.py); the checker's clock is the test's.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from bot.teams.auth import REREAD_SECONDS, RETRY_SECONDS, ChannelTokens, Refused
from tests.teams_standin import EntraStandIn, new_key

CONNECTOR = "https://smba.trafficmanager.net/emea/"


class Stopwatch:
    """A clock that only moves forward, and only when the test says so: seconds since it began."""

    def __init__(self) -> None:
        self.seconds = 1000.0

    def __call__(self) -> float:
        return self.seconds

    def wait(self, seconds: float) -> None:
        self.seconds += seconds


@pytest.fixture
def entra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[EntraStandIn]:
    with EntraStandIn(tmp_path) as standin:
        for name, value in standin.trust().items():
            monkeypatch.setenv(name, value)
        yield standin


def forged(entra: EntraStandIn) -> str:
    """A token signed by a key of the forger's own, naming a key id nobody has published."""
    return entra.channel_token(service_url=CONNECTOR, key=forgers_key(), kid=str(uuid.uuid4()))


@cache
def forgers_key() -> RSAPrivateKey:
    return new_key()


def test_forged_tokens_after_the_interval_cost_one_more_read_and_no_more(entra: EntraStandIn) -> None:
    clock = Stopwatch()
    tokens = ChannelTokens(app_id=entra.app_id, openid_url=entra.openid_url, clock=clock)
    tokens.check(f"Bearer {entra.channel_token(service_url=CONNECTOR)}", service_url=CONNECTOR)

    for _ in range(3):  # three bursts, each a little more than the interval after the last
        clock.wait(REREAD_SECONDS + 1)
        for _ in range(50):
            with pytest.raises(Refused):
                tokens.check(f"Bearer {forged(entra)}", service_url=CONNECTOR)
            clock.wait(1)

    assert (entra.metadata_reads, entra.key_reads) == (4, 4)  # the first read, and one a burst


def test_a_key_microsoft_rolls_is_taken_up_once_the_interval_has_passed(entra: EntraStandIn) -> None:
    clock = Stopwatch()
    tokens = ChannelTokens(app_id=entra.app_id, openid_url=entra.openid_url, clock=clock)
    assert tokens.check(f"Bearer {entra.channel_token(service_url=CONNECTOR)}", service_url=CONNECTOR)
    with pytest.raises(Refused):  # a forger's token, just before Microsoft rolls its keys
        tokens.check(f"Bearer {forged(entra)}", service_url=CONNECTOR)

    entra.roll_keys()
    clock.wait(60)
    signed_with_the_new_key = f"Bearer {entra.channel_token(service_url=CONNECTOR)}"
    # Within the interval the keys are not read again: the new key is not known yet.
    with pytest.raises(Refused, match="not in the Bot Framework's key set"):
        tokens.check(signed_with_the_new_key, service_url=CONNECTOR)
    assert entra.metadata_reads == 1

    clock.wait(REREAD_SECONDS)
    caller = tokens.check(signed_with_the_new_key, service_url=CONNECTOR)

    assert caller.service_url == CONNECTOR
    assert entra.metadata_reads == 2
    # Held now: checked again without a read, on the event loop's path too.
    assert tokens.check_with_held_keys(signed_with_the_new_key, service_url=CONNECTOR) == caller
    assert tokens.check(signed_with_the_new_key, service_url=CONNECTOR) == caller
    assert entra.metadata_reads == 2


def test_keys_a_day_old_are_read_again_with_the_next_token(entra: EntraStandIn) -> None:
    clock = Stopwatch()
    tokens = ChannelTokens(app_id=entra.app_id, openid_url=entra.openid_url, clock=clock)
    token = f"Bearer {entra.channel_token(service_url=CONNECTOR)}"
    tokens.check(token, service_url=CONNECTOR)

    clock.wait(24 * 3600 + 1)

    assert tokens.check_with_held_keys(token, service_url=CONNECTOR) is None  # too old for the event loop
    assert tokens.check(token, service_url=CONNECTOR).service_url == CONNECTOR
    assert entra.metadata_reads == 2


def test_while_the_metadata_cannot_be_read_tokens_are_refused_and_it_is_tried_again_after_a_pause(
    entra: EntraStandIn,
) -> None:
    clock = Stopwatch()
    tokens = ChannelTokens(app_id=entra.app_id, openid_url=entra.openid_url, clock=clock)
    token = f"Bearer {entra.channel_token(service_url=CONNECTOR)}"
    entra.metadata_fails = 1

    with pytest.raises(Refused, match="could not be read"):
        tokens.check(token, service_url=CONNECTOR)
    clock.wait(RETRY_SECONDS - 1)
    with pytest.raises(Refused, match="not tried again yet"):
        tokens.check(token, service_url=CONNECTOR)
    assert entra.metadata_reads == 1

    clock.wait(1)

    assert tokens.check(token, service_url=CONNECTOR).service_url == CONNECTOR
    assert entra.metadata_reads == 2


def test_keys_that_cannot_be_read_again_are_kept_and_not_asked_for_on_every_token(
    entra: EntraStandIn,
) -> None:
    clock = Stopwatch()
    tokens = ChannelTokens(app_id=entra.app_id, openid_url=entra.openid_url, clock=clock)
    token = f"Bearer {entra.channel_token(service_url=CONNECTOR)}"
    tokens.check(token, service_url=CONNECTOR)
    clock.wait(24 * 3600 + 1)  # a day on: due to be read again, and Microsoft's endpoint is down
    entra.metadata_fails = 100

    callers = [tokens.check(token, service_url=CONNECTOR) for _ in range(20)]

    assert {caller.service_url for caller in callers} == {CONNECTOR}  # the keys held still check tokens
    assert entra.metadata_reads == 2  # the first read, and one try: not one a token
