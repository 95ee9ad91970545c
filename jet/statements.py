"""A billing account's monthly statement: what it owed when the month began, each ledger
entry of the month in date order with the balance after it, and what it owed at the end.

Read from the store's ledger (`jet.ledger`), not from the published marts: the marts lag
the store by one snapshot, and the statement must agree with `jet account balance`
(`ledger.balance(s, account, on=month_end)`), which reads the store. A month is by entry
date, the day an entry counts from, as balances are (docs/statements.md)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from jet import ledger
from jet.account_views import billing_account
from jet.accounts import get_account
from jet.errors import JetError
from jet.store.models import Invoice, LedgerEntry, Realm

ZERO = Decimal(0)
KINDS = {
    "invoice": "Invoice",
    "credit_note": "Credit note",
    "payment": "Payment",
    "refund": "Refund",
    "reversal": "Reversal",
    "write_off": "Write-off",
    "top_up": "Top-up",
    "usage": "Prepaid usage",
}
_MONTH = re.compile(r"(\d{4})-(\d{2})")


class StatementError(JetError, ValueError):
    """A statement that cannot be made as asked."""


@dataclass(frozen=True, slots=True)
class StatementLine:
    """One ledger entry of the month: `debit` or `credit` (the other None) and the
    balance after it. `reference` is the invoice or credit note number, or the receipt
    number (the entry id) of a payment, top-up, refund or reversal."""

    entry_id: int
    day: date
    kind: str
    reference: str
    description: str
    debit: Decimal | None
    credit: Decimal | None
    balance: Decimal

    @property
    def amount(self) -> Decimal:
        """Signed as in the ledger: debits positive, credits negative."""
        return self.debit if self.debit is not None else -self.credit


@dataclass(frozen=True, slots=True)
class Statement:
    """A month's statement of one billing account. Amounts are Decimal in the realm's
    currency; positive is owed, negative is credit."""

    realm_id: str
    realm_name: str
    currency: str
    places: int
    account_id: str
    account_name: str
    address: str | None
    month: date  # its first day
    opening: Decimal
    lines: list[StatementLine]
    closing: Decimal

    @property
    def last_day(self) -> date:
        return next_month(self.month) - timedelta(days=1)

    @property
    def label(self) -> str:
        """The month as YYYY-MM."""
        return self.month.strftime("%Y-%m")

    @property
    def debits(self) -> Decimal:
        return sum((line.debit for line in self.lines if line.debit is not None), ZERO)

    @property
    def credits(self) -> Decimal:
        return sum((line.credit for line in self.lines if line.credit is not None), ZERO)

    @property
    def amount_due(self) -> Decimal:
        """What is owed at the month's end; nothing when in credit."""
        return max(self.closing, ZERO)

    @property
    def as_of(self) -> datetime:
        """The moment the statement speaks for (the end of its last day, UTC): its PDF's
        creation date, so the same ledger renders the same bytes."""
        return datetime.combine(next_month(self.month), time(), UTC)


def parse_month(text: str) -> date:
    """The first day of the month `text` (YYYY-MM) names, or a StatementError saying so."""
    found = _MONTH.fullmatch(text.strip())
    if found is None or not 1 <= int(found.group(2)) <= 12:
        raise StatementError(f"month {text!r} is not a month: give it as YYYY-MM, e.g. 2026-02")
    return date(int(found.group(1)), int(found.group(2)), 1)


def next_month(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def statement(s: Session, account_id: str, month: date, today: date | None = None) -> Statement:
    """The statement of `account_id`'s billing account (where its charges are invoiced)
    for the month beginning `month`. With `today`, a month that is not over is refused:
    its statement would change as the month goes on."""
    month = month.replace(day=1)
    end = next_month(month) - timedelta(days=1)
    if today is not None and end >= today:
        raise StatementError(
            f"{month:%Y-%m} is not over until {end.isoformat()}: a statement is of a whole "
            f"month; give an earlier one, or see `jet account balance {account_id}` for now"
        )
    account = billing_account(s, get_account(s, account_id))
    realm = s.get(Realm, account.realm_id)
    opening = ledger.balance(s, account.id, on=month - timedelta(days=1))
    entries = list(
        s.scalars(
            select(LedgerEntry)
            .where(
                LedgerEntry.account_id == account.id,
                LedgerEntry.entry_date >= month,
                LedgerEntry.entry_date <= end,
            )
            .order_by(LedgerEntry.entry_date, LedgerEntry.id)
        )
    )
    numbers = _numbers(s, entries)
    lines, running = [], opening
    for entry in entries:
        running += entry.amount
        reference, description = _describe(entry, numbers)
        lines.append(
            StatementLine(
                entry_id=entry.id,
                day=entry.entry_date,
                kind=entry.kind,
                reference=reference,
                description=description,
                debit=entry.amount if entry.amount >= 0 else None,
                credit=-entry.amount if entry.amount < 0 else None,
                balance=running,
            )
        )
    return Statement(
        realm_id=realm.id,
        realm_name=realm.name,
        currency=realm.currency,
        places=realm.minor_units,
        account_id=account.id,
        account_name=account.name,
        address=account.address,
        month=month,
        opening=opening,
        lines=lines,
        closing=running,
    )


def active_accounts(s: Session, month: date) -> list[tuple[str, str]]:
    """The billing accounts (id, realm) with ledger entries dated in the month beginning
    `month`."""
    month = month.replace(day=1)
    return [
        tuple(row)
        for row in s.execute(
            select(LedgerEntry.account_id, LedgerEntry.realm_id)
            .where(LedgerEntry.entry_date >= month, LedgerEntry.entry_date < next_month(month))
            .distinct()
            .order_by(LedgerEntry.account_id)
        )
    ]


def _numbers(s: Session, entries: list[LedgerEntry]) -> dict[int, str]:
    """Invoice numbers by ledger entry id: of the month's invoices and credit notes, of
    the invoices its credit notes correct and its write-offs give up."""
    ids = {e.id for e in entries} | {e.target_id for e in entries if e.target_id}
    return dict(
        s.execute(
            select(LedgerEntry.id, Invoice.number)
            .join(Invoice, Invoice.id == LedgerEntry.invoice_id)
            .where(LedgerEntry.id.in_(ids))
        ).all()
    )


def _describe(entry: LedgerEntry, numbers: dict[int, str]) -> tuple[str, str]:
    """The entry's reference and what it is, in words."""
    kind = KINDS.get(entry.kind, entry.kind.replace("_", " ").capitalize())
    target = numbers.get(entry.target_id) if entry.target_id else None
    reason = f": {entry.reason}" if entry.reason else ""
    if entry.kind in ("invoice", "credit_note"):
        of = f" for {target}" if entry.kind == "credit_note" and target else ""
        return numbers.get(entry.id, ""), f"{kind}{of}"
    if entry.kind in ("payment", "top_up"):
        by = f" by {entry.method}" if entry.method else ""
        ref = f", ref {entry.reference}" if entry.reference else ""
        of = f" of {target}" if target else ""
        return f"Receipt {entry.id}", f"{kind}{by}{of}{ref}"
    if entry.kind in ("refund", "reversal"):
        return f"Receipt {entry.related_id}", f"{kind} of the payment{reason}"
    if entry.kind == "write_off":
        return target or "", f"{kind}{reason}"
    return entry.reference or "", f"{kind}{reason}"
