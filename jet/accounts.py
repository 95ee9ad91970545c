"""Accounts, their hierarchy and their subscriptions in the operational store, and what
RADIUS authentication reads of them (password, status, expiry, prepaid, static address).

A suspension and a plan change write, in their own transaction, the outbox event that
has the NAS disconnect or change the account's session (`jet.session_control`)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from jet.errors import JetError
from jet.realms import catalog_on
from jet.session_control import coa_event, disconnect_event
from jet.store.models import Account, Subscription


def add_accounts(session: Session, realm_id: str, accounts: Iterable[dict]) -> int:
    """Add accounts (`id`, `name`, optional `parent`, `email`), parents before children."""
    pending = {a["id"]: a for a in accounts}
    known = set(session.scalars(Account.__table__.select().with_only_columns(Account.id)))
    now = datetime.now(UTC)
    added = 0
    while pending:
        ready = [a for a in pending.values() if a.get("parent") in (None, *known)]
        if not ready:
            missing = sorted({a["parent"] for a in pending.values()} - known - set(pending))
            raise ValueError(
                f"accounts name parents that do not exist ({', '.join(missing) or 'a cycle'}): "
                "add the parent accounts first"
            )
        session.add_all(
            Account(
                id=a["id"],
                realm_id=realm_id,
                name=a.get("name", a["id"]),
                parent_id=a.get("parent"),
                email=a.get("email"),
                status="active",
                created_at=now,
            )
            for a in ready
        )
        session.flush()
        for a in ready:
            known.add(a["id"])
            del pending[a["id"]]
        added += len(ready)
    return added


def subscribe(
    session: Session, account_id: str, plan_id: str, start: date, end: date | None = None
) -> Subscription:
    """Put an account on a plan over [start, end)."""
    if end is not None and end <= start:
        raise ValueError(
            f"subscription of {account_id} ends ({end}) on or before it starts ({start})"
        )
    sub = Subscription(account_id=account_id, plan_id=plan_id, start_date=start, end_date=end)
    session.add(sub)
    return sub


def change_plan(session: Session, account_id: str, plan_id: str, day: date) -> Subscription:
    """Move `account_id` to `plan_id` from `day`: the subscription in force on that day
    ends there and the new one starts (billing-rules.md: a plan change), and a CoA with
    the new plan's reply attributes is queued for the account's session from that day.
    The plan must be in the realm's catalog in effect on `day`."""
    account = _account(session, account_id)
    catalog = catalog_on(session, account.realm_id, day)
    if catalog is None or plan_id not in catalog.plans:
        known = ", ".join(sorted(catalog.plans)) if catalog is not None else "none"
        raise AccountError(
            f"realm {account.realm_id} has no plan {plan_id!r} on {day} (plans: {known})"
        )
    subscriptions = session.scalars(
        select(Subscription).where(
            Subscription.account_id == account_id,
            or_(Subscription.end_date.is_(None), Subscription.end_date > day),
        )
    ).all()
    later = [sub for sub in subscriptions if sub.start_date > day]
    current = [sub for sub in subscriptions if sub.start_date <= day]
    if later:
        raise AccountError(
            f"{account_id} has a subscription to {later[0].plan_id} from "
            f"{later[0].start_date}, after {day}: change the plan from that day or later"
        )
    if len(current) > 1:
        plans = ", ".join(sub.plan_id for sub in current)
        raise AccountError(
            f"{account_id} has {len(current)} subscriptions in force on {day} ({plans}): "
            "a plan change needs exactly one"
        )
    for sub in current:
        if sub.plan_id == plan_id:
            raise AccountError(f"{account_id} is already on {plan_id} on {day}")
        if sub.start_date == day:
            raise AccountError(
                f"{account_id} started {sub.plan_id} on {day}: change the plan from a later day"
            )
        sub.end_date = day
    new = subscribe(session, account_id, plan_id, day)
    session.add(coa_event(account_id, plan_id, day))
    session.flush()
    return new


# --- what RADIUS authentication reads ---------------------------------------------------

STATUSES = ("active", "suspended", "closed")
MAX_PASSWORD = 128  # octets: the most a User-Password carries (RFC 2865 section 5.2)
BALANCE_PLACES = 6
_CLEAR = ("none", "never")


class AccountError(JetError, ValueError):
    """An account change that cannot be made as asked; nothing was changed."""


def set_radius_password(session: Session, account_id: str, password: str | None) -> Account:
    """Set the clear password `account_id` logs in with through RADIUS; None removes it,
    so that the account cannot log in."""
    account = _account(session, account_id)
    if password is not None:
        size = len(password.encode())
        if not password:
            raise AccountError("the password is empty: give one, or --remove to remove it")
        if size > MAX_PASSWORD:
            raise AccountError(
                f"the password has {size} bytes; RADIUS carries at most {MAX_PASSWORD}"
            )
        if "\0" in password:
            raise AccountError("the password holds a NUL character, which PAP cannot carry")
    account.radius_password = password
    return account


def update_account(
    session: Session,
    account_id: str,
    *,
    status: str | None = None,
    expires: str | None = None,
    framed_ip: str | None = None,
    prepaid: bool | None = None,
    balance: str | None = None,
) -> Account:
    """Change what decides whether an account may log in; None leaves a field as it is.
    Suspending or closing an active account queues a Disconnect of its sessions.

    `expires` is a YYYY-MM-DD date (access ends at 00:00 UTC of it) or "never";
    `framed_ip` an IPv4 address no other account has, or "none"; `balance` a decimal, and
    only for a prepaid account. Making an account postpaid removes its balance."""
    if all(v is None for v in (status, expires, framed_ip, prepaid, balance)):
        raise AccountError(
            "nothing to change: give --status, --expires, --framed-ip, --prepaid/--postpaid "
            "or --balance"
        )
    account = _account(session, account_id)
    if status is not None:
        if status not in STATUSES:
            raise AccountError(f"unknown status {status!r}; expected one of {', '.join(STATUSES)}")
        if account.status == "active" and status != "active":
            session.add(disconnect_event(account_id, status))
        account.status = status
    if expires is not None:
        account.expires_at = None if expires.lower() in _CLEAR else _expiry(expires)
    if framed_ip is not None:
        account.framed_ip = (
            None if framed_ip.lower() in _CLEAR else _free_ip(session, account, framed_ip)
        )
    if prepaid is not None:
        account.prepaid = prepaid
        if not prepaid:
            account.prepaid_balance = None
    if balance is not None:
        if not account.prepaid:
            raise AccountError(
                f"{account_id} is postpaid and has no prepaid balance; add --prepaid to set one"
            )
        account.prepaid_balance = _balance(balance)
    session.flush()
    return account


def describe_access(account: Account) -> str:
    """One line of what decides the account's logins (never the password itself)."""
    if account.prepaid:
        balance = "no balance" if account.prepaid_balance is None else account.prepaid_balance
        paying = f"prepaid (balance {balance})"
    else:
        paying = "postpaid"
    return (
        f"{account.id}: {account.status}, "
        f"expires {account.expires_at or 'never'}, {paying}, "
        f"static IP {account.framed_ip or 'none'}, "
        f"{'has a' if account.radius_password else 'no'} RADIUS password"
    )


def _account(session: Session, account_id: str) -> Account:
    account = session.get(Account, account_id)
    if account is None:
        raise AccountError(f"no account {account_id!r}: give the id as invoices print it")
    return account


def _expiry(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise AccountError(
            f"--expires {text!r} is not a date: give YYYY-MM-DD (access ends at 00:00 UTC of "
            "that day) or never"
        ) from None


def _free_ip(session: Session, account: Account, text: str) -> str:
    """The canonical form of a static address that can be given to `account`."""
    try:
        address = ipaddress.IPv4Address(text.strip())
    except ValueError:
        raise AccountError(
            f"--framed-ip {text!r} is not an IPv4 address: give one like 100.64.0.10, or none"
        ) from None
    if address.is_unspecified or address.is_multicast or address.is_loopback or address.is_reserved:
        raise AccountError(f"{address} cannot be a customer's address: give a unicast address")
    holder = session.scalar(
        select(Account.id).where(Account.framed_ip == str(address), Account.id != account.id)
    )
    if holder is not None:
        raise AccountError(
            f"{address} is already the static address of {holder}: give it up there first "
            f"with `jet account set {holder} --framed-ip none`"
        )
    return str(address)


def _balance(text: str) -> Decimal:
    try:
        amount = Decimal(text.strip())
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite():
        raise AccountError(f"--balance {text!r} is not an amount: give a decimal like 20.00")
    if amount.as_tuple().exponent < -BALANCE_PLACES:  # type: ignore[operator]
        raise AccountError(f"--balance {text!r} has more than {BALANCE_PLACES} decimal places")
    return amount
