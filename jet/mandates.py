"""SEPA direct-debit mandates: a billing account's permission for its realm to collect
from a bank account. Each change is one door (`jet mandate`, later the console and the
portal) that writes the mandate, its audit row and its event in one transaction."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from jet import bank_ids
from jet.accounts import get_account, paying_account
from jet.audit import Actor, record
from jet.errors import JetError
from jet.outbox import publish
from jet.realms import catalog_on
from jet.store.models import Mandate

# The characters a SEPA mandate reference may hold (EPC, "SEPA character set"), 1 to 35.
_REFERENCE = re.compile(r"[A-Za-z0-9+?/:().,' -]{1,35}")


class MandateError(JetError, ValueError):
    """A mandate that cannot be added or revoked as asked; nothing was stored."""


def add_mandate(
    s: Session,
    actor: Actor,
    account_id: str,
    iban: str,
    reference: str,
    signed_on: date,
    *,
    bic: str | None = None,
    debtor_name: str | None = None,
) -> Mandate:
    """Record the mandate `reference` that billing account `account_id` signed on
    `signed_on` for collecting from `iban`. An account has one active mandate at a time."""
    account = paying_account(s, account_id, "add the mandate", MandateError)
    catalog = catalog_on(s, account.realm_id, signed_on)
    if catalog is None or catalog.realm.sepa is None:
        raise MandateError(
            f"realm {account.realm_id} does not collect by SEPA direct debit: give its "
            "catalog a realm sepa block (creditor name, IBAN, BIC and creditor id) first"
        )
    if not _REFERENCE.fullmatch(reference):
        raise MandateError(
            f"mandate id {reference!r} is not valid: give 1 to 35 letters, digits or "
            "+ ? / - : ( ) . , ' and spaces, as printed on the signed mandate"
        )
    if signed_on > datetime.now(UTC).date():
        raise MandateError(
            f"the signature date {signed_on} is in the future: give the day it was signed"
        )
    try:
        iban = bank_ids.iban(iban)
        bic = bic and bank_ids.bic(bic)
    except ValueError as err:
        raise MandateError(f"{err}: give the debtor's account as on the signed mandate") from None
    if s.scalar(select(Mandate.id).where(Mandate.reference == reference)) is not None:
        raise MandateError(f"mandate id {reference} is taken: each mandate has its own id")
    active = active_mandate(s, account_id)
    if active is not None:
        raise MandateError(
            f"{account_id} has mandate {active.reference} already: revoke it first "
            f"(`jet mandate revoke {active.reference}`)"
        )
    mandate = Mandate(
        reference=reference,
        account_id=account_id,
        iban=iban,
        bic=bic,
        debtor_name=(debtor_name or account.name)[:70],
        signed_on=signed_on,
        created_at=datetime.now(UTC),
    )
    s.add(mandate)
    s.flush()
    _announce(s, actor, "mandate.added", mandate, shown(mandate))
    return mandate


def revoke_mandate(s: Session, actor: Actor, reference: str, day: date | None = None) -> Mandate:
    """End mandate `reference` from `day` on (today by default): nothing more is
    collected under it; what was collected already stays as it is."""
    mandate = s.scalar(select(Mandate).where(Mandate.reference == reference))
    if mandate is None:
        raise MandateError(f"there is no mandate {reference}: `jet mandate list` shows them")
    if mandate.revoked_on is not None:
        raise MandateError(f"mandate {reference} was revoked on {mandate.revoked_on} already")
    mandate.revoked_on = day or datetime.now(UTC).date()
    s.flush()
    _announce(s, actor, "mandate.revoked", mandate, {"revoked_on": mandate.revoked_on.isoformat()})
    return mandate


def active_mandate(s: Session, account_id: str) -> Mandate | None:
    """The account's mandate that is not revoked, if any."""
    return s.scalar(
        select(Mandate).where(Mandate.account_id == account_id, Mandate.revoked_on.is_(None))
    )


def mandates(s: Session, account_id: str | None = None) -> list[dict]:
    """Every mandate, or one account's, oldest first, as plain values."""
    query = select(Mandate).order_by(Mandate.id)
    if account_id is not None:
        get_account(s, account_id)
        query = query.where(Mandate.account_id == account_id)
    return [shown(m) for m in s.scalars(query)]


def shown(m: Mandate) -> dict:
    """A mandate as plain values (listing, audit, events)."""
    return {
        "mandate": m.reference,
        "account": m.account_id,
        "iban": m.iban,
        "bic": m.bic,
        "debtor": m.debtor_name,
        "signed_on": m.signed_on.isoformat(),
        "revoked_on": m.revoked_on and m.revoked_on.isoformat(),
    }


def _announce(s: Session, actor: Actor, topic: str, mandate: Mandate, after: dict) -> None:
    account_id = mandate.account_id
    record(s, actor, topic, "mandate", mandate.reference, account_id=account_id, after=after)
    publish(s, topic, account_id, {"mandate": mandate.reference, "account": account_id, **after})
