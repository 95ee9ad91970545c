"""`record_payments` records what `record_payment` records one by one: the same entries,
allocations, balances, audit rows and events, for named invoices, the oldest first,
overpayments, earlier credit and several payments of one account in one batch."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from jet.account_views import balance_detail
from jet.accounts import add_accounts
from jet.ledger import record_payment
from jet.payment_batches import Received, record_payments
from jet.store.db import session
from jet.store.models import Allocation, AuditEntry, Event, LedgerEntry
from tests.ledger_fixtures import acme, issue
from tests.unit.test_ledger import ME

JAN, FEB, MAR = date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)
# Per account: its invoices (and one earlier payment), then the payments of the batch as
# (amount, index of the invoice it names or None).
CASES = {
    "oldest": (["50.00", "30.00"], None, [("60.00", None)]),
    "named": (["50.00", "30.00"], None, [("10.00", 1), ("45.00", None)]),
    "over": (["20.00"], None, [("75.00", None)]),
    "credit": (["20.00"], "100.00", [("5.00", 0)]),
    "partly": (["40.00", "40.00"], "10.00", [("40.00", 1), ("40.00", None)]),
}


def history(s, prefix: str) -> dict[str, tuple]:
    """Each account's entries, allocations (by position) and balance."""
    found = {}
    for name in CASES:
        account = prefix + name
        entries = list(
            s.scalars(
                select(LedgerEntry)
                .where(LedgerEntry.account_id == account)
                .order_by(LedgerEntry.id)
            )
        )
        place = {e.id: n for n, e in enumerate(entries)}
        allocations = sorted(
            (place[c], place[d], a)
            for c, d, a in s.execute(
                select(Allocation.credit_id, Allocation.debit_id, Allocation.amount).where(
                    Allocation.credit_id.in_(place)
                )
            )
        )
        shown = balance_detail(s, account)
        found[name] = (
            [(e.kind, e.amount, e.method, e.reference) for e in entries],
            allocations,
            shown["balance"],
            [(d["paid"], d["due"]) for d in shown["open"]],
        )
    return found


def test_a_batch_records_what_one_by_one_records(settings) -> None:
    with session(settings.db_url) as s:
        acme(s)
        for prefix in ("one-", "bulk-"):
            add_accounts(s, "acme", [{"id": prefix + name, "name": name} for name in CASES])
        invoices = {}
        for prefix in ("one-", "bulk-"):
            for name, (totals, earlier, _) in CASES.items():
                account = prefix + name
                made = [
                    issue(s, account, day, total)
                    for day, total in zip((JAN, FEB), totals, strict=False)
                ]
                invoices[account] = [
                    s.scalar(select(LedgerEntry).where(LedgerEntry.invoice_id == i.id))
                    for i in made
                ]
                if earlier:
                    record_payment(s, ME, account, earlier, "cash", day=JAN)
        batch = []
        for name, (_, _, payments) in CASES.items():
            for n, (amount, named) in enumerate(payments):
                one, bulk = "one-" + name, "bulk-" + name
                target = invoices[one][named].invoice.number if named is not None else None
                record_payment(
                    s, ME, one, amount, "bank", reference=f"r{n}", day=MAR, invoice=target
                )
                batch.append(
                    Received(
                        bulk,
                        Decimal(amount),
                        MAR,
                        "bank",
                        f"k-{name}-{n}",
                        f"r{n}",
                        named is not None and invoices[bulk][named].id or None,
                        named is not None and invoices[bulk][named].invoice.number or None,
                    )
                )
        ids = record_payments(s, ME, batch)
        assert len(ids) == len(batch)
        assert history(s, "one-") == history(s, "bulk-")
        audits = s.scalars(
            select(AuditEntry.entity_id).where(AuditEntry.action == "payment.recorded")
        ).all()
        events = [
            e.payload["entry"]
            for e in s.scalars(select(Event).where(Event.topic == "payment.recorded"))
        ]
        assert set(map(str, ids)) <= set(audits) and set(ids) <= set(events)
