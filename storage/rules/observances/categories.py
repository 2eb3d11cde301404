"""The diversity calendar's categories and tones, on their own so that `edibot calendar --help` can name
them without loading the date rules."""

from __future__ import annotations

CATEGORIES = (
    "faith",
    "heritage",
    "awareness",
    "commemoration",
    "pride",
    "disability",
    "gender",
    "wellbeing",
    "organisation",
)
TONES = ("celebration", "commemoration")
