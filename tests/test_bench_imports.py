"""Every benchmark still starts: each bench/*.py module imports (so a symbol moved in edibot cannot leave a
benchmark unable to start unnoticed until the next `make bench`), and importing one runs nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"

# The scripts import each other (benchkit, results, bench_nudges) as top-level names, as they do when
# `python bench/bench_X.py` puts bench/ first on sys.path; a fresh interpreter keeps their SDKs and sys.path
# out of this test process.
IMPORT_EACH = """
import importlib, json, sys, traceback
sys.path.insert(0, sys.argv[1])
failed = {}
for name in sys.argv[2:]:
    try:
        module = importlib.import_module(name)
    except Exception:
        failed[name] = traceback.format_exc(limit=-3)
    else:
        if name.startswith("bench_") and not callable(getattr(module, "main", None)):
            failed[name] = "no main() to run it by"
print(json.dumps(failed))
"""


def test_every_benchmark_imports_without_running(tmp_path: Path) -> None:
    modules = sorted(path.stem for path in BENCH.glob("*.py"))
    assert "bench_teams" in modules and "benchkit" in modules
    figures = tmp_path / "figures.jsonl"
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_EACH, str(BENCH), *modules],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT), "EDIBOT_BENCH_RESULTS": str(figures)},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    *printed, last = done.stdout.splitlines()
    failures = json.loads(last)
    assert failures == {}, "\n".join(f"{name}: {why}" for name, why in failures.items())
    # A benchmark that ran on import would have printed its progress or recorded a figure.
    assert printed == []
    assert not figures.exists()
