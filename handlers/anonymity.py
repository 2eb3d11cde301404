"""How often someone may send anonymous feedback, known without knowing who they are.

Each person is counted under a keyed hash of their platform identity, and the key is a random one made in
memory each day and never written anywhere: today's counts can tell one sender from another, but once the
day turns the key is gone, so no count, log or database row can ever be tied to a person, today's or
yesterday's. Nothing here is stored; a restart forgets every count (and so gives everyone a fresh day).

One process, one count: with several edibot processes answering the same workspace, each keeps its own key
and counts, so someone could send up to the cap once per process. Sharing a count would mean sharing the key
(writing it where every process can read it: the very record this design refuses to keep), so edibot keeps
the promise and accepts the looser cap; `edibot run` answers each platform from one process.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from threading import Lock

from storage.rules.anonymity import CHECKS_FAILED_PER_DAY, CHECKS_FAILED_PER_HOUR, SUBMISSIONS_PER_DAY


class Pseudonyms:
    """Today's key, today's counts by keyed hash, and the deliveries already taken today (retries)."""

    def __init__(self) -> None:
        self._lock = Lock()
        self._day: date | None = None
        self._key = b""
        self._counts: Counter[tuple[str, str]] = Counter()
        self._failures_by_hour: Counter[str] = Counter()
        self._deliveries: set[str] = set()

    def _turn(self, day: date) -> None:
        if day != self._day:
            self._day = day
            self._key = secrets.token_bytes(32)
            self._counts.clear()
            self._failures_by_hour.clear()
            self._deliveries.clear()

    def _hash(self, text: str) -> str:
        return hmac.new(self._key, text.encode(), hashlib.sha256).hexdigest()

    def of(self, identity: str, *, now: datetime) -> Sender:
        """The sender `identity` is today, as a hash only today's key can make."""
        with self._lock:
            self._turn(now.date())
            return Sender(self, self._hash(identity), now)

    def first_delivery(self, delivery: str, *, now: datetime) -> bool:
        """False when this platform delivery was taken already today (a retry or a replay)."""
        with self._lock:
            self._turn(now.date())
            hashed = self._hash(delivery)
            if hashed in self._deliveries:
                return False
            self._deliveries.add(hashed)
            return True

    def forget_delivery(self, delivery: str, *, now: datetime) -> None:
        """A delivery that kept nothing (the database failed) may be tried again by the platform."""
        with self._lock:
            if now.date() == self._day:
                self._deliveries.discard(self._hash(delivery))

    def _give_back(self, tag: str, what: str, *, now: datetime) -> None:
        with self._lock:
            if now.date() == self._day and self._counts[(tag, what)] > 0:
                self._counts[(tag, what)] -= 1

    def _take(self, tag: str, what: str, *, cap: int, now: datetime) -> bool:
        with self._lock:
            self._turn(now.date())
            if self._counts[(tag, what)] >= cap:
                return False
            self._counts[(tag, what)] += 1
            return True

    def _failed_checks_allowed(self, tag: str, *, now: datetime) -> bool:
        with self._lock:
            self._turn(now.date())
            return (
                self._counts[(tag, "failed-check")] < CHECKS_FAILED_PER_DAY
                and self._failures_by_hour[f"{now:%H}"] < CHECKS_FAILED_PER_HOUR
            )

    def _failed_check(self, tag: str, *, now: datetime) -> None:
        with self._lock:
            self._turn(now.date())
            self._counts[(tag, "failed-check")] += 1
            self._failures_by_hour[f"{now:%H}"] += 1


@dataclass(frozen=True)
class Sender:
    """One anonymous sender for the length of one request: what they may still do today."""

    pseudonyms: Pseudonyms
    tag: str
    now: datetime
    counted: list[str] = field(default_factory=list)  # what this request took from today's allowance

    def may_send(self, *, cap: int = SUBMISSIONS_PER_DAY) -> bool:
        """Counts one submission (feedback or follow-up); False when today's cap is reached."""
        allowed = self.pseudonyms._take(self.tag, "sent", cap=cap, now=self.now)
        if allowed:
            self.counted.append("sent")
        return allowed

    def nothing_kept(self) -> None:
        """The request failed and kept nothing: what it counted against today's allowance is given back."""
        while self.counted:
            self.pseudonyms._give_back(self.tag, self.counted.pop(), now=self.now)

    def may_check(self) -> bool:
        """False when this sender, or everyone together this hour, got too many codes wrong."""
        return self.pseudonyms._failed_checks_allowed(self.tag, now=self.now)

    def checked_wrong(self) -> None:
        self.pseudonyms._failed_check(self.tag, now=self.now)
