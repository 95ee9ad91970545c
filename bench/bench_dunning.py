"""A day's dunning run of a large ISP: 1,000,000 accounts with an invoice each, most paid,
one in ten overdue by 0 to 89 days, the steps of earlier days already taken (a steady
state), so that the run finds every overdue invoice and takes the steps whose day is
today: reminders (events for the mail subscriber), late fees (line items), suspensions
(with their Disconnect events) and closings (with write-offs). Compared with finding the
overdue invoices alone (`jet.dunning.overdue`).

    .venv/bin/python bench/bench_dunning.py [--accounts 1000000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from sqlalchemy import func, select  # noqa: E402

from bench.common import report  # noqa: E402
from jet import dunning  # noqa: E402
from jet.catalog import load_catalog_file  # noqa: E402
from jet.config import PROJECT_ROOT  # noqa: E402
from jet.realms import store_catalog  # noqa: E402
from jet.store.bulk import insert_rows  # noqa: E402
from jet.store.db import session  # noqa: E402
from jet.store.models import (  # noqa: E402
    Account,
    Allocation,
    DunningAction,
    Event,
    Invoice,
    LedgerEntry,
)

CATALOG = PROJECT_ROOT / "examples" / "catalogs" / "acme.yaml"
AS_OF = date(2026, 6, 1)
TERMS = 14  # acme's payment terms
LADDER = ((7, "remind"), (14, "remind"), (21, "suspend"), (60, "close"))  # acme.yaml
AMOUNT = Decimal("75.90")
CHUNK = 100_000


def store(root: Path, n: int) -> tuple[str, int]:
    """n acme accounts with an invoice each; every tenth overdue (by i // 10 % 90 days),
    the rest paid; steps whose day came before today taken. How many are overdue."""
    url = f"sqlite:///{root / 'jet.db'}"
    now = datetime.now(UTC)
    overdue = 0
    with session(url) as s:
        store_catalog(s, load_catalog_file(CATALOG), str(CATALOG))
    for first in range(0, n, CHUNK):
        ids = range(first, min(first + CHUNK, n))
        late = {i: i // 10 % 90 for i in ids if i % 10 == 0}  # days past due
        overdue += sum(1 for d in late.values() if d > 0)  # due today is not late yet
        # what the steps taken before today did (a step is taken on its day: after < d)
        status = {i: "suspended" if 21 < d <= 60 else "closed" if d > 60 else "active"
                  for i, d in late.items()}  # fmt: skip
        bill = {i: AS_OF - timedelta(days=TERMS + late.get(i, 30)) for i in ids}
        with session(url, migrate=False) as s:
            insert_rows(s, Account.__table__, [
                {"id": f"a{i}", "realm_id": "acme", "name": f"Customer {i}",
                 "email": f"c{i}@example.net", "created_at": now,
                 "status": status.get(i, "active"),
                 "hold": "non-payment" if status.get(i) == "suspended" else None}
                for i in ids
            ])  # fmt: skip
            insert_rows(s, Invoice.__table__, [
                {"id": i + 1, "number": f"ACME-2026-{i:07d}", "kind": "invoice",
                 "realm_id": "acme", "account_id": f"a{i}", "bill_date": bill[i],
                 "currency": "AUD", "subtotal": AMOUNT, "tax": Decimal(0), "total": AMOUNT,
                 "issued_at": now}
                for i in ids
            ])  # fmt: skip
            insert_rows(s, LedgerEntry.__table__, [
                {"id": i + 1, "account_id": f"a{i}", "realm_id": "acme", "currency": "AUD",
                 "kind": "invoice", "amount": AMOUNT, "entry_date": bill[i], "recorded_at": now,
                 "invoice_id": i + 1}
                for i in ids
            ])  # fmt: skip
            paid = [i for i in ids if i not in late]
            insert_rows(s, LedgerEntry.__table__, [
                {"id": n + i + 1, "account_id": f"a{i}", "realm_id": "acme", "currency": "AUD",
                 "kind": "payment", "amount": -AMOUNT, "entry_date": bill[i] + timedelta(days=9),
                 "recorded_at": now, "method": "bank"}
                for i in paid
            ])  # fmt: skip
            insert_rows(s, Allocation.__table__, [
                {"credit_id": n + i + 1, "debit_id": i + 1, "amount": AMOUNT, "at": now}
                for i in paid
            ])  # fmt: skip
            insert_rows(s, DunningAction.__table__, [
                {"account_id": f"a{i}", "entry_id": i + 1, "step": step, "action": action,
                 "due_date": bill[i] + timedelta(days=TERMS),
                 "taken_on": AS_OF - timedelta(days=d - after), "taken_at": now}
                for i, d in late.items()
                for step, (after, action) in enumerate(LADDER)
                if after < d
            ])  # fmt: skip
    return url, overdue


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=1_000_000)
    n = parser.parse_args().accounts
    with tempfile.TemporaryDirectory() as tmp:
        began = time.perf_counter()
        url, overdue = store(Path(tmp), n)
        setup = time.perf_counter() - began

        with session(url) as s:
            began = time.perf_counter()
            found = len(dunning.overdue(s, AS_OF))
            find_seconds = time.perf_counter() - began
        assert found == overdue, (found, overdue)

        load = os.getloadavg()[0]
        began, cpu = time.perf_counter(), time.process_time()
        with session(url) as s:
            done = dunning.run(s, AS_OF)
        seconds, cpu = time.perf_counter() - began, time.process_time() - cpu

        with session(url) as s:
            again = dunning.run(s, AS_OF)
            events = s.scalar(select(func.count()).select_from(Event))
        assert sum(again.taken.values()) == 0
        report(
            "dunning",
            f"a day's dunning run over {n:,} accounts, {overdue:,} of them overdue by 0-89 "
            "days, earlier steps taken",
            seconds,
            "finding the overdue invoices only (jet.dunning.overdue)",
            find_seconds,
            accounts=n,
            overdue=overdue,
            **done.taken,
            suspended=len(done.suspended),
            closed=len(done.closed),
            events=events,
            cpu_seconds=round(cpu, 1),
            setup_seconds=round(setup, 1),
            load_average=[round(load, 2), round(os.getloadavg()[0], 2)],
        )


if __name__ == "__main__":
    main()
