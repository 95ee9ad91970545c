"""Prepaid accounts: credit paid ahead that rated usage runs down (docs/prepaid.md).

A prepaid account's credit is minus its ledger balance, never a stored field. Each
rating run calls `deduct_usage` after publishing the marts: for each prepaid billing
account and cycle, what `fct_prepaid_usage` says the usage costs so far (tax included),
less what earlier runs deducted for that cycle, becomes a `usage` entry. So a run that
finds nothing new deducts nothing, and the credit falls by exactly the rated usage.

The invoice of the cycle then carries every line as usual, but its ledger entry nets out
the deductions (`undeducted`): the usage is paid once. A deduction that takes the credit
to the realm's `prepaid.low_balance` or below announces `prepaid.low_balance` (once per
crossing); one that leaves none announces `prepaid.exhausted`, which disconnects the
account's sessions (`jet.session_control`)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import func, literal_column, select
from sqlalchemy.orm import Session

from jet.accounts import get_account
from jet.audit import Actor, record
from jet.config import Settings
from jet.ledger import LedgerError, post, record_payment, settle
from jet.outbox import publish
from jet.realms import catalog_on
from jet.store.db import session
from jet.store.models import Account, Invoice, LedgerEntry, Realm
from jet.warehouse import marts

ZERO = Decimal(0)
LOW_BALANCE = "prepaid.low_balance"
EXHAUSTED = "prepaid.exhausted"
ACTOR = Actor("rating run", "rating")
MICROS = 10**6  # ledger amounts have at most 6 places (jet.catalog.MONEY_PLACES)
CHUNK = 10_000  # account ids per IN (...): under every backend's limit on parameters

_RATED = """
    select billing_account_id, bill_date, total, minor_units
    from fct_prepaid_usage order by billing_account_id, bill_date
"""


def top_up(
    s: Session,
    actor: Actor,
    account_id: str,
    amount: str | Decimal,
    method: str,
    *,
    reference: str | None = None,
    day: date | None = None,
    key: str | None = None,
) -> LedgerEntry:
    """Add `amount` to a prepaid account's credit: a `top_up` entry (`jet.ledger`), which
    also pays what its invoices still owe."""
    if not get_account(s, account_id).prepaid:
        raise LedgerError(
            f"{account_id} is postpaid: record a payment (`jet payment record`), or make it "
            f"prepaid first (`jet account set {account_id} --prepaid`)"
        )
    return record_payment(
        s, actor, account_id, amount, method, reference=reference, day=day, key=key, kind="top_up"
    )


def credit_left(s: Session, account_ids: Iterable[str] | None = None) -> dict[str, Decimal]:
    """What each prepaid account has left (minus its balance; 0 without entries), in the
    realm's minor units: of `account_ids`, or of every prepaid account, in one grouped
    query. It sums whole millionths, which SQLite (money as text) sums exactly too, where
    it would sum the amounts themselves as floats."""
    micros = func.sum(func.round(LedgerEntry.amount * literal_column(str(MICROS))))
    query = (
        select(Account.id, Realm.minor_units, micros)
        .join(Realm, Realm.id == Account.realm_id)
        .outerjoin(LedgerEntry, LedgerEntry.account_id == Account.id)
        .where(Account.prepaid)
        .group_by(Account.id, Realm.minor_units)
    )
    if account_ids is not None:
        query = query.where(Account.id.in_(list(account_ids)))
    return {
        account_id: (-Decimal(int(total or 0)) / MICROS).quantize(Decimal(1).scaleb(-places))
        for account_id, places, total in s.execute(query)
    }


def cycle(bill_date: date) -> str:
    """The reference of a cycle's deductions: its bill date."""
    return f"cycle {bill_date.isoformat()}"


def deducted(s: Session, account_ids: list[str]) -> dict[tuple[str, str], Decimal]:
    """What has been deducted so far from each of these accounts, per cycle reference."""
    done: dict[tuple[str, str], Decimal] = {}
    for start in range(0, len(account_ids), CHUNK):
        for account_id, reference, amount in s.execute(
            select(LedgerEntry.account_id, LedgerEntry.reference, LedgerEntry.amount).where(
                LedgerEntry.kind == "usage",
                LedgerEntry.account_id.in_(account_ids[start : start + CHUNK]),
                LedgerEntry.reference.like("cycle %"),
            )
        ):
            done[(account_id, reference)] = done.get((account_id, reference), ZERO) + amount
    return done


def undeducted(s: Session, account_id: str, bill_date: date, total: Decimal) -> Decimal:
    """What the ledger entry of an invoice of `total` at `bill_date` charges: the total less
    the deductions of its cycle and earlier ones that no earlier invoice netted out (late
    usage of an invoiced cycle is deducted under that cycle and invoiced on the next)."""
    earlier = select(LedgerEntry.reference, LedgerEntry.amount).where(
        LedgerEntry.account_id == account_id,
        LedgerEntry.kind == "usage",
        LedgerEntry.reference.like("cycle %"),
    )
    taken = sum(
        (a for ref, a in s.execute(earlier) if ref <= cycle(bill_date)),
        ZERO,
    )
    netted = sum(
        (
            invoice_total - entry_amount
            for invoice_total, entry_amount in s.execute(
                select(Invoice.total, LedgerEntry.amount)
                .join(LedgerEntry, LedgerEntry.invoice_id == Invoice.id)
                .where(Invoice.account_id == account_id, Invoice.kind == "invoice")
            )
        ),
        ZERO,
    )
    return total - (taken - netted)


def has_deductions(s: Session, account_ids: list[str]) -> set[str]:
    """Those of `account_ids` with usage deductions (whose invoices net them out)."""
    found: set[str] = set()
    for start in range(0, len(account_ids), CHUNK):
        found.update(
            s.scalars(
                select(func.distinct(LedgerEntry.account_id)).where(
                    LedgerEntry.kind == "usage",
                    LedgerEntry.account_id.in_(account_ids[start : start + CHUNK]),
                )
            )
        )
    return found


def deduct_usage(settings: Settings, day: date | None = None, actor: Actor = ACTOR) -> int:
    """Deduct from each prepaid billing account the rated usage the published marts show
    and no earlier run deducted; how many entries were written. Entries are dated `day`
    (today)."""
    con = marts(settings)
    try:
        tables = {name for (name,) in con.execute("show tables").fetchall()}
        rated = con.execute(_RATED).fetchall() if "fct_prepaid_usage" in tables else []
    finally:
        con.close()
    day = day or datetime.now(UTC).date()
    with session(settings.db_url) as s:
        prepaid = set(
            s.scalars(select(Account.id).where(Account.prepaid, Account.parent_id.is_(None)))
        )
        rated = [row for row in rated if row[0] in prepaid]
        accounts = sorted({row[0] for row in rated})
        done = deducted(s, accounts)
        left = credit_left(s)
        thresholds: dict[str, Decimal | None] = {}
        touched: set[str] = set()
        written = 0
        for account_id, bill_date, amount, places in rated:
            amount = amount.quantize(Decimal(1).scaleb(-places))
            reference = cycle(bill_date)
            before = done.get((account_id, reference), ZERO)
            due = amount - before
            if due <= 0:
                continue
            account = s.get(Account, account_id)
            entry = post(
                s, account, "usage", due, day,
                reference=reference, key=f"usage:{account_id}:{bill_date}:{before}",
            )  # fmt: skip
            done[(account_id, reference)] = before + due
            after = {"amount": str(due), "cycle": bill_date.isoformat(), "rated": str(amount)}
            record(
                s, actor, "usage.deducted", "ledger", str(entry.id),
                account_id=account_id, after=after,
            )  # fmt: skip
            if account.realm_id not in thresholds:
                thresholds[account.realm_id] = low_balance(s, account.realm_id, day)
            credit = left.get(account_id, ZERO)
            left[account_id] = credit - due
            _watch(s, account_id, credit, credit - due, thresholds[account.realm_id])
            touched.add(account_id)
            written += 1
        for account_id in sorted(touched):
            settle(s, account_id)
    return written


def low_balance(s: Session, realm_id: str, day: date) -> Decimal | None:
    """The realm's low-balance warning threshold on `day`, if it sets one."""
    catalog = catalog_on(s, realm_id, day)
    prepaid = catalog.realm.prepaid if catalog is not None else None
    return None if prepaid is None else prepaid.low_balance


def _watch(
    s: Session, account_id: str, before: Decimal, after: Decimal, threshold: Decimal | None
) -> None:
    """The events of a deduction: `prepaid.low_balance` when it takes the credit across the
    realm's threshold, `prepaid.exhausted` whenever it leaves none (usage went on)."""
    payload = {"account": account_id, "left": str(after), "before": str(before)}
    if threshold is not None and before > threshold >= after:
        publish(s, LOW_BALANCE, account_id, payload | {"threshold": str(threshold)})
    if after <= 0:
        publish(s, EXHAUSTED, account_id, payload)
