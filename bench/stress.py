"""Run tests again and again while busy loops hold every core: the check that tests with
real servers and timeouts do not depend on an idle machine.

    .venv/bin/python bench/stress.py [TEST ...] [--runs 10] [--busy 2]

Defaults to the Disconnect/CoA and server-stop tests, ten runs, two busy loops (one per
core here). Prints a line per run and a JSON summary last; exits 1 if any run failed.
Run by hand, like the benchmarks; never part of `make test`."""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import machine  # noqa: E402

DEFAULT_TESTS = [
    "tests/integration/test_radius_dynauth.py",
    "tests/integration/test_servers_stop.py",
]


def _spin() -> None:
    while True:
        pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tests", nargs="*", default=DEFAULT_TESTS)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--busy", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    loops = [multiprocessing.Process(target=_spin, daemon=True) for _ in range(args.busy)]
    for loop in loops:
        loop.start()
    results = []
    try:
        for n in range(1, args.runs + 1):
            began = time.monotonic()
            run = subprocess.run(
                [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args.tests],
                cwd=ROOT,
                capture_output=True,
                text=True,
            )
            seconds = round(time.monotonic() - began, 1)
            last = (run.stdout.strip().splitlines() or ["(no output)"])[-1]
            results.append({"run": n, "passed": run.returncode == 0, "seconds": seconds})
            print(f"run {n}/{args.runs}: {last}", flush=True)
            if run.returncode != 0:
                print(run.stdout[-4000:], file=sys.stderr)
    finally:
        for loop in loops:
            loop.kill()
    print(
        json.dumps(
            {
                "name": "stress",
                "tests": args.tests,
                "busy_loops": args.busy,
                "runs": args.runs,
                "passed": sum(r["passed"] for r in results),
                "seconds": [r["seconds"] for r in results],
                "machine": machine(),
            }
        )
    )
    return 0 if all(r["passed"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
