"""Delivering a bulk import's events: `jet events dispatch` of 100,000 `account.created`
events (one per imported account) to every subscriber (the event feed takes them all),
against writing the same events' JSON lines to a file directly (one query, one fsync:
no deliveries recorded, no claims, no order per account).

    .venv/bin/python bench/bench_events.py [--events 100000]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import report  # noqa: E402
from jet.config import Settings  # noqa: E402
from jet.deliveries import dispatch, open_deliveries  # noqa: E402
from jet.drivers.subscribers import subscribers  # noqa: E402
from jet.outbox import event_row  # noqa: E402
from jet.store.db import session  # noqa: E402
from jet.store.models import Event  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    n = parser.parse_args().events
    with tempfile.TemporaryDirectory(prefix="jet-bench-events-") as home:
        os.environ["JET_HOME"] = home
        settings = Settings()
        with session(settings.db_url) as s:
            rows = [event_row("account.created", f"user{i:07d}", {"account": f"user{i:07d}"})
                    for i in range(n)]  # fmt: skip
            s.execute(insert(Event), rows)

        started = time.perf_counter()
        reports = dispatch(settings, subscribers(settings))
        seconds = time.perf_counter() - started
        assert len(reports) == n, len(reports)

        started = time.perf_counter()
        for subscriber in subscribers(settings):
            open_deliveries(settings.db_url, subscriber)
        idle_pass = time.perf_counter() - started

        started = time.perf_counter()
        with session(settings.db_url) as s, (Path(home) / "bare.jsonl").open("w") as out:
            for e in s.scalars(select(Event).order_by(Event.id)):
                record = {"id": e.id, "topic": e.topic, "account": e.account_id,
                          "at": e.created_at.isoformat(), "payload": e.payload}  # fmt: skip
                out.write(json.dumps(record) + "\n")
            out.flush()
            os.fsync(out.fileno())
        baseline = time.perf_counter() - started
    report(
        "events",
        f"{n} account.created events delivered to every subscriber (the feed takes them)",
        seconds,
        "the same JSON lines written straight from the store, one fsync",
        baseline,
        ms_per_event=round(seconds / n * 1000, 3),
        idle_pass_seconds=round(idle_pass, 3),
    )


if __name__ == "__main__":
    main()
