"""The store of bench_invoice_delivery.py: the demo realms' catalogs and N billing
accounts, each with an address, an e-mail address (every 25th on paper) and one issued
invoice of the demo's kind, inserted in bulk (the set-up is not what is measured).

Of every 20 accounts: one acme cost-centre whose invoice has 24 lines (12 business users,
each with an access fee and a business-data line in the volume tiers), 2 skyfi passes
(the second of them with pay-as-you-go data in tiers), 2 eurowave fibre lines (EUR,
with an EPC QR code; the second with a setup fee) and 15 acme homes (an access fee,
every other one home data in the graduated tiers). The users under each cost-centre are
accounts of their own (their names print on its lines) with no invoice. Each invoice has
its ledger entry, as `jet.invoicing` issues one."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import insert
from sqlalchemy.orm import Session

from jet.catalog import Catalog, load_catalog_file
from jet.invoicing import invoice_number
from jet.realms import store_catalog
from jet.store.models import Account, Invoice, InvoiceLine, LedgerEntry, Realm, Subscription
from reports.invoice_contents import tier_parts

CATALOGS = Path(__file__).resolve().parent.parent / "examples" / "catalogs"
REALMS = ("acme", "skyfi", "eurowave")
BILL_DATE = date(2026, 8, 1)
ISSUED = datetime(2026, 8, 1, 6, 30, tzinfo=UTC)
MONTH = (BILL_DATE, date(2026, 9, 1))  # billed in advance
QUARTER = (BILL_DATE, date(2026, 11, 1))
USAGE = (date(2026, 7, 1), BILL_DATE)  # billed in arrears
CENTRE_USERS = 12
PAPER_EVERY = 25
CENT = Decimal("0.01")

# (given, family) names, some outside ASCII: the invoice's Unicode font prints them
NAMES = [
    ("Olivia", "Nguyen"), ("Jack", "O'Brien"), ("Zoë", "Łukasiewicz"), ("Aroha", "Te Rangi"),
    ("Jürgen", "Groß"), ("Chloé", "Dubois"), ("Liam", "Smith"), ("Mia", "Papadopoulos"),
    ("Noah", "Kowalski"), ("Ava", "Müller"), ("Søren", "Kierkegaard"), ("Isla", "MacLeod"),
]  # fmt: skip
PLACES = {
    "acme": ("{n} George Street", "Sydney NSW 2000", "AU"),
    "skyfi": ("{n} Queen Street", "Auckland 1010", "NZ"),
    "eurowave": ("Hauptstraße {n}", "10117 Berlin", "DE"),
}


@dataclass
class Rows:
    """What the store gets, table by table, in the order its foreign keys want."""

    accounts: list[dict] = field(default_factory=list)
    subscriptions: list[dict] = field(default_factory=list)
    invoices: list[dict] = field(default_factory=list)
    lines: list[dict] = field(default_factory=list)
    entries: list[dict] = field(default_factory=list)
    numbers: dict[str, int] = field(default_factory=dict)  # realm -> invoices issued

    def tables(self) -> Iterator[tuple[type, list[dict]]]:
        yield Account, [a for a in self.accounts if a["parent_id"] is None]
        yield Account, [a for a in self.accounts if a["parent_id"] is not None]
        yield Subscription, self.subscriptions
        yield Invoice, self.invoices
        yield InvoiceLine, self.lines
        yield LedgerEntry, self.entries


def build(s: Session, accounts: int) -> Rows:
    """Store the demo realms' catalogs and `accounts` billing accounts with an issued
    invoice each; what was inserted."""
    catalogs = {realm: _catalog(s, realm) for realm in REALMS}
    s.flush()
    realms = {realm: s.get(Realm, realm) for realm in REALMS}
    rows = Rows()
    for i in range(1, accounts + 1):
        _billing_account(rows, catalogs, realms, i)
    for model, table in rows.tables():
        for start in range(0, len(table), 20_000):
            s.execute(insert(model), table[start : start + 20_000])
    for realm_id, count in rows.numbers.items():
        realms[realm_id].last_invoice_number = count
    return rows


def _catalog(s: Session, realm: str) -> Catalog:
    path = CATALOGS / f"{realm}.yaml"
    catalog = load_catalog_file(path)
    store_catalog(s, catalog, str(path))
    return catalog


def _billing_account(rows: Rows, catalogs: dict, realms: dict, i: int) -> None:
    """Account `i`, its users if it is a cost-centre, their subscriptions, its invoice."""
    slot = i % 20
    realm = "acme" if slot in (0, *range(5, 20)) else ("skyfi" if slot in (1, 2) else "eurowave")
    prefix = {"acme": "acme", "skyfi": "sky", "eurowave": "ew"}[realm]
    login = f"{prefix}-{i:06d}"
    given, family = NAMES[i % len(NAMES)]
    if slot == 0:
        name, email = f"{family} Holdings {i} Pty Ltd", f"accounts@company{i}.example.com"
    else:
        name, email = f"{given} {family}", f"customer{i}@example.net"
    _account(rows, login, realm, name, email, i, kind="company" if slot == 0 else "person")
    catalog = catalogs[realm]
    charges: list[tuple[str, str, str, Decimal, tuple[date, date]]] = []  # user, product, ..
    if slot == 0:
        for u in range(CENTRE_USERS):
            user = f"{login}-u{u:02d}"
            ug, uf = NAMES[(i + u) % len(NAMES)]
            _account(rows, user, realm, f"{ug} {uf}", f"{user}@company{i}.example.com", i, login)
            used = Decimal(200 + (i * 7 + u * 131) % 6000)
            charges += [(user, "business-access", "advance", Decimal(1), QUARTER)]
            charges += [(user, "business-data", "usage", used, USAGE)]
    elif realm == "acme":
        charges += [(login, "home-access", "advance", Decimal(1), MONTH)]
        if i % 2:
            used = Decimal((i * 37) % 1500) + Decimal("0.375")
            charges += [(login, "home-data", "usage", used, USAGE)]
    elif realm == "skyfi":
        charges += [(login, "unlimited-pass", "advance", Decimal(1), MONTH)]
        if slot == 2:
            used = Decimal(50 + (i * 53) % 4000)
            charges += [(login, "pay-as-you-go-data", "usage", used, USAGE)]
    else:
        charges += [(login, "fibre-access", "advance", Decimal(1), MONTH)]
        if slot == 4:
            charges += [(login, "setup", "once", Decimal(1), (USAGE[0], USAGE[0]))]
    _invoice(rows, realms[realm], catalog, login, charges)


def _account(
    rows: Rows, login: str, realm: str, name: str, email: str, i: int, parent: str | None = None,
    kind: str = "person",
) -> None:  # fmt: skip
    street, town, country = PLACES[realm]
    paper = parent is None and i % PAPER_EVERY == 3
    rows.accounts.append(
        {
            "id": login, "realm_id": realm, "name": name, "parent_id": parent,
            "status": "active", "email": email, "created_at": ISSUED, "kind": kind,
            "address": f"{street.format(n=1 + i % 180)}\n{town}", "country": country,
            "delivery": "paper" if paper else "email", "prepaid": False,
        }
    )  # fmt: skip
    if kind == "person":
        rows.subscriptions.append(
            {"id": len(rows.subscriptions) + 1, "account_id": login, "plan_id": "bench",
             "start_date": date(2026, 2, 1), "end_date": None}
        )  # fmt: skip


def _invoice(rows: Rows, realm: Realm, catalog: Catalog, login: str, charges: list) -> None:
    """The invoice of `charges` (user, product, kind, quantity, period), priced by the
    catalog as billing would (a tiered quantity by its tiers, rounded once)."""
    sequence = rows.numbers[realm.id] = rows.numbers.get(realm.id, 0) + 1
    number = invoice_number(realm, BILL_DATE, sequence)
    invoice_id = len(rows.invoices) + 1
    subscription = {s["account_id"]: s["id"] for s in rows.subscriptions[-CENTRE_USERS:]}
    subtotal = taxable = Decimal(0)
    for k, (user, product_id, kind, quantity, period) in enumerate(charges):
        product = catalog.products[product_id]
        if product.tiers:
            exact = sum((p.amount for p in tier_parts(product, quantity)), Decimal(0))
        else:
            exact = quantity * product.price
        amount = exact.quantize(CENT)
        subtotal += amount
        taxable += amount if product.taxable else 0
        rows.lines.append(
            {
                "id": len(rows.lines) + 1, "invoice_id": invoice_id, "line_key": f"{number}:{k}",
                "account_id": user, "subscription_id": subscription.get(user),
                "product_id": product_id, "kind": kind,
                "description": f"{product_id} ({kind})", "period_start": period[0],
                "period_end": period[1], "quantity": quantity, "amount": amount,
                "taxable": product.taxable,
            }
        )  # fmt: skip
    tax = (taxable * realm.tax_rate).quantize(CENT)
    rows.invoices.append(
        {
            "id": invoice_id, "number": number, "kind": "invoice", "credits_invoice_id": None,
            "reason": None, "realm_id": realm.id, "account_id": login, "bill_date": BILL_DATE,
            "currency": realm.currency, "subtotal": subtotal, "tax": tax,
            "total": subtotal + tax, "issued_at": ISSUED,
        }
    )  # fmt: skip
    rows.entries.append(
        {
            "id": invoice_id, "account_id": login, "realm_id": realm.id,
            "currency": realm.currency, "kind": "invoice", "amount": subtotal + tax,
            "entry_date": BILL_DATE, "recorded_at": ISSUED, "invoice_id": invoice_id,
        }
    )  # fmt: skip


def emailed(rows: Rows) -> set[str]:
    """The numbers of the invoices that go by e-mail (the rest are printed)."""
    by_e_mail = {a["id"] for a in rows.accounts if a["delivery"] == "email" and a["email"]}
    return {inv["number"] for inv in rows.invoices if inv["account_id"] in by_e_mail}
