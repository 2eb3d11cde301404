"""Reads a diversity calendar data file (TOML) into observances, checking every entry on load: a malformed
file fails at start, naming the file, the entry and the field."""

from __future__ import annotations

import re
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from storage.rules.observances.catalogue import CATEGORIES, TONES, Observance, slug
from storage.rules.observances.dates import (
    TABLES,
    DateRuleError,
    EasterBased,
    Fixed,
    FromYear,
    HebrewDay,
    IslamicDate,
    IslamicMonth,
    LunisolarTable,
    Recurring,
    Rule,
    Span,
    rrule_of,
)
from storage.rules.observances.wording import tone_problem

SHIPPED = Path(__file__).resolve().parent / "rules" / "observances" / "observances.toml"


class CalendarDataError(Exception):
    """A calendar data file that can't be used, with where and why."""


_MONTH_DAY = re.compile(r"^(\d{2})-(\d{2})$")
_KINDS = ("fixed", "span", "month", "rrule", "easter", "hijri", "hijri_month", "hebrew", "table")


def _month_day(text: str, *, most_days: int = 31, months: int = 12) -> tuple[int, int]:
    found = _MONTH_DAY.match(text)
    if not found or not 1 <= int(found.group(1)) <= months or not 1 <= int(found.group(2)) <= most_days:
        raise ValueError(f"'{text}' should be MM-DD, e.g. 01-27")
    return int(found.group(1)), int(found.group(2))


def _two(month_day: tuple[int, int]) -> str:
    return f"{month_day[0]:02d}-{month_day[1]:02d}"


class WhenEntry(BaseModel):
    """One date rule of an entry, and the year it holds from."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_year: int | None = Field(default=None, alias="from", ge=1900, le=2200)
    fixed: str | None = None
    span: tuple[str, str] | None = None
    month: int | None = Field(default=None, ge=1, le=12)
    rrule: str | None = None
    easter: int | None = Field(default=None, ge=-100, le=100)
    hijri: str | None = None
    hijri_month: int | None = Field(default=None, ge=1, le=12)
    hebrew: str | None = None
    table: str | None = None
    days: int = Field(default=1, ge=1, le=62)

    @field_validator("fixed")
    @classmethod
    def _fixed(cls, value: str | None) -> str | None:
        return value if value is None else _two(_month_day(value))

    @field_validator("span")
    @classmethod
    def _span(cls, value: tuple[str, str] | None) -> tuple[str, str] | None:
        if value is not None:
            _month_day(value[0]), _month_day(value[1])
        return value

    @field_validator("hijri")
    @classmethod
    def _hijri(cls, value: str | None) -> str | None:
        return value if value is None else _two(_month_day(value, most_days=30))

    @field_validator("hebrew")
    @classmethod
    def _hebrew(cls, value: str | None) -> str | None:
        return value if value is None else _two(_month_day(value, most_days=30, months=13))

    @field_validator("rrule")
    @classmethod
    def _rrule(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                rrule_of(value)
            except DateRuleError as error:
                raise ValueError(str(error)) from None
        return value

    @field_validator("table")
    @classmethod
    def _table(cls, value: str | None) -> str | None:
        if value is not None and value not in TABLES:
            raise ValueError(f"'{value}' is not a table I have (I have {', '.join(TABLES)})")
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> WhenEntry:
        given = [kind for kind in _KINDS if getattr(self, kind) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of {', '.join(_KINDS)} (found {', '.join(given) or 'none'})")
        return self

    def as_rule(self) -> Rule:
        if self.fixed is not None:
            return Fixed(*_month_day(self.fixed), days=self.days)
        if self.span is not None:
            return Span(*_month_day(self.span[0]), *_month_day(self.span[1]))
        if self.month is not None:
            return Span(self.month, 1, self.month, 31)
        if self.rrule is not None:
            return Recurring(self.rrule, self.days)
        if self.easter is not None:
            return EasterBased(self.easter, self.days)
        if self.hijri is not None:
            return IslamicDate(*_month_day(self.hijri, most_days=30), days=self.days)
        if self.hijri_month is not None:
            return IslamicMonth(self.hijri_month)
        if self.hebrew is not None:
            return HebrewDay(*_month_day(self.hebrew, most_days=30, months=13), days=self.days)
        assert self.table is not None
        return LunisolarTable(self.table, self.days)


class ObservanceEntry(BaseModel):
    """One observance as the data file writes it."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    key: str | None = Field(default=None, max_length=120)
    category: str
    tone: str
    description: str = Field(min_length=1, max_length=1000)
    source: str | None = Field(default=None, pattern=r"^https?://\S+$")
    when: list[WhenEntry] = Field(min_length=1)
    approximate: bool = False
    evening_before: bool = False
    greeting: str | None = Field(default=None, max_length=200)

    @field_validator("category")
    @classmethod
    def _known_category(cls, value: str) -> str:
        if value not in CATEGORIES:
            raise ValueError(f"'{value}' is not a category (use one of {', '.join(CATEGORIES)})")
        return value

    @field_validator("tone")
    @classmethod
    def _known_tone(cls, value: str) -> str:
        if value not in TONES:
            raise ValueError(f"'{value}' is not a tone (use celebration or commemoration)")
        return value

    @model_validator(mode="after")
    def _fitting_words(self) -> ObservanceEntry:
        if self.tone == "commemoration" and self.greeting:
            raise ValueError("a commemoration has no greeting: it is marked reflectively")
        for said in (self.name, self.description):
            if problem := tone_problem(self.tone, said):
                raise ValueError(problem)
        years = [entry.from_year or 0 for entry in self.when]
        if years != sorted(set(years)):
            raise ValueError("each date rule must hold from a later year than the one before it")
        return self

    def as_observance(self) -> Observance:
        return Observance(
            key=self.key or slug(self.name),
            name=self.name,
            category=self.category,
            tone=self.tone,
            description=self.description,
            rules=tuple(FromYear(entry.from_year or 0, entry.as_rule()) for entry in self.when),
            source=self.source,
            approximate=self.approximate,
            evening_before=self.evening_before,
            greeting=self.greeting,
        )


def _where(data: dict[str, Any], location: tuple[int | str, ...]) -> str:
    """ "entry 3 (Yom Kippur), field 'when[0].hebrew'" from pydantic's error location."""
    if len(location) < 2 or location[0] != "observance" or not isinstance(location[1], int):
        return "field '" + ".".join(str(part) for part in location) + "'"
    index = location[1]
    entries = data.get("observance") or []
    name = entries[index].get("name") if index < len(entries) and isinstance(entries[index], dict) else None
    field = ""
    for part in location[2:]:
        field += f"[{part}]" if isinstance(part, int) else (f".{part}" if field else str(part))
    named = f" ({name})" if name else ""
    return f"entry {index + 1}{named}" + (f", field '{field}'" if field else "")


class CalendarFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    observance: list[ObservanceEntry] = Field(default_factory=list)


def load_observances(path: Path) -> list[Observance]:
    """Every observance of a data file, or CalendarDataError naming the file, the entry and the field."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise CalendarDataError(f"{path}: can't be read ({error.strerror or error})") from None
    except tomllib.TOMLDecodeError as error:
        raise CalendarDataError(f"{path}: is not valid TOML ({error})") from None
    try:
        parsed = CalendarFile.model_validate(data)
    except ValidationError as error:
        problems = [
            f"{_where(data, tuple(problem['loc']))}: {problem['msg'].removeprefix('Value error, ')}"
            for problem in error.errors()
        ]
        raise CalendarDataError(f"{path}: " + "; ".join(problems[:5])) from None
    observances = [entry.as_observance() for entry in parsed.observance]
    seen: dict[str, int] = {}
    for index, observance in enumerate(observances, 1):
        if observance.key in seen:
            raise CalendarDataError(
                f"{path}: entry {index} ({observance.name}), field 'name': "
                f"the same as entry {seen[observance.key]}"
            )
        seen[observance.key] = index
    return observances


@lru_cache(maxsize=8)
def shipped_observances(path: Path = SHIPPED) -> tuple[Observance, ...]:
    """The calendar edibot ships (read once per process)."""
    return tuple(load_observances(path))
