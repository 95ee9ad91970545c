"""A month of a large ISP's bank account: `jet import bank-statement` of a camt.053 with
100,000 booked lines against 100,000 open invoices (lines matched by invoice number, by
a collection's end-to-end id, by a mandate's IBAN and by a unique amount; returned
debits reversed; some left unmatched), one transaction, against only reading the same
file (lxml) to plain lines.

    .venv/bin/python bench/bench_statement.py [--lines 100000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from sqlalchemy import func, insert, select  # noqa: E402

from bench.common import report  # noqa: E402
from jet.accounts import add_accounts  # noqa: E402
from jet.audit import Actor  # noqa: E402
from jet.bank_statements import read_camt053  # noqa: E402
from jet.catalog import load_catalog_file  # noqa: E402
from jet.config import PROJECT_ROOT  # noqa: E402
from jet.drivers.camt053 import Booked, statement  # noqa: E402
from jet.realms import store_catalog  # noqa: E402
from jet.statement_import import import_statements  # noqa: E402
from jet.store.db import session  # noqa: E402
from jet.store.models import (  # noqa: E402
    Collection,
    Invoice,
    LedgerEntry,
    Mandate,
    StatementLine,
)

CATALOG = PROJECT_ROOT / "examples" / "catalogs" / "eurowave.yaml"
CREDITOR_IBAN = "DE89370400440532013000"
BILL, BOOKED = date(2026, 1, 1), date(2026, 1, 20)


def iban(n: int) -> str:
    """A valid German IBAN of account number `n` (check digits by ISO 7064 MOD 97-10)."""
    bban = f"37040044{n:010d}"
    check = 98 - int(bban + "131400") % 97
    return f"DE{check:02d}{bban}"


def total(n: int) -> Decimal:
    """Every invoice's amount is its own, so that matching by amount can be unique."""
    return Decimal(1000 + n).scaleb(-2) + 10


def store(root: Path, n: int) -> str:
    """n accounts of eurowave, each with one open invoice; every tenth with a mandate and
    every twentieth with a pending collection."""
    url = f"sqlite:///{root / 'jet.db'}"
    now = datetime.now(UTC)
    with session(url) as s:
        store_catalog(s, load_catalog_file(CATALOG), str(CATALOG))
        add_accounts(s, "eurowave", [{"id": f"c{i}", "name": f"Customer {i}"} for i in range(n)])
        s.execute(insert(Invoice), [
            dict(id=i + 1, number=f"EUROWAVE-2026-{i:06d}", kind="invoice", realm_id="eurowave",
                 account_id=f"c{i}", bill_date=BILL, currency="EUR", subtotal=total(i),
                 tax=Decimal(0), total=total(i), issued_at=now)
            for i in range(n)
        ])  # fmt: skip
        s.execute(insert(LedgerEntry), [
            dict(id=i + 1, account_id=f"c{i}", realm_id="eurowave", currency="EUR", kind="invoice",
                 amount=total(i), entry_date=BILL, recorded_at=now, invoice_id=i + 1)
            for i in range(n)
        ])  # fmt: skip
        s.execute(insert(Mandate), [
            dict(id=i + 1, reference=f"M-{i}", account_id=f"c{i}", iban=iban(i),
                 debtor_name=f"Customer {i}", signed_on=BILL, created_at=now)
            for i in range(0, n, 10)
        ])  # fmt: skip
        s.execute(insert(Collection), [
            dict(end_to_end_id=f"E2E-{i}", account_id=f"c{i}", mandate_id=i + 1,
                 entry_id=i + 1, amount=total(i), collection_date=BOOKED, sequence="FRST",
                 message_id="MSG-1", status="pending", created_at=now)
            for i in range(0, n, 20)
        ])  # fmt: skip
    return url


def booked(i: int) -> Booked:
    """Line i: most name their invoice; every twentieth is a collected debit, a few of
    them returned after; others come from a mandate's IBAN, match by amount alone, or
    match nothing."""
    ref, amount = f"L{i}", str(total(i))
    if i % 20 == 0:
        return Booked(ref, amount, end_to_end_id=f"E2E-{i}", day=BOOKED)
    if i % 10 == 0:
        return Booked(ref, amount, iban=iban(i), name=f"Customer {i}", day=BOOKED)
    if i % 10 == 3:
        return Booked(ref, amount, reference="monthly internet", day=BOOKED)
    if i % 50 == 7:
        return Booked(ref, "1234567.89", reference="who knows", day=BOOKED)
    return Booked(ref, amount, reference=f"Invoice EUROWAVE-2026-{i:06d} thank you", day=BOOKED)


def imported(url: str, path: Path):
    """`jet import bank-statement` of the file, as the command does it."""
    with session(url) as s:
        return import_statements(s, Actor("bench", "import"), read_camt053(path.read_bytes()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=100_000)
    n = parser.parse_args().lines
    returns = n // 1000
    with tempfile.TemporaryDirectory() as tmp:
        url = store(Path(tmp), n)
        entries = [booked(i) for i in range(n - returns)]
        entries += [
            Booked(f"R{i}", str(total(i)), credit=False, end_to_end_id=f"E2E-{i}",
                   return_code="AM04", day=BOOKED)
            for i in range(0, 20 * returns, 20)
        ]  # fmt: skip
        path = Path(tmp) / "camt053.xml"
        path.write_bytes(statement(CREDITOR_IBAN, entries, ident="BENCH-2026-01"))

        began = time.perf_counter()
        lines = sum(len(st.lines) for st in read_camt053(path.read_bytes()))
        read_seconds = time.perf_counter() - began

        load = os.getloadavg()[0]
        began, cpu = time.perf_counter(), time.process_time()
        outcome = imported(url, path)
        seconds, cpu = time.perf_counter() - began, time.process_time() - cpu

        began = time.perf_counter()
        again = imported(url, path)
        again_seconds = time.perf_counter() - began
        with session(url) as s:
            payments = s.scalar(select(func.count()).where(LedgerEntry.kind == "payment"))
            stored = s.scalar(select(func.count()).select_from(StatementLine))
        assert lines == n and stored == n and again.counts["already imported"] == n
        assert payments == outcome.counts["paid"]
        report(
            "bank_statement",
            f"{n:,}-line camt.053 against {n:,} open invoices: matched, paid, returns "
            "reversed, one transaction",
            seconds,
            "reading the same file to plain lines (lxml), nothing matched or stored",
            read_seconds,
            lines=n,
            **{k.replace(" ", "_"): v for k, v in sorted(outcome.counts.items()) if v},
            lines_per_second=round(n / seconds),
            cpu_seconds=round(cpu, 1),
            reimport_seconds=round(again_seconds, 1),
            file_mb=round(path.stat().st_size / 2**20, 1),
            load_average=[round(load, 2), round(os.getloadavg()[0], 2)],
        )


if __name__ == "__main__":
    main()
