"""Many payments recorded at once, as `jet.ledger.record_payment` records each one.

A bank statement brings tens of thousands of payments; one `record_payment` each costs
several round trips to the store. `record_payments` gives each payment the same entry,
audit row, event and allocations (a credit meant for a debit pays it first, then the
oldest debits; `jet.ledger.settle`), from the accounts' open entries read once and
written in bulk. tests/unit/test_payment_batches.py holds it to `record_payment`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from jet.audit import Actor, entry
from jet.ledger import METHODS, ZERO, LedgerError, parse_amount, reconnect_if_paid
from jet.outbox import event_row
from jet.store.bulk import insert_rows
from jet.store.models import (
    Account,
    Allocation,
    AuditEntry,
    Event,
    LedgerEntry,
    Realm,
)

CHUNK = 5_000


@dataclass(frozen=True, slots=True)
class Received:
    """One payment to record: `target_id` the ledger entry (an invoice) it pays first."""

    account_id: str
    amount: Decimal
    day: date
    method: str
    key: str
    reference: str | None = None
    target_id: int | None = None
    invoice: str | None = None


@dataclass(slots=True)
class _Open:
    """An account's unused credits and open debits (id -> what is left), oldest first."""

    credits: dict[int, Decimal] = field(default_factory=dict)
    targets: dict[int, int | None] = field(default_factory=dict)
    debits: dict[int, Decimal] = field(default_factory=dict)


def record_payments(s: Session, actor: Actor, received: list[Received]) -> list[int]:
    """Record each payment in order; the ids of their ledger entries."""
    if not received:
        return []
    accounts = _accounts(s, {r.account_id for r in received})
    realms = {r.id: r for r in s.scalars(select(Realm))}
    rows = []
    now = datetime.now(UTC)
    for r in received:
        account = accounts.get(r.account_id)
        if account is None or account.parent_id is not None or account.status == "closed":
            raise LedgerError(f"{r.account_id} is not an open billing account: record it alone")
        if r.method not in METHODS:
            raise LedgerError(f"unknown method {r.method!r}: give one of {', '.join(METHODS)}")
        realm = realms[account.realm_id]
        amount = parse_amount(r.amount, realm.minor_units, realm.currency)
        rows.append(
            dict(
                account_id=r.account_id,
                realm_id=realm.id,
                currency=realm.currency,
                kind="payment",
                amount=-amount,
                entry_date=r.day,
                recorded_at=now,
                method=r.method,
                reference=r.reference,
                key=r.key,
                target_id=r.target_id,
            )  # fmt: skip
        )
    ids = insert_rows(s, LedgerEntry.__table__, rows, returning="id")
    opened = _open(s, {r.account_id for r in received}, set(ids))
    allocations, audits, events = [], [], []
    for r, row, entry_id in zip(received, rows, ids, strict=True):
        after = {"amount": str(-row["amount"]), "method": r.method, "date": r.day.isoformat()}
        if r.reference:
            after["reference"] = r.reference
        if r.invoice:
            after["invoice"] = r.invoice
        audits.append(
            entry(
                actor,
                "payment.recorded",
                "ledger",
                str(entry_id),
                r.account_id,
                None,
                {"kind": "payment", **after},
                now,
            )  # fmt: skip
        )
        payload = {"entry": entry_id, "account": r.account_id, "currency": row["currency"],
                   "kind": "payment", **after}  # fmt: skip
        events.append(event_row("payment.recorded", r.account_id, payload, at=now))
        state = opened[r.account_id]
        state.credits[entry_id] = -row["amount"]
        state.targets[entry_id] = r.target_id
        allocations += _settle(state, now)
    for model, values in ((Allocation, allocations), (AuditEntry, audits), (Event, events)):
        insert_rows(s, model.__table__, values)
    reconnect_if_paid(s, actor, sorted(opened))
    return ids


def _settle(state: _Open, now: datetime) -> Iterator[dict]:
    """`jet.ledger.settle` on the account's open entries held in memory."""
    for credit in list(state.credits):
        target = state.targets.get(credit)
        order = [target] if target in state.debits else []
        for debit in order + [d for d in state.debits if d != target]:
            share = min(state.credits[credit], state.debits[debit])
            if share <= 0:
                continue
            yield {"credit_id": credit, "debit_id": debit, "amount": share, "at": now}
            state.debits[debit] -= share
            state.credits[credit] -= share
            if state.debits[debit] == 0:
                del state.debits[debit]
            if state.credits[credit] == 0:
                del state.credits[credit]
                break


def _accounts(s: Session, ids: set[str]) -> dict[str, Account]:
    found: dict[str, Account] = {}
    for chunk in _chunks(sorted(ids)):
        found |= {a.id: a for a in s.scalars(select(Account).where(Account.id.in_(chunk)))}
    return found


def _open(s: Session, account_ids: set[str], leave_out: set[int]) -> dict[str, _Open]:
    """The accounts' unused credits and open debits before these payments (`leave_out`),
    oldest first as `jet.ledger.open_entries` orders them."""
    opened = {a: _Open() for a in account_ids}
    amounts: dict[int, tuple[str, Decimal, int | None]] = {}
    for chunk in _chunks(sorted(account_ids)):
        for entry_id, account_id, amount, target in s.execute(
            select(
                LedgerEntry.id, LedgerEntry.account_id, LedgerEntry.amount, LedgerEntry.target_id
            )
            .where(LedgerEntry.account_id.in_(chunk))
            .order_by(LedgerEntry.entry_date, LedgerEntry.id)
        ):
            if entry_id not in leave_out:
                amounts[entry_id] = (account_id, amount, target)
    used: dict[int, Decimal] = {}
    for chunk in _chunks(list(amounts)):
        for credit, debit, amount in s.execute(
            select(Allocation.credit_id, Allocation.debit_id, Allocation.amount).where(
                Allocation.credit_id.in_(chunk)
            )
        ):
            used[credit] = used.get(credit, ZERO) + amount
            used[debit] = used.get(debit, ZERO) + amount
    for entry_id, (account_id, amount, target) in amounts.items():
        state = opened[account_id]
        left = abs(amount) - used.get(entry_id, ZERO)
        if left > 0 and amount < 0:
            state.credits[entry_id] = left
            state.targets[entry_id] = target
        elif left > 0:
            state.debits[entry_id] = left
    return opened


def _chunks(values: list) -> Iterator[list]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]
