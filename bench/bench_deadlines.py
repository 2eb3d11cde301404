"""Times interpret_deadline on 100,000 deadline cells like real plans hold, against a 1 second target.

Run with the project's environment: `.venv/bin/python bench/bench_deadlines.py`.
It exits non-zero when the target is missed.
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable, Sequence

from results import record

from storage.rules.deadlines import clear_deadline_cache, interpret_deadline

TARGET_SECONDS = 1.0
CELLS = 100_000
DISTINCT_FOR_UNCACHED = 5_000
SEED = 20240331

MONTH_SPELLINGS = [
    ["Jan", "January", "jan", "JANUARY"],
    ["Feb", "February", "feb"],
    ["March", "Mar", "march", "MARCH"],
    ["April", "Apr", "april"],
    ["May", "may"],
    ["June", "Jun", "june", "JUNE"],
    ["July", "Jul", "july"],
    ["August", "Aug", "aug"],
    ["Sept", "Sep", "September", "Sept.", "sept", "SEPT"],
    ["October", "Oct", "oct"],
    ["November", "Nov", "nov", "NOV"],
    ["December", "Dec", "dec"],
]
ONGOING = [
    "Ongoing",
    "ongoing",
    "On-going",
    "Ongoing ",
    "Continuous",
    "Throughout year",
    "Throughout the year",
    "Ongoing – Update to be provided as part of EDI Annual update",
    "BAU",
    "Rolling programme",
]
RECURRING = [
    "Annually",
    "Quarterly",
    "Monthly",
    "Weekly",
    "Termly",
    "Bi-annual",
    "Biannually",
    "Tri-annually",
    "Every 6 months",
    "Twice a year",
    "Each year",
    "Yearly",
    "Annual",
    "Every 3 months",
]
COMPLETE = ["Complete", "Completed", "complete", "Published", "Achieved", "Done", "Delivered"]
UNKNOWN = [
    "TBC",
    "TBA",
    "tbc",
    "–",
    "",
    " ",
    "N/A",
    "Next staff survey",
    "When budget allows",
    "Subject to funding",
    "– Update to be provided as part of EDI Annual update and Workforce Strategy Annual Update",
    "After the restructure",
    "To be agreed with HR",
    "Sept 32",
    "31/2/24",
    "Febuary 2024",
]


def month(rng: random.Random) -> str:
    return rng.choice(MONTH_SPELLINGS[rng.randrange(12)])


def year(rng: random.Random, *, short: bool | None = None) -> str:
    value = rng.randint(2019, 2030)
    two_digits = rng.random() < 0.5 if short is None else short
    return f"{value % 100:02d}" if two_digits else str(value)


def month_year(rng: random.Random) -> str:
    separator = rng.choice([" ", " ", " ", "-", ", "])
    return f"{rng.choice(['', '', '', 'Due ', 'By ', 'by end of '])}{month(rng)}{separator}{year(rng)}"


def day_month_year(rng: random.Random) -> str:
    day, number = rng.randint(1, 28), rng.randint(1, 12)
    separator = rng.choice(["/", "/", "/", ".", "-"])
    padded = rng.random() < 0.4
    text = f"{day:02d}{separator}{number:02d}" if padded else f"{day}{separator}{number}"
    return f"{rng.choice(['', '', 'by '])}{text}{separator}{year(rng)}"


def iso_date(rng: random.Random) -> str:
    return f"{rng.randint(2019, 2030)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def written_date(rng: random.Random) -> str:
    day = rng.randint(1, 28)
    suffix = rng.choice(["", "", "st" if day % 10 == 1 and day != 11 else "th"])
    return f"{day}{suffix} {month(rng)} {year(rng, short=False)}"


def quarter(rng: random.Random) -> str:
    first = rng.randint(2019, 2030)
    number = rng.randint(1, 4)
    return rng.choice(
        [
            f"Q{number} {first}",
            f"Q{number} {first}/{(first + 1) % 100:02d}",
            f"Q{number} {first}-{(first + 1) % 100:02d}",
            f"Q{number} {first % 100}/{(first + 1) % 100}",
        ]
    )


def date_range(rng: random.Random) -> str:
    first = rng.randint(2019, 2028)
    last = first + rng.randint(0, 2)
    return rng.choice(
        [
            f"Q{rng.randint(1, 2)} {first} - Q{rng.randint(3, 4)} {last}",
            f"Q{rng.randint(1, 4)} {first} – Q{rng.randint(1, 4)} {last + 1}",
            f"{month(rng)} – {MONTH_SPELLINGS[11][0]} {first}",
            f"{first}-{last + 1}",
            f"April {first} to March {first + 1}",
            f"June/July {first}",
            f"{first}/{(first + 1) % 100:02d}",
            str(first),
        ]
    )


def combined(rng: random.Random) -> str:
    return rng.choice(
        [
            f"{month(rng)} {year(rng)} & Ongoing",
            f"{month(rng)}-{year(rng, short=True)} and ongoing",
            f"From {month(rng)} {year(rng, short=False)}",
            f"Start date {month(rng)} {year(rng, short=False)}",
            f"{month(rng)} {year(rng)} and {month(rng)} {year(rng)}",
            f"Due {month(rng)} {year(rng, short=False)}\n{month(rng)} {year(rng, short=False)}",
            f"First round to be delivered {day_month_year(rng)} with further projects to be agreed",
        ]
    )


# Weights follow the plans in ../shared/plans: mostly month-year cells, then "Ongoing" and its kin.
KINDS: Sequence[tuple[Callable[[random.Random], str], int]] = (
    (month_year, 40),
    (day_month_year, 10),
    (iso_date, 4),
    (written_date, 4),
    (quarter, 6),
    (date_range, 6),
    (combined, 8),
    (lambda rng: rng.choice(ONGOING), 12),
    (lambda rng: rng.choice(RECURRING), 4),
    (lambda rng: rng.choice(COMPLETE), 3),
    (lambda rng: rng.choice(UNKNOWN), 3),
)


def deadline_cells(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    makers = [maker for maker, _ in KINDS]
    weights = [weight for _, weight in KINDS]
    return [rng.choices(makers, weights)[0](rng) for _ in range(count)]


def main() -> int:
    cells = deadline_cells(CELLS, SEED)
    distinct = len(set(cells))

    clear_deadline_cache()
    started = time.perf_counter()
    for cell in cells:
        interpret_deadline(cell)
    total = time.perf_counter() - started

    # For honesty: every one of these is a cache miss, so this is the interpreter's own speed.
    fresh: list[str] = []
    seen: set[str] = set()
    for cell in deadline_cells(CELLS * 4, SEED + 1):
        if cell not in seen:
            seen.add(cell)
            fresh.append(cell)
        if len(fresh) == DISTINCT_FOR_UNCACHED:
            break
    clear_deadline_cache()
    started = time.perf_counter()
    for cell in fresh:
        interpret_deadline(cell)
    uncached = time.perf_counter() - started

    passed = total <= TARGET_SECONDS
    print(f"cells interpreted:        {CELLS:,} (seed {SEED})")
    print(f"distinct cells:           {distinct:,}")
    print(f"total, cold cache:        {total:.3f} s")
    print(f"per cell:                 {total / CELLS * 1e6:.2f} µs")
    each = uncached / len(fresh) * 1e6
    print(f"uncached, distinct cells: {len(fresh):,} in {uncached:.3f} s = {each:.1f} µs each")
    print(f"projected uncached 100k:  {uncached / len(fresh) * CELLS:.2f} s")
    print(f"target {TARGET_SECONDS:.1f} s for {CELLS:,}: {'PASS' if passed else 'FAIL'}")
    record(f"{CELLS:,} deadline cells, cold", total, "s", target=f"≤ {TARGET_SECONDS:.1f} s", passed=passed)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
