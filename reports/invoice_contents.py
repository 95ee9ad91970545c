"""What an invoice prints beyond its stored lines, read in bulk for a batch of invoices:
the realm's seller, payment and branding blocks and its products (names, units, prices,
tiers) from the catalog version in force, the buyer and the users from the accounts.

Catalog versions are parsed once per batch, not per line. A tiered line's breakdown is
computed from the version in force on its period's start: exact amounts, which add up to
the line's exact value (billing rounds that once, to the line's amount). A late usage line
(billing-rules.md: what arrived after the cycle was invoiced) bills the tiers between what
was issued before and the new total, so its breakdown is the difference of the two."""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from jet.catalog import Catalog, Product, parse_catalog
from jet.realm_branding import TEMPLATES, Branding, read_brand
from jet.store.models import Account, CatalogVersion, Invoice, InvoiceLine
from jet.tax_categories import tax_category
from reports import locale_text
from reports.invoice_document import (
    Brand,
    InvoiceDocument,
    InvoiceDocumentLine,
    Party,
    PaymentInstructions,
    TaxSubtotal,
    TierPart,
)

ZERO = Decimal(0)
_PERIOD_UNITS = {"monthly": "month", "quarterly": "quarter", "yearly": "year"}
_METERED = ("usage", "duration")


@dataclass(frozen=True)
class _Versions:
    """A realm's catalog versions, oldest first."""

    starts: list[date]
    catalogs: list[Catalog]

    def on(self, day: date) -> Catalog:
        """The version in force on `day`, else the first (as billing prices)."""
        return self.catalogs[max(bisect_right(self.starts, day) - 1, 0)]


def catalog_versions(s: Session, realm_ids: Iterable[str]) -> dict[str, _Versions]:
    found: dict[str, _Versions] = {}
    rows = s.execute(
        select(CatalogVersion.realm_id, CatalogVersion.effective_from, CatalogVersion.document)
        .where(CatalogVersion.realm_id.in_(set(realm_ids)))
        .order_by(CatalogVersion.realm_id, CatalogVersion.effective_from)
    )
    for realm_id, start, document in rows:
        versions = found.setdefault(realm_id, _Versions([], []))
        versions.starts.append(start)
        versions.catalogs.append(parse_catalog(document, f"catalog {realm_id} from {start}"))
    return found


def unit_of(product: Product) -> str | None:
    """What a line's quantity counts: a flat product's period, a metered product's unit."""
    if product.type == "flat":
        return _PERIOD_UNITS.get(product.period or "", "period")
    if product.type == "once":
        return "each"
    return product.unit


def tier_parts(product: Product, quantity: Decimal) -> list[TierPart]:
    """How `quantity` of a tiered product is priced, tier by tier (graduated: each tier's
    share; volume: the whole quantity at its band's price). Exact amounts."""
    parts, lower = [], ZERO
    tiers = product.tiers or ()
    for i, tier in enumerate(tiers):
        upper = tier.upto
        if product.tier_mode == "volume":
            in_band = (i == 0 or quantity > lower) and (upper is None or quantity <= upper)
            share = quantity if in_band else ZERO
        else:
            share = max(min(quantity, quantity if upper is None else upper) - lower, ZERO)
        if share:
            parts.append(TierPart(share, tier.price, share * tier.price, upper))
        lower = upper if upper is not None else lower
    return parts


def _difference(after: list[TierPart], before: list[TierPart]) -> tuple[TierPart, ...]:
    """`after` less `before`, tier by tier (keyed by the tier's bound and price)."""
    out: dict[tuple, TierPart] = {(p.upto, p.unit_price): p for p in after}
    for p in before:
        key = (p.upto, p.unit_price)
        mine = out.get(key, TierPart(ZERO, p.unit_price, ZERO, p.upto))
        out[key] = replace(mine, quantity=mine.quantity - p.quantity, amount=mine.amount - p.amount)
    return tuple(p for p in out.values() if p.quantity or p.amount)


def _issued_before(s: Session, lines: list[tuple[int, InvoiceLine]]) -> dict[int, Decimal]:
    """For each metered line (by id): the quantity of its cycle issued on earlier invoices;
    for a credit note's line, before the line it credits."""
    keys = {(line.subscription_id, line.product_id) for _, line in lines}
    if not keys:
        return {}
    rows = s.execute(
        select(
            InvoiceLine.id,
            InvoiceLine.line_key,
            InvoiceLine.subscription_id,
            InvoiceLine.product_id,
            InvoiceLine.kind,
            InvoiceLine.period_start,
            InvoiceLine.quantity,
        )
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(
            Invoice.kind == "invoice",
            tuple_(InvoiceLine.subscription_id, InvoiceLine.product_id).in_(keys),
        )
        .order_by(InvoiceLine.id)
    )
    cumulative: dict[tuple, Decimal] = defaultdict(Decimal)
    before_key: dict[str, Decimal] = {}
    for _, key, sub, product, kind, start, quantity in rows:
        group = (sub, product, kind, start)
        before_key[key] = cumulative[group]
        cumulative[group] += quantity
    return {
        line.id: before_key.get(line.line_key.removeprefix("credit:"), ZERO) for _, line in lines
    }


def line_details(line: InvoiceLine, catalog: Catalog | None, before: Decimal, credit: bool) -> dict:
    """A line's name, unit, unit price and tiers from `catalog`."""
    product = catalog.products.get(line.product_id) if catalog and line.product_id else None
    if product is None:
        return {}
    sign = Decimal(-1) if credit else Decimal(1)
    out: dict = {"description": product.display_name, "unit": unit_of(product)}
    if credit:
        out["description"] = f"Credit: {product.display_name}"
    if " - late, for " in line.description:
        out["description"] += " (usage that arrived late)"
    if product.tiers and line.kind in _METERED:
        quantity = abs(line.quantity)
        parts = _difference(tier_parts(product, before + quantity), tier_parts(product, before))
        out["tiers"] = tuple(
            replace(p, unit_price=sign * p.unit_price, amount=sign * p.amount) for p in parts
        )
    elif product.price is not None:
        out["unit_price"] = sign * product.price
    return out


@cache
def _brand_file(home: str, realm_id: str) -> Branding | None:
    return read_brand(Path(home), realm_id)


def brand_of(catalog: Catalog | None, home: Path | None) -> Brand:
    """The catalog's branding under the realm brand file's."""
    branding = catalog.realm.branding if catalog else None
    if home is not None and catalog is not None:
        override = _brand_file(str(home), catalog.realm.id)
        branding = override.over(branding) if override else branding
    if branding is None:
        return Brand()
    given = {k: v for k, v in branding.model_dump().items() if v is not None}
    return replace(Brand(), **{k: v for k, v in given.items() if k in Brand.__dataclass_fields__})


def seller_of(catalog: Catalog | None, realm_name: str) -> Party | None:
    seller = catalog.realm.seller if catalog else None
    if seller is None:
        return None
    return Party(
        name=seller.legal_name or realm_name,
        address=seller.address,
        country=seller.country,
        tax_id=seller.tax_id,
        email=seller.email,
        phone=seller.phone,
        website=seller.website,
    )


def buyer_of(account: Account) -> Party:
    address = tuple(ln.strip() for ln in (account.address or "").splitlines() if ln.strip())
    return Party(
        name=account.name,
        address=address,
        country=account.country,
        tax_id=account.tax_id,
        email=account.email,
        phone=account.phone,
    )


@cache
def _template(text: str):  # type: ignore[no-untyped-def]
    return TEMPLATES.from_string(text)


def render_text(text: str | None, doc: InvoiceDocument) -> str:
    """A realm's text block (a Jinja2 template) for `doc`: {{ number }}, {{ total }},
    {{ amount_due }}, {{ due_date }}, {{ bill_date }}, {{ currency }}, {{ account_id }},
    {{ account_name }}, {{ realm_name }}; dates as the realm's locale writes them, the due
    date empty on a credit note."""
    if not text:
        return ""

    return _template(text).render(
        number=doc.number,
        total=doc.total,
        amount_due=doc.amount_due,
        due_date=locale_text.day(doc.due_date, doc.brand.locale) if doc.due_date else "",
        bill_date=locale_text.day(doc.bill_date, doc.brand.locale),
        currency=doc.currency,
        account_id=doc.account_id,
        account_name=doc.account_name,
        realm_name=doc.realm_name,
    )


def payment_of(catalog: Catalog | None, doc: InvoiceDocument) -> PaymentInstructions | None:
    details = catalog.realm.payment if catalog else None
    if details is None or doc.kind != "invoice":
        return None
    return PaymentInstructions(
        account_name=details.account_name,
        iban=details.iban,
        bic=details.bic,
        bank_code=details.bsb,
        account_number=details.account_number,
        reference=render_text(details.reference, doc) or None,
        pay_url=render_text(details.pay_url, doc) or None,
        text=render_text(details.text, doc),
        epc_qr=bool(details.epc_qr and details.iban and doc.currency == "EUR"),
    )


def taxes_of(lines: list[InvoiceDocumentLine], tax: Decimal, rate: Decimal) -> list[TaxSubtotal]:
    """Tax per rate: the taxable lines at the realm's rate (the invoice's tax), the others
    exempt."""
    groups: dict[str, Decimal] = {}
    for line in lines:
        category = tax_category(line.taxable, rate)
        groups[category] = groups.get(category, ZERO) + line.amount
    return [
        TaxSubtotal(
            category, rate if category == "S" else ZERO, basis, tax if category == "S" else ZERO
        )
        for category, basis in sorted(groups.items(), key=lambda kv: kv[0] != "S")
    ]


def complete(
    s: Session, docs: list[InvoiceDocument], stored: dict[str, list[InvoiceLine]], home: Path | None
) -> list[InvoiceDocument]:
    """`docs` with what the catalog and the accounts say: names, units, prices, tiers,
    seller, buyer, users, taxes, payment and brand. `stored` holds each document's lines
    (by number) in the order of its `lines`."""
    _brand_file.cache_clear()  # a brand file changed since is read again
    versions = catalog_versions(s, {d.realm_id for d in docs})
    metered = [
        (i, ln) for lines in stored.values() for i, ln in enumerate(lines) if ln.kind in _METERED
    ]
    before = _issued_before(s, metered)
    wanted = {d.account_id for d in docs} | {ln.account_id for ls in stored.values() for ln in ls}
    accounts = {a.id: a for a in s.scalars(select(Account).where(Account.id.in_(wanted)))}
    out = []
    for doc in docs:
        realm = versions.get(doc.realm_id)
        catalog = realm.on(doc.bill_date) if realm else None
        credit = doc.kind == "credit_note"
        lines = []
        for line, row in zip(doc.lines, stored[doc.number], strict=True):
            on_period = realm.on(row.period_start) if realm else None
            details = line_details(row, on_period, before.get(row.id, ZERO), credit)
            user = accounts.get(row.account_id)
            if user is not None and row.account_id != doc.account_id:
                details["user_name"] = user.name
            lines.append(replace(line, product_id=row.product_id, taxable=row.taxable, **details))
        doc = replace(
            doc,
            lines=lines,
            seller=seller_of(catalog, doc.realm_name),
            buyer=buyer_of(accounts[doc.account_id]) if doc.account_id in accounts else None,
            taxes=taxes_of(lines, doc.tax, doc.tax_rate),
            brand=brand_of(catalog, home),
        )
        out.append(replace(doc, payment=payment_of(catalog, doc), brand=_texts(doc)))
    return out


def _texts(doc: InvoiceDocument) -> Brand:
    """The brand with its footer and terms rendered for `doc`."""
    return replace(
        doc.brand,
        footer=render_text(doc.brand.footer, doc),
        terms=render_text(doc.brand.terms, doc),
    )
