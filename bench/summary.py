"""Prints `make bench`'s one table from the figures the benchmarks recorded (bench/results.py): each figure,
what it is measured against, the ratio, the target and PASS/FAIL, and the machine it ran on.

Run as `python bench/summary.py RESULTS.jsonl`; exits non-zero when any figure missed its target.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python bench/summary.py RESULTS.jsonl", file=sys.stderr)
        return 2
    path = Path(argv[0])
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    load = ", ".join(f"{n:.1f}" for n in os.getloadavg())
    table = Table(title=f"edibot benchmarks — {platform.node()}, {os.cpu_count()} CPUs, load {load}")
    for column in ("Benchmark", "Figure", "Value", "Against", "Ratio", "Target", "Result"):
        table.add_column(column, justify="right" if column in ("Value", "Ratio") else "left")
    for row in rows:
        ratio = f"{row['ratio']:.2f}×" if row.get("ratio") is not None else ""
        table.add_row(
            row["benchmark"].removeprefix("bench_"),
            row["figure"],
            f"{row['value']:,.2f} {row['unit']}",
            row.get("against") or "",
            ratio,
            row["target"],
            "PASS" if row["passed"] else "[bold red]FAIL[/]",
        )
    Console(width=200).print(table)
    missed = sum(1 for row in rows if not row["passed"])
    print(f"{len(rows)} figures, {missed} missed their target" if rows else "no figures were recorded")
    return 1 if missed or not rows else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
