"""The words edibot uses for where an action stands: open or done, as its status column holds them."""

from __future__ import annotations

from typing import Literal

Status = Literal["open", "done"]
