"""Dunning: what happens to an account that does not pay, step by step, once each.

An invoice is overdue from its due date (its bill date plus the realm's
`payment_terms`, catalog in effect on the bill date) while the ledger shows part of it
open. The realm's ladder (its catalog's `dunning` in effect on the run's day) names steps
`after_days` past due: remind (an e-mail, `dunning.reminder`), suspend (the account,
`jet.accounts.hold_for_non_payment`: its sessions are disconnected and its logins told
why), close (the account, and what is open written off); any step may bill a late fee, an
external line item on the next invoice. A run as of a day takes every step whose day has
come and that was not taken for that invoice before (`DunningAction`, unique per invoice
and step), with its effects, audit rows and events, in the caller's transaction.

A run reads the store in a few set-wide queries and writes in bulk: a million accounts
are one run (bench/bench_dunning.py)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import Float, cast, func, select
from sqlalchemy.orm import Session

from jet.accounts import close_account, hold_for_non_payment
from jet.audit import Actor, entry
from jet.catalog import DunningStep
from jet.ledger import paid_of, write_off
from jet.outbox import event_row
from jet.realms import catalog_on
from jet.store.bulk import insert_rows
from jet.store.models import (
    Account,
    Allocation,
    AuditEntry,
    DunningAction,
    Event,
    Invoice,
    LedgerEntry,
    LineItem,
)

ACTOR = Actor("jet", "dunning")
CHUNK = 10_000
# What an invoice must still owe to count as open, as the store's arithmetic sees it: on
# SQLite, amounts are text summed as floats, so this only narrows the candidates; what is
# open is then summed exactly, as Decimal.
_OPEN_ABOVE = 0.0005


@dataclass(frozen=True, slots=True)
class Overdue:
    """An invoice past its due date with `left` still to pay."""

    entry_id: int
    account_id: str
    realm_id: str
    number: str
    currency: str
    due_date: date
    left: Decimal


@dataclass(slots=True)
class Run:
    """What a run did: actions taken by kind, accounts suspended and closed."""

    taken: dict[str, int]
    suspended: list[str]
    closed: list[str]


def overdue(s: Session, as_of: date, realm_id: str | None = None) -> list[Overdue]:
    """Every invoice overdue on `as_of` (its due date before it) and still open."""
    paid = (
        select(Allocation.debit_id, func.sum(Allocation.amount).label("paid"))
        .group_by(Allocation.debit_id)
        .subquery()
    )
    query = (
        select(
            LedgerEntry.id,
            LedgerEntry.account_id,
            LedgerEntry.realm_id,
            Invoice.number,
            LedgerEntry.currency,
            LedgerEntry.entry_date,
            LedgerEntry.amount,
        )
        .join(Invoice, Invoice.id == LedgerEntry.invoice_id)
        .outerjoin(paid, paid.c.debit_id == LedgerEntry.id)
        .where(
            LedgerEntry.kind == "invoice",
            LedgerEntry.entry_date < as_of,
            cast(LedgerEntry.amount, Float) - cast(func.coalesce(paid.c.paid, 0), Float)
            > _OPEN_ABOVE,
        )
        .order_by(LedgerEntry.entry_date, LedgerEntry.id)
    )
    if realm_id is not None:
        query = query.where(LedgerEntry.realm_id == realm_id)
    rows = s.execute(query).all()
    exact = paid_of(s, [r.id for r in rows])
    terms = _Terms(s)
    found = []
    for r in rows:
        due = r.entry_date + timedelta(days=terms.days(r.realm_id, r.entry_date))
        left = r.amount - exact.get(r.id, Decimal(0))
        if due < as_of and left > 0:
            found.append(Overdue(r.id, r.account_id, r.realm_id, r.number, r.currency, due, left))
    return found


def run(s: Session, as_of: date, realm_id: str | None = None, actor: Actor = ACTOR) -> Run:
    """Take every step of the ladder that has come by `as_of` and was not taken before."""
    late = overdue(s, as_of, realm_id)
    taken = _taken(s, [o.entry_id for o in late])
    ladders = {realm: _ladder(s, realm, as_of) for realm in {o.realm_id for o in late}}
    todo: list[tuple[Overdue, int, DunningStep]] = [
        (o, n, step)
        for o in late
        for n, step in enumerate(ladders[o.realm_id])
        if (o.entry_id, n) not in taken and (as_of - o.due_date).days >= step.after_days
    ]
    now = datetime.now(UTC)
    ids = insert_rows(
        s,
        DunningAction.__table__,
        [
            {
                "account_id": o.account_id,
                "entry_id": o.entry_id,
                "step": n,
                "action": step.action,
                "fee": step.fee,
                "due_date": o.due_date,
                "taken_on": as_of,
                "taken_at": now,
            }
            for o, n, step in todo
        ],  # fmt: skip
        returning="id",
    )
    audits, events, fees = [], [], []
    suspend: dict[str, list[str]] = defaultdict(list)
    close: dict[str, list[Overdue]] = defaultdict(list)
    for action_id, (o, n, step) in zip(ids, todo, strict=True):
        what = {"invoice": o.number, "step": n + 1, "action": step.action,
                "days_overdue": (as_of - o.due_date).days, "due": str(o.left),
                "currency": o.currency, "due_date": o.due_date.isoformat()}  # fmt: skip
        audits.append(entry(actor, f"dunning.{step.action}", "invoice", o.number,
                            o.account_id, None, what, now))  # fmt: skip
        if step.action == "remind":
            events.append(event_row("dunning.reminder", o.account_id,
                                    {"account": o.account_id, **what}, at=now))  # fmt: skip
        elif step.action == "suspend":
            suspend[o.account_id].append(o.number)
        else:
            close[o.account_id].append(o)
        if step.fee:
            fees.append(
                {"account_id": o.account_id, "item_date": as_of, "amount": step.fee,
                 "description": f"Late fee: invoice {o.number} overdue", "taxable": False,
                 "source": "dunning", "source_line": action_id}
            )  # fmt: skip
    insert_rows(s, AuditEntry.__table__, audits)
    insert_rows(s, Event.__table__, events)
    insert_rows(s, LineItem.__table__, fees)
    suspended = hold_for_non_payment(s, actor, dict(suspend))
    closed = []
    for account_id, invoices in close.items():
        if s.get(Account, account_id).status != "closed":
            close_account(s, actor, account_id, as_of)
            closed.append(account_id)
        for o in invoices:
            write_off(s, actor, o.number, f"closed for non-payment, {o.due_date} due", as_of)
    counts: dict[str, int] = defaultdict(int)
    for _, _, step in todo:
        counts[step.action] += 1
    counts["fee"] = len(fees)
    return Run(dict(counts), suspended, closed)


def status(s: Session, as_of: date, realm_id: str | None = None) -> list[dict]:
    """Who is at which step: each overdue invoice, the last step taken and the next one
    with its day (for `jet dunning status`)."""
    late = overdue(s, as_of, realm_id)
    taken = _taken(s, [o.entry_id for o in late])
    ladders = {realm: _ladder(s, realm, as_of) for realm in {o.realm_id for o in late}}
    shown = []
    for o in late:
        ladder = ladders[o.realm_id]
        done = [n for n in range(len(ladder)) if (o.entry_id, n) in taken]
        last = ladder[done[-1]].action if done else None
        following = next((n for n in range(len(ladder)) if (o.entry_id, n) not in taken), None)
        shown.append(
            {
                "account": o.account_id,
                "realm": o.realm_id,
                "invoice": o.number,
                "due_date": o.due_date.isoformat(),
                "days_overdue": (as_of - o.due_date).days,
                "due": f"{o.left}",
                "currency": o.currency,
                "step": last,
                "next": None if following is None else ladder[following].action,
                "next_on": None
                if following is None
                else (o.due_date + timedelta(days=ladder[following].after_days)).isoformat(),
            }
        )
    return shown


def _ladder(s: Session, realm_id: str, day: date) -> tuple[DunningStep, ...]:
    catalog = catalog_on(s, realm_id, day)
    steps = catalog.realm.dunning if catalog is not None else None
    return tuple(sorted(steps or (), key=lambda step: step.after_days))


class _Terms:
    """Each realm's payment terms on a bill date, from the catalog then in effect."""

    def __init__(self, s: Session) -> None:
        self.s, self.known = s, {}

    def days(self, realm_id: str, bill_date: date) -> int:
        key = (realm_id, bill_date)
        if key not in self.known:
            catalog = catalog_on(self.s, realm_id, bill_date)
            self.known[key] = catalog.realm.terms_days if catalog else 14
        return self.known[key]


def _taken(s: Session, entry_ids: list[int]) -> set[tuple[int, int]]:
    taken: set[tuple[int, int]] = set()
    for start in range(0, len(entry_ids), CHUNK):
        chunk = entry_ids[start : start + CHUNK]
        taken.update(
            s.execute(
                select(DunningAction.entry_id, DunningAction.step).where(
                    DunningAction.entry_id.in_(chunk)
                )
            ).all()
        )
    return taken
