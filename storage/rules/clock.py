"""What a clock is to edibot: something that says what time it is now, as an aware datetime."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...
