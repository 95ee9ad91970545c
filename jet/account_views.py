"""What is shown of accounts: one account's details, tree, subscriptions, addresses,
balance, invoices and audit entries, and the accounts a search finds.

Read here once for every caller (`jet account show|list`, `jet subscription list`, `jet
audit`, later the console and the portal), as JSON-ready values: dates as ISO text,
amounts with the realm's minor-unit places. Open RADIUS sessions are not the store's:
the caller that may read the lake adds them (`ingest.radius.open_sessions`)."""

from __future__ import annotations

import ipaddress
from collections.abc import Collection
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from jet import ledger
from jet.accounts import get_account, profile
from jet.addresses import assignments
from jet.audit import entries
from jet.ledger_documents import due_date
from jet.money import format_money
from jet.store.models import (
    Account,
    AuditEntry,
    Invoice,
    InvoiceLine,
    IpAssignment,
    LedgerEntry,
    Realm,
)
from jet.store.models import Subscription as Sub


def billing_account(s: Session, account: Account) -> Account:
    """The root of the account's tree: where its charges are invoiced."""
    while account.parent_id:
        account = s.get(Account, account.parent_id)
    return account


def subscriptions(s: Session, account_id: str, today: date) -> list[dict[str, Any]]:
    """The account's subscriptions, oldest first, each with its state on `today`."""
    get_account(s, account_id)
    subs = s.scalars(
        select(Sub).where(Sub.account_id == account_id).order_by(Sub.start_date, Sub.id)
    )
    return [
        {
            "id": sub.id,
            "plan": sub.plan_id,
            "start": sub.start_date.isoformat(),
            "end": _iso(sub.end_date),
            "state": _state(sub, today),
        }
        for sub in subs
    ]


def account_detail(
    s: Session, account_id: str, today: date, *, invoices: int = 5, audit: int = 10
) -> dict[str, Any]:
    """Everything `jet account show` prints of an account: its last `invoices` invoices
    (its own, and its billing account's that carry its lines) and last `audit` entries."""
    account = get_account(s, account_id)
    places = s.get(Realm, account.realm_id).minor_units
    children = s.scalars(
        select(Account).where(Account.parent_id == account_id).order_by(Account.id)
    )
    return {
        "account": {
            **profile(account),
            "status": account.status,
            "closed_on": _iso(account.closed_on),
            "created_at": _iso(account.created_at),
        },
        "billing_account": billing_account(s, account).id,
        "children": [{"id": c.id, "name": c.name, "status": c.status} for c in children],
        "subscriptions": subscriptions(s, account_id, today),
        "addresses": {
            "framed_ip": account.framed_ip,
            "assigned": [a.network for a in assignments(s, account_id)],
        },
        "balance": _balance(s, account, places),
        "invoices": _invoices(s, account_id, invoices, places),
        "audit": [audit_row(e) for e in _last_entries(s, account_id, audit)],
    }


def find_accounts(
    s: Session,
    realm: str | None = None,
    status: str | None = None,
    search: str | None = None,
    *,
    realms: Collection[str] | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Accounts by realm (or any of `realms`) and status, and whose login, name, e-mail,
    parent, static address or assigned network holds `search` (any case), or whose network
    holds the address `search` is; the first `limit` of them."""
    query = select(Account).order_by(Account.realm_id, Account.id).limit(limit)
    if realm:
        query = query.where(Account.realm_id == realm)
    if realms is not None:
        query = query.where(Account.realm_id.in_(realms))
    if status:
        query = query.where(Account.status == status)
    text = (search or "").strip()
    if text:
        networks = select(IpAssignment.account_id).where(
            IpAssignment.network.icontains(text, autoescape=True)
        )
        columns = (Account.id, Account.name, Account.email, Account.parent_id, Account.framed_ip)
        query = query.where(
            or_(
                *(column.icontains(text, autoescape=True) for column in columns),
                Account.id.in_(networks),
                Account.id.in_(_holders(s, text)),
            )
        )
    return [
        {
            "id": a.id,
            "realm": a.realm_id,
            "name": a.name,
            "kind": a.kind,
            "status": a.status,
            "parent": a.parent_id,
            "email": a.email,
            "framed_ip": a.framed_ip,
        }
        for a in s.scalars(query)
    ]


def audit_rows(
    s: Session, account_id: str | None = None, since: date | None = None
) -> list[dict[str, Any]]:
    """The audit entries of an account (or of all), oldest first, from `since`."""
    if account_id is not None:
        get_account(s, account_id)
    return [audit_row(e) for e in entries(s, account_id, since)]


def audit_row(e: AuditEntry) -> dict[str, Any]:
    return {
        "at": _iso(e.at),
        "actor": e.actor,
        "channel": e.channel,
        "action": e.action,
        "entity": e.entity,
        "entity_id": e.entity_id,
        "account": e.account_id,
        "before": e.before,
        "after": e.after,
    }


def _state(sub: Sub, today: date) -> str:
    if sub.end_date is not None and sub.end_date <= today:
        return "ended"
    return "future" if sub.start_date > today else "in force"


def _balance(s: Session, account: Account, places: int) -> dict[str, Any]:
    owes = ledger.balance(s, billing_account(s, account).id)
    if account.prepaid:
        return {"kind": "prepaid", "amount": format_money(-owes, places)}
    return {"kind": "postpaid", "amount": format_money(owes, places)}


def balance_detail(s: Session, account_id: str) -> dict[str, Any]:
    """What `jet account balance` shows: what the account's billing account owes (negative: its
    credit), and each open invoice with what was paid of it and what is due."""
    billed = billing_account(s, get_account(s, account_id))
    realm = s.get(Realm, billed.realm_id)
    places = realm.minor_units
    credits, debits = ledger.open_entries(s, billed.id)
    invoices = {i.id: i for i in s.scalars(select(Invoice).where(Invoice.account_id == billed.id))}
    return {
        "account": account_id,
        "billed_to": billed.id,
        "currency": realm.currency,
        "balance": format_money(ledger.balance(s, billed.id), places),
        "credit": format_money(sum((c.left for c in credits), Decimal(0)), places),
        "open": [
            {
                "entry": d.entry.id,
                "kind": d.entry.kind,
                "number": invoices[d.entry.invoice_id].number if d.entry.invoice_id else None,
                "date": d.entry.entry_date.isoformat(),
                "amount": format_money(d.entry.amount, places),
                "paid": format_money(d.entry.amount - d.left, places),
                "due": format_money(d.left, places),
            }
            for d in debits
        ],
    }


def payments(s: Session, account_id: str) -> list[dict[str, Any]]:
    """The account's ledger entries other than invoices and credit notes, oldest first:
    payments, top-ups, refunds, reversals, write-offs, prepaid usage."""
    account = get_account(s, account_id)
    places = s.get(Realm, account.realm_id).minor_units
    return [
        {
            "id": e.id,
            "kind": e.kind,
            "date": e.entry_date.isoformat(),
            "amount": format_money(-e.amount, places),
            "method": e.method,
            "reference": e.reference,
            "of_payment": e.related_id,
            "reason": e.reason,
        }
        for e in ledger.entries(s, account_id)
        if e.invoice_id is None
    ]


def issued_invoices(s: Session, account_id: str, limit: int = 60) -> list[dict[str, Any]]:
    """The invoices and credit notes issued to the account itself (not a parent's that
    carry its lines: those show its siblings too), newest first, each with what was paid
    of it, what is still due and by when."""
    account = get_account(s, account_id)
    places = s.get(Realm, account.realm_id).minor_units
    found = list(
        s.execute(
            select(Invoice, LedgerEntry)
            .join(LedgerEntry, LedgerEntry.invoice_id == Invoice.id)
            .where(Invoice.account_id == account_id)
            .order_by(Invoice.bill_date.desc(), Invoice.id.desc())
            .limit(limit)
        ).tuples()
    )
    paid = ledger.paid_of(s, [entry.id for _, entry in found if entry.amount > 0])
    due_on = {day: due_date(s, account.realm_id, day) for day in {i.bill_date for i, _ in found}}
    rows = []
    for invoice, entry in found:
        due = max(entry.amount - paid.get(entry.id, Decimal(0)), Decimal(0))
        rows.append(
            {
                "number": invoice.number,
                "kind": invoice.kind,
                "bill_date": invoice.bill_date.isoformat(),
                "due_date": due_on[invoice.bill_date].isoformat(),
                "currency": invoice.currency,
                "total": format_money(invoice.total, places),
                "due": format_money(due, places),
            }
        )
    return rows


def invoice_holder(s: Session, number: str) -> str | None:
    """The account an invoice or credit note numbered `number` was issued to, if any."""
    return s.scalar(select(Invoice.account_id).where(Invoice.number == number))


def _invoices(s: Session, account_id: str, limit: int, places: int) -> list[dict[str, Any]]:
    carrying = select(InvoiceLine.invoice_id).where(InvoiceLine.account_id == account_id)
    found = s.scalars(
        select(Invoice)
        .where(or_(Invoice.account_id == account_id, Invoice.id.in_(carrying)))
        .order_by(Invoice.bill_date.desc(), Invoice.id.desc())
        .limit(limit)
    )
    return [
        {
            "number": i.number,
            "kind": i.kind,
            "account": i.account_id,
            "bill_date": i.bill_date.isoformat(),
            "currency": i.currency,
            "total": format_money(i.total, places),
        }
        for i in found
    ]


def _last_entries(s: Session, account_id: str, limit: int) -> list[AuditEntry]:
    newest = s.scalars(
        select(AuditEntry)
        .where(AuditEntry.account_id == account_id)
        .order_by(AuditEntry.id.desc())
        .limit(limit)
    )
    return list(reversed(newest.all()))


def _holders(s: Session, text: str) -> list[str]:
    """The accounts whose assigned network holds the address `text`, if it is one."""
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return []
    rows = s.execute(select(IpAssignment.account_id, IpAssignment.network)).all()
    return [owner for owner, network in rows if address in ipaddress.ip_network(network)]


def _iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()
