"""The rules of anonymous feedback: receipt codes and their hashes, the smallest group a count may describe,
release times, and how much one person may send in a day.

A receipt code is the feedback's reference (6 characters, shown to responders) and a secret (20 characters,
100 random bits, never stored): guessing one is hopeless, and what is kept is a salted scrypt hash of the
secret, checked in constant time. Codes are written in Crockford's base32 (no I, L, O or U), so a code read
aloud or copied by hand survives: lower case, spaces, and O/0, I/1, L/1 mix-ups are forgiven.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from datetime import time

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32
REF_LENGTH = 6  # 30 bits: a feedback's reference, unique among those kept
SECRET_LENGTH = 20  # 100 bits: the part of a receipt code only its holder has
CODE_LENGTH = REF_LENGTH + SECRET_LENGTH

DEFAULT_K = 5  # the smallest group any count or breakdown describes
FEEDBACK_LIMIT = 3000  # characters in one piece of feedback, a follow-up or a response
DEFAULT_RETENTION_DAYS = 365
DEFAULT_RELEASE_TIMES = (time(9, 0), time(15, 0))
SUBMISSIONS_PER_DAY = 5  # feedback and follow-ups one person may send in a day
CHECKS_FAILED_PER_DAY = 10  # receipt codes one person may get wrong in a day
CHECKS_FAILED_PER_HOUR = 100  # receipt codes everyone together may get wrong in an hour (guessing in bulk)

# scrypt's cost: about 16 MB and tens of milliseconds a check, so a stolen table cannot be tried fast.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1

_FORGIVEN = str.maketrans({"O": "0", "I": "1", "L": "1"})
_TIMES = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


class MalformedCode(ValueError):
    """Text that cannot be a receipt code: the message says what one looks like."""


def _random(length: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def new_ref() -> str:
    return _random(REF_LENGTH)


def new_secret() -> str:
    return _random(SECRET_LENGTH)


def code_text(ref: str, secret: str) -> str:
    """The code as shown: the reference, then the secret in groups of four ("K7Q3MZ-ABCD-EFGH-…")."""
    groups = [secret[i : i + 4] for i in range(0, len(secret), 4)]
    return "-".join([ref, *groups])


def read_code(text: str) -> tuple[str, str]:
    """(reference, secret) of a code as someone typed it; MalformedCode when it cannot be one."""
    cleaned = re.sub(r"[\s\-]", "", text).upper().translate(_FORGIVEN)
    if len(cleaned) != CODE_LENGTH or any(char not in ALPHABET for char in cleaned):
        raise MalformedCode(
            f"That isn't a receipt code: a code has {CODE_LENGTH} letters and digits, shown in groups like "
            "K7Q3MZ-ABCD-EFGH-JKMN-PQRS-TVWX."
        )
    return cleaned[:REF_LENGTH], cleaned[REF_LENGTH:]


def new_salt() -> str:
    return secrets.token_hex(16)


def hash_secret(secret: str, *, salt: str) -> str:
    """The slow, salted hash kept in place of a receipt code's secret."""
    digest = hashlib.scrypt(
        secret.encode(), salt=bytes.fromhex(salt), n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32
    )
    return digest.hex()


def secret_matches(secret: str, *, salt: str, hashed: str) -> bool:
    return hmac.compare_digest(hash_secret(secret, salt=salt), hashed)


def fewer_than(k: int) -> str:
    return f"fewer than {k}"


def counts_shown(counts: Mapping[str, int], *, k: int) -> dict[str, str]:
    """Each group's count as it may be shown: the number when at least `k`, else "fewer than k".

    When exactly one group is hidden, the next smallest is hidden too: otherwise the total, less the groups
    shown, would give the hidden one away.
    """
    hidden = {name for name, count in counts.items() if 0 < count < k}
    if len(hidden) == 1:
        shown = sorted((count, name) for name, count in counts.items() if name not in hidden and count > 0)
        if shown:
            hidden.add(shown[0][1])
    return {
        name: (fewer_than(k) if name in hidden else str(count)) for name, count in counts.items() if count > 0
    }


def total_shown(total: int, *, k: int) -> str:
    return str(total) if total >= k else fewer_than(k)


def read_release_times(text: str) -> tuple[time, ...]:
    """ "09:00,15:00" → the times of day feedback is released; ValueError saying what is wrong."""
    found: list[time] = []
    for part in (piece.strip() for piece in text.split(",")):
        matched = _TIMES.match(part)
        if not matched:
            raise ValueError(
                f"'{part}' is not a time of day: write release times as 24-hour HH:MM, e.g. 09:00,15:00"
            )
        found.append(time(int(matched.group(1)), int(matched.group(2))))
    if not found or len(found) > 6:
        raise ValueError("give between 1 and 6 release times a day, e.g. 09:00,15:00")
    return tuple(sorted(set(found)))


def release_times_text(times: tuple[time, ...] | list[time]) -> str:
    return ",".join(f"{moment:%H:%M}" for moment in times)
