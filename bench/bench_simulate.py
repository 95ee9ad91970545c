"""`jet simulate` of each golden scenario, as a user runs it: a fresh `jet` process per
scenario, from its start to its exit.

    python bench/bench_simulate.py

Each scenario of examples/scenarios/ (the copies of ../shared/golden/) runs twice and the
second time is kept: the first may parse the dbt project into the scratch home's cache,
which every later call reuses. The baseline is `jet --help` in a fresh process (the
interpreter and the CLI's imports: what any `jet` command pays before it does
anything), measured the same way. `seconds` is the slowest scenario; `scenario_seconds`
has each one.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import report  # noqa: E402

JET = [sys.executable, "-m", "jet.cli"]
SCENARIOS = sorted((ROOT / "examples" / "scenarios").glob("*.yaml"))


def timed(*args: str) -> float:
    """Seconds of one `jet` process, the second of two runs; fails loudly if it fails."""
    for _ in range(2):
        began = time.perf_counter()
        subprocess.run([*JET, *args], cwd=ROOT, check=True, capture_output=True)
        elapsed = time.perf_counter() - began
    return elapsed


def main() -> None:
    baseline = timed("--help")
    print(f"jet --help: {baseline:.2f} s", file=sys.stderr)
    seconds = {}
    for path in SCENARIOS:
        seconds[path.stem] = round(timed("simulate", str(path), "--json"), 2)
        print(f"jet simulate {path.name}: {seconds[path.stem]:.2f} s", file=sys.stderr)
    report(
        "simulate",
        f"`jet simulate` of each of the {len(SCENARIOS)} golden scenarios, a fresh process each",
        max(seconds.values()),
        "`jet --help` in a fresh process",
        baseline,
        scenario_seconds=seconds,
    )


if __name__ == "__main__":
    main()
