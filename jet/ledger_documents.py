"""What documents print of the ledger: a receipt's payment and what it paid, an invoice's
credit applied and due date, as they stood when the entry was recorded.

An issued invoice and a receipt never change, yet their entry's allocations go on moving
(a refund reopens what a payment paid; the credit a payment left pays the next
invoice). So a document shows only the allocations made when its entry was recorded:
positive ones made before the account's next entry was recorded. Nothing can allocate
in between but the `settle` that ends the recording (or the issue run); a later entry's
own settle, and the negative allocations that take money back, come after it. Rendered
today or next year, the document prints the same."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from jet.ledger import LedgerError
from jet.realms import catalog_on
from jet.store.models import Account, Allocation, Invoice, LedgerEntry, Realm

ZERO = Decimal(0)


def allocated_when_recorded(
    s: Session, entries: list[LedgerEntry]
) -> dict[int, dict[int, Decimal]]:
    """For each of `entries`: the other entries it paid or was paid by when it was
    recorded, with the amounts."""
    ids = {e.id for e in entries}
    recorded: dict[str, list[datetime]] = defaultdict(list)
    for account, at in s.execute(
        select(LedgerEntry.account_id, LedgerEntry.recorded_at).where(
            LedgerEntry.account_id.in_({e.account_id for e in entries})
        )
    ):
        recorded[account].append(utc(at))
    until = {
        e.id: min((at for at in recorded[e.account_id] if at > utc(e.recorded_at)), default=None)
        for e in entries
    }
    found: dict[int, dict[int, Decimal]] = {i: defaultdict(Decimal) for i in ids}
    for credit, debit, amount, at in s.execute(
        select(Allocation.credit_id, Allocation.debit_id, Allocation.amount, Allocation.at).where(
            or_(Allocation.credit_id.in_(ids), Allocation.debit_id.in_(ids)), Allocation.amount > 0
        )
    ):
        for mine, other in ((credit, debit), (debit, credit)):
            if mine in ids and (until[mine] is None or utc(at) < until[mine]):
                found[mine][other] += amount
    return {i: dict(paid) for i, paid in found.items()}


def utc(moment: datetime) -> datetime:
    """Aware UTC: SQLite gives back the stored UTC times without their zone."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def due_date(s: Session, realm_id: str, bill_date: date) -> date:
    """The bill date plus the payment terms of the realm's catalog in effect on it."""
    catalog = catalog_on(s, realm_id, bill_date)
    days = catalog.realm.terms_days if catalog else 14
    return bill_date + timedelta(days=days)


@dataclass(frozen=True, slots=True)
class Paid:
    """One debit a payment paid: an invoice's number (None for a refund or the like), its
    kind and date, and how much."""

    number: str | None
    kind: str
    day: date
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Receipt:
    """What a payment's receipt prints. Its number is the payment's ledger entry id."""

    number: int
    kind: str  # payment or top_up
    realm_id: str
    realm_name: str
    account_id: str
    account_name: str
    currency: str
    amount: Decimal
    method: str | None
    reference: str | None
    day: date
    recorded_at: datetime
    paid: list[Paid]
    credit_left: Decimal


def receipt(s: Session, payment_id: int) -> Receipt:
    """The receipt of payment (or top-up) `payment_id` as it was recorded."""
    entry = s.get(LedgerEntry, payment_id)
    if entry is None or entry.kind not in ("payment", "top_up"):
        raise LedgerError(
            f"there is no payment {payment_id}: `jet payment list ACCOUNT` shows their numbers"
        )
    paid = allocated_when_recorded(s, [entry])[entry.id]
    debits = s.execute(
        select(LedgerEntry.id, Invoice.number, LedgerEntry.kind, LedgerEntry.entry_date)
        .outerjoin(Invoice, Invoice.id == LedgerEntry.invoice_id)
        .where(LedgerEntry.id.in_(paid))
        .order_by(LedgerEntry.entry_date, LedgerEntry.id)
    )
    account = s.get(Account, entry.account_id)
    return Receipt(
        number=entry.id,
        kind=entry.kind,
        realm_id=entry.realm_id,
        realm_name=s.get(Realm, entry.realm_id).name,
        account_id=account.id,
        account_name=account.name,
        currency=entry.currency,
        amount=-entry.amount,
        method=entry.method,
        reference=entry.reference,
        day=entry.entry_date,
        recorded_at=entry.recorded_at,
        paid=[Paid(number, kind, day, paid[i]) for i, number, kind, day in debits],
        credit_left=-entry.amount - sum(paid.values(), ZERO),
    )
