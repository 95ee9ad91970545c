"""The demo's customer portal: a few of the demo's customers per realm with a portal (a
person with invoices, a company with the accounts under it, a prepaid account) given one
fixed portal password, which the demo prints with the portal's address (docs/portal.md)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, aliased

from jet.audit import Actor
from jet.config import Settings
from jet.portal_logins import set_portal_password
from jet.portal_realms import portal_of
from jet.store.db import session
from jet.store.models import Account, Invoice, Realm

ME = Actor("demo", "demo")
PASSWORD = "portal-demo-password"
PORT = 8502


@dataclass(frozen=True, slots=True)
class DemoCustomer:
    login: str
    realm: str
    what: str  # "person", "company", "prepaid"
    url: str  # the portal of its realm


def prepare_portal(settings: Settings) -> list[DemoCustomer]:
    """Give the demo's sample customers the portal password `PASSWORD` (again, on a demo
    run over the same store); one of each kind the realm has, open accounts only."""
    found = []
    with session(settings.db_url) as s:
        for realm in s.scalars(select(Realm.id).order_by(Realm.id)):
            if portal_of(s, realm) is None:
                continue
            url = f"https://localhost:{PORT}/?realm={realm}"
            for what, login in _samples(s, realm).items():
                if login is not None:
                    set_portal_password(s, ME, login, PASSWORD)
                    found.append(DemoCustomer(login, realm, what, url))
    return found


def _samples(s: Session, realm: str) -> dict[str, str | None]:
    """The first open person with an invoice, company with accounts under it, and prepaid
    account of `realm`, by login."""
    child = aliased(Account)
    open_top = (Account.realm_id == realm, Account.status != "closed", Account.parent_id.is_(None))
    first = select(Account.id).order_by(Account.id).limit(1)
    return {
        "person": s.scalar(
            first.where(*open_top, Account.kind == "person", ~Account.prepaid).where(
                exists().where(Invoice.account_id == Account.id)
            )
        ),
        "company": s.scalar(
            first.where(*open_top, Account.kind == "company").where(
                exists().where(child.parent_id == Account.id)
            )
        ),
        "prepaid": s.scalar(first.where(*open_top, Account.prepaid)),
    }
