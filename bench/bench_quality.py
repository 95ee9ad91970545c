"""What the data contracts add to a billing run: the demo's first billing cycle (a month
of bill dates: snapshot, dbt build, checks, issue, PDFs) with the checks off, then on.

    python bench/bench_quality.py [--accounts 2000]

Set-up (timed only to stderr): the demo deployment (`jet.drivers.demo_data.generate`: two realms,
N accounts, three months of RADIUS, NetFlow and upstream usage, ~740k rows for 2,000),
copied into two homes so that both runs issue the same invoices. Then, in this process,
as `jet bill` runs it (`jet.drivers.jobs.run_job`): the first month of bill dates in the
first home with `JET_QUALITY_CHECKS=false` (the baseline), then in the second with the
checks on. The second run pays for importing Great Expectations, as a fresh `jet bill`
does (`jet demo` pays it once for its four runs); `checks_seconds` is the checks' own
step (Dagster's step time of `data_contracts`), `checks_rows` the rows they read.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import report  # noqa: E402
from jet.config import Settings  # noqa: E402


def _run(home: Path, checks: bool, first, last) -> tuple[float, float]:
    """One billing run in `home`; its wall time and the checks' step time."""
    from dagster import DagsterInstance

    from jet.drivers.jobs import run_job

    os.environ["JET_HOME"] = str(home)
    os.environ["JET_QUALITY_CHECKS"] = str(checks).lower()
    settings = Settings()
    began = time.monotonic()
    run_job(settings, "billing_cycle", first, last)
    seconds = time.monotonic() - began
    with DagsterInstance.get() as instance:
        run = instance.get_runs(limit=1)[0]
        steps = {s.step_key: s for s in instance.get_run_step_stats(run.run_id)}
    step = steps["data_contracts"]
    return seconds, step.end_time - step.start_time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=2000)
    args = parser.parse_args()

    from sqlalchemy import func, select

    from jet.drivers.demo import LAST_BILL_DATE, _month_ranges
    from jet.drivers.demo_data import generate
    from jet.store.db import session
    from jet.store.models import Subscription

    with tempfile.TemporaryDirectory(prefix="bench-quality-") as tmp:
        base = Path(tmp) / "base"
        os.environ["JET_HOME"] = str(base)
        settings = Settings()
        settings.export()
        began = time.monotonic()
        summary = generate(settings, accounts=args.accounts)
        print(f"generated in {time.monotonic() - began:.0f} s", file=sys.stderr)
        with session(settings.db_url) as s:  # as `jet demo` picks its first cycle
            start = s.scalar(select(func.min(Subscription.start_date)))
        first, last = _month_ranges(start, LAST_BILL_DATE)[0]
        homes = {checks: Path(tmp) / f"checks-{checks}" for checks in (False, True)}
        for home in homes.values():
            shutil.copytree(base, home)
        baseline, _ = _run(homes[False], False, first, last)
        seconds, checks_seconds = _run(homes[True], True, first, last)
        rows = sum(summary["rows"].values())
    report(
        "quality_checks",
        f"the demo's first billing cycle ({first}..{last}), {args.accounts} accounts, "
        f"{rows:,} usage rows",
        seconds,
        "the same run with JET_QUALITY_CHECKS=false",
        baseline,
        checks_seconds=round(checks_seconds, 2),
        checks_share=round(checks_seconds / seconds, 3),
    )


if __name__ == "__main__":
    main()
