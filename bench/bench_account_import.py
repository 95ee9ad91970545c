"""Moving a customer base over: `jet import accounts` of a million accounts with their
subscriptions (every row checked, each account and subscription with its audit entry and
event, one transaction), against bare sqlite3 inserts of the same accounts and
subscriptions into the same schema (no checks, no audit, no events).

    .venv/bin/python bench/bench_account_import.py [--accounts 1000000]
"""

from __future__ import annotations

import argparse
import csv
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import report  # noqa: E402
from jet.account_import import import_accounts, read_csv  # noqa: E402
from jet.audit import Actor  # noqa: E402
from jet.catalog import load_catalog_file  # noqa: E402
from jet.config import PROJECT_ROOT  # noqa: E402
from jet.realms import store_catalog  # noqa: E402
from jet.store.db import session  # noqa: E402
from tests.account_files import account_rows, write_csv  # noqa: E402

CATALOG = PROJECT_ROOT / "examples" / "catalogs" / "acme.yaml"


def store(root: Path) -> str:
    """A new store with the acme catalog."""
    url = f"sqlite:///{root / 'jet.db'}"
    with session(url) as s:
        store_catalog(s, load_catalog_file(CATALOG), str(CATALOG))
    return url


def bare(path: Path, url: str) -> None:
    """The floor: the file's accounts and subscriptions, inserted as they are (read
    twice, so that the rows are never all held)."""

    def rows():
        with open(path, newline="") as f:
            yield from csv.DictReader(f)

    con = sqlite3.connect(url.removeprefix("sqlite:///"))
    with con:
        con.executemany(
            "insert into accounts (id, realm_id, name, parent_id, status, email, created_at,"
            " kind, phone, address, country, tax_id, delivery, notes, prepaid)"
            " values (?, ?, ?, ?, 'active', ?, datetime('now'), ?, ?, ?, ?, ?, ?, ?, 0)",
            (
                (r["login"], r["realm"], r["name"], r["parent"] or None, r["email"],
                 r["kind"] or "person", r["phone"], r["address"], r["country"], r["tax_id"],
                 r["delivery"] or "email", r["notes"])
                for r in rows()
            ),
        )  # fmt: skip
        con.executemany(
            "insert into subscriptions (account_id, plan_id, start_date) values (?, ?, ?)",
            ((r["login"], r["plan"], r["plan_from"]) for r in rows() if r["plan"]),
        )
    con.close()


def _waiting_for_cpu() -> float:
    """Seconds this thread has waited, ready to run, for a CPU (Linux schedstat): on a
    shared machine, wall time = CPU time + this + waits for the disk."""
    try:
        return int(Path("/proc/thread-self/schedstat").read_text().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=1_000_000)
    n = parser.parse_args().accounts
    with tempfile.TemporaryDirectory() as tmp:
        path = write_csv(Path(tmp) / "accounts.csv", account_rows(n))
        (Path(tmp) / "bare").mkdir()
        (Path(tmp) / "jet").mkdir()
        bare_url, jet_url = store(Path(tmp) / "bare"), store(Path(tmp) / "jet")

        began = time.perf_counter()
        bare(path, bare_url)
        bare_seconds = time.perf_counter() - began

        load = os.getloadavg()[0]
        began, cpu, queued = time.perf_counter(), time.process_time(), _waiting_for_cpu()
        with session(jet_url) as s:
            counts = import_accounts(s, Actor("bench", "import"), read_csv(path))
        seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
        queued = _waiting_for_cpu() - queued

        acme = counts["acme"]
        assert acme.accounts_added == n, counts
        report(
            "account_import",
            f"{n:,} accounts ({acme.subscriptions_added:,} with a subscription) from a CSV "
            "file, one transaction",
            seconds,
            "sqlite3 executemany of the same accounts and subscriptions, no checks, audit "
            "or events",
            bare_seconds,
            accounts=n,
            subscriptions=acme.subscriptions_added,
            accounts_per_second=round(n / seconds),
            cpu_seconds=round(cpu, 1),
            waiting_for_cpu_seconds=round(queued, 1),
            file_mb=round(path.stat().st_size / 2**20, 1),
            load_average=[round(load, 2), round(os.getloadavg()[0], 2)],
        )


if __name__ == "__main__":
    main()
