"""Each benchmark's figures for `make bench`'s one table: a script calls `record` beside the line it prints,
and, when EDIBOT_BENCH_RESULTS names a file, the figure is appended to it as one JSON line.

`bench/summary.py` reads that file and prints every figure side by side with what it is measured against,
the ratio, the target and PASS/FAIL.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def record(
    figure: str,
    value: float,
    unit: str,
    *,
    target: str,
    passed: bool,
    against: str = "",
    ratio: float | None = None,
) -> None:
    """One measured figure: `against` names the anchor it is compared with (a bare Bolt app, the allowed
    rate, the limit) and `ratio` is value / anchor where that means something."""
    where = os.environ.get("EDIBOT_BENCH_RESULTS")
    if not where:
        return
    line = {
        "benchmark": Path(sys.argv[0]).stem,
        "figure": figure,
        "value": value,
        "unit": unit,
        "against": against,
        "ratio": ratio,
        "target": target,
        "passed": passed,
    }
    with Path(where).open("a", encoding="utf-8") as file:
        file.write(json.dumps(line, ensure_ascii=False) + "\n")
