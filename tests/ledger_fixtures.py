"""Invoices in the store without a billing run, entered in the ledger by the same core
function the issue step calls (`jet.ledger.enter_invoice`), for ledger tests."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import select

from jet.accounts import add_accounts
from jet.catalog import load_catalog_file
from jet.config import PROJECT_ROOT
from jet.ledger import enter_invoice, settle
from jet.realms import store_catalog
from jet.store.models import Account, Invoice, Realm

CATALOGS = PROJECT_ROOT / "examples" / "catalogs"


def acme(s) -> None:
    """Realm acme (AUD), the billing account `bob`, `carol` under it, and `shut` closed."""
    store_catalog(s, load_catalog_file(CATALOGS / "acme.yaml"), "acme.yaml")
    add_accounts(s, "acme", [{"id": "bob", "name": "Bob"}, {"id": "carol", "name": "Carol",
                                                             "parent": "bob"}])  # fmt: skip
    add_accounts(s, "acme", [{"id": "shut", "name": "Shut"}])
    s.flush()


def issue(s, account: str, bill_date: date, total: str, credits: str | None = None) -> Invoice:
    """An issued invoice (or, with `credits`, a credit note of that invoice number) of
    `total` in the account's realm, with its ledger entry, as `jet.invoicing` issues one."""
    realm = s.get(Realm, s.get(Account, account).realm_id)
    realm.last_invoice_number += 1
    original = credits and s.scalar(select(Invoice).where(Invoice.number == credits))
    invoice = Invoice(
        number=f"{realm.invoice_prefix}-{realm.last_invoice_number:06d}",
        kind="credit_note" if credits else "invoice",
        credits_invoice_id=original.id if original else None,
        realm_id=realm.id,
        account_id=account,
        bill_date=bill_date,
        currency=realm.currency,
        subtotal=Decimal(total),
        tax=Decimal(0),
        total=Decimal(total),
        issued_at=datetime.now(UTC),
    )
    s.add(invoice)
    enter_invoice(s, invoice)
    s.flush()
    settle(s, account)
    return invoice
