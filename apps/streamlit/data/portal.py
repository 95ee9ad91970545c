"""What the portal's pages read, for the customer signed in (`jet.customer_access.Customer`).

Every function is given the customer and checks each account id or invoice number it is
given with `own` before reading anything: an account outside the customer's tree (another
customer's, or a sibling under the same company) reads as one that does not exist, and
the attempt is audited (`access.refused`, the customer as the actor). What people and
payments change is read through the core's functions (`jet.account_views`, the ledger);
usage and sessions come from the published marts, filtered to the one account asked for
and to the customer's realm."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_FLOOR, Decimal
from pathlib import Path
from typing import Any

import polars as pl
from facturx import get_facturx_xml_from_pdf
from sqlalchemy.orm import Session

from apps.streamlit.data.marts import frame, has
from ingest.radius.open_sessions import open_sessions
from jet.account_views import (
    account_detail,
    balance_detail,
    invoice_holder,
    issued_invoices,
    payments,
    subscriptions,
)
from jet.accounts import PROFILE, get_account
from jet.catalog import Catalog
from jet.config import Settings
from jet.customer_access import Customer, NotYours, own
from jet.errors import JetError
from jet.ledger import LedgerError
from jet.ledger_documents import receipt
from jet.money import format_money
from jet.network_access import price_per_second
from jet.prepaid import credit_left
from jet.realms import catalog_on
from jet.signup import first_top_up_due
from jet.statements import parse_month
from jet.store.db import session
from reports.issued_invoices import pdf_path
from reports.receipt_pdf import write_receipt
from reports.statement_pdf import statement_path
from reports.write_once import write_once


class NotWritten(JetError):
    """A document of the customer's that has no file (yet)."""


SESSIONS = 50  # the newest sessions the usage page lists
CHART_DAYS = 31  # the daily chart's days when the account has no metered cycle
# The details a customer is shown: its profile but staff's notes and the parent.
SHOWN = tuple(k for k in PROFILE if k not in ("parent", "notes")) + ("status",)


def usage(settings: Settings, customer: Customer, account_id: str) -> dict[str, Any]:
    """The usage page of one of the customer's accounts: its plan now, this cycle's usage
    against each allowance of the plan, a daily chart from the cycle's start, its newest
    sessions as rated (start, end, bytes in and out, NAS), the sessions open now in the
    landed accounting (before the next rating run sees them), and for a prepaid account
    the credit left and what it still buys at the plan's prices."""
    today = date.today()
    with session(settings.db_url) as s:
        own(s, customer, account_id, "usage")
        account = get_account(s, account_id)
        plan = _plan_now(s, account_id, today)
        catalog = catalog_on(s, customer.realm_id, today)
        prepaid = None
        if account.prepaid:
            credit = credit_left(s, [account_id]).get(account_id, Decimal(0))
            prepaid = {
                "credit": credit,
                "currency": catalog.realm.currency if catalog else "",
                "buys": _buys(catalog, plan, credit) if catalog and plan else [],
            }
    allowances = _allowances(settings, customer, account_id, today, catalog)
    start = (
        min(allowances["period_start"]) if not allowances.is_empty() else None
    ) or today - timedelta(days=CHART_DAYS - 1)
    return {
        "account": account_id,
        "plan": plan,
        "cycle_start": start,
        "allowances": allowances,
        "daily": _daily(settings, account_id, start),
        "sessions": _sessions(settings, customer, account_id),
        "online": _online(settings, account_id),
        "prepaid": prepaid,
    }


def invoices(settings: Settings, customer: Customer, account_id: str) -> pl.DataFrame:
    """The invoices and credit notes issued to one of the customer's accounts, newest
    first, with what is due on each, by when, and the path of its PDF (a Factur-X
    e-invoice unless the realm turned that off; None until it is rendered)."""
    with session(settings.db_url) as s:
        own(s, customer, account_id, "invoices")
        rows = issued_invoices(s, account_id)
    for row in rows:
        path = pdf_path(settings, customer.realm_id, row["number"])
        row["pdf_path"] = str(path) if path.exists() else None
    schema = {
        "number": pl.String, "kind": pl.String, "bill_date": pl.String, "due_date": pl.String,
        "currency": pl.String, "total": pl.String, "due": pl.String, "pdf_path": pl.String,
    }  # fmt: skip
    return pl.DataFrame(rows, schema=schema)


def invoice_file(settings: Settings, customer: Customer, number: str, kind: str = "pdf") -> Path:
    """The file of invoice `number` to download: its PDF, or with `kind` "facturx" the
    EN 16931 XML the PDF carries (written beside it once). Another customer's number, or
    a sibling's, reads as one that does not exist and is audited."""
    if kind not in ("pdf", "facturx"):
        raise ValueError(f"kind {kind!r}: give pdf or facturx")
    with session(settings.db_url) as s:
        own_document(s, customer, invoice_holder(s, number), f"invoice {number!r}"[:100])
    pdf = pdf_path(settings, customer.realm_id, number)
    if not pdf.exists():
        raise NotWritten(f"the PDF of {number} is not written yet: try again after the next run")
    if kind == "pdf":
        return pdf
    return write_once(pdf.with_suffix(".xml"), lambda: _einvoice(pdf, number))


def _einvoice(pdf: Path, number: str) -> bytes:
    _, xml = get_facturx_xml_from_pdf(pdf.read_bytes(), check_xsd=False)
    if not xml:
        raise NotWritten(f"{number} carries no e-invoice: its realm turned Factur-X off")
    return xml


def statements(settings: Settings, customer: Customer, account_id: str) -> list[str]:
    """The months (YYYY-MM, newest first) whose statement of one of the customer's accounts
    is written: a billing account's monthly statement (docs/statements.md)."""
    with session(settings.db_url) as s:
        own(s, customer, account_id, "statements")
    folder = statement_path(settings, customer.realm_id, account_id, date.today()).parent
    return sorted(
        (p.stem.removeprefix(f"{account_id}-") for p in folder.glob(f"{account_id}-????-??.pdf")),
        reverse=True,
    )


def statement_file(settings: Settings, customer: Customer, account_id: str, month: str) -> Path:
    """The statement PDF of one of the customer's accounts for `month` (YYYY-MM)."""
    with session(settings.db_url) as s:
        own(s, customer, account_id, "statements")
    path = statement_path(settings, customer.realm_id, account_id, parse_month(month))
    if not path.exists():
        raise NotWritten(f"no statement of {month} is written: statements follow a month's end")
    return path


def receipt_file(settings: Settings, customer: Customer, payment_id: int) -> Path:
    """The receipt PDF of a payment or top-up of one of the customer's accounts (the
    Pay page's `receipt_id`), written once."""
    with session(settings.db_url) as s:
        try:
            doc = receipt(s, payment_id)
        except LedgerError:
            doc = None
        own_document(s, customer, doc and doc.account_id, f"receipt {payment_id}")
    return write_receipt(doc, settings)


def dues(settings: Settings, customer: Customer, account_id: str) -> dict[str, Any]:
    """What one of the customer's accounts owes: its balance (negative: credit), each open
    invoice with what is due, and its payments and top-ups. A user or cost-centre billed
    to a company sees only that it is billed there: the company's ledger holds its
    siblings' charges. `first_top_up_due`: what a prepaid account opened by sign-up in a
    realm that asks a first top-up must pay before it is of use (None once paid).
    `prepaid_credit`: a prepaid account's credit left (None: not prepaid). `cards`:
    whether the realm takes cards (a gateway in its catalog); else it collects otherwise
    (direct debit, transfer)."""
    with session(settings.db_url) as s:
        own(s, customer, account_id, "dues")
        detail = balance_detail(s, account_id)
        catalog = catalog_on(s, customer.realm_id, date.today())
        cards = catalog is not None and catalog.realm.gateway is not None
        if not customer.sees(detail["billed_to"]):
            return {"account": account_id, "billed_elsewhere": True, "currency":
                    detail["currency"], "balance": None, "credit": None, "open": [],
                    "payments": [], "first_top_up_due": None, "prepaid_credit": None,
                    "cards": cards}  # fmt: skip
        prepaid = None
        if get_account(s, account_id).prepaid:
            prepaid = credit_left(s, [account_id]).get(account_id, Decimal(0))
        paid = payments(s, account_id)
        first = first_top_up_due(s, account_id)
    return {
        **detail, "billed_elsewhere": False, "payments": paid, "first_top_up_due": first,
        "prepaid_credit": prepaid, "cards": cards,
    }  # fmt: skip


def details(settings: Settings, customer: Customer, account_id: str) -> dict[str, Any]:
    """The details page of one of the customer's accounts: contact and billing address,
    delivery of invoices, status, plan, and the accounts under it."""
    today = date.today()
    with session(settings.db_url) as s:
        own(s, customer, account_id, "details")
        detail = account_detail(s, account_id, today, invoices=0, audit=0)
        plan = _plan_now(s, account_id, today)
    profile = detail["account"]
    return {
        "account": account_id,
        **{k: profile.get(k) for k in SHOWN},
        "plan": plan,
        "children": detail["children"],
    }


def plans(settings: Settings, customer: Customer) -> list[dict[str, Any]]:
    """The realm's public plans (its catalog's `portal.plans`), each with its products
    and their prices, the customer's own plan marked."""
    today = date.today()
    with session(settings.db_url) as s:
        catalog = catalog_on(s, customer.realm_id, today)
        mine = _plan_now(s, customer.account_id, today)
    if catalog is None:
        return []
    portal = catalog.realm.portal
    public = portal.plans if portal is not None else ()
    return [
        {
            "plan": plan_id,
            "current": plan_id == mine,
            "currency": catalog.realm.currency,
            "products": [_priced(catalog, p) for p in catalog.plans[plan_id].products],
        }
        for plan_id in public
        if plan_id in catalog.plans
    ]


def own_document(s: Session, customer: Customer, holder: str | None, what: str) -> None:
    """NotYours (the attempt audited) unless the document `what` (an invoice, a receipt)
    belongs to one of the customer's accounts, `holder`; the message names no account,
    so it tells nobody whose it is or whether it exists."""
    if holder is not None and customer.sees(holder):
        return
    refused = NotYours(f"no {what}: give one of your own")
    try:
        own(s, customer, holder or "", what)
    except NotYours:
        raise refused from None
    raise refused


def _plan_now(s: Session, account_id: str, today: date) -> str | None:
    return next((p["plan"] for p in subscriptions(s, account_id, today)
                 if p["state"] == "in force"), None)  # fmt: skip


def _priced(catalog: Catalog, product_id: str) -> dict[str, Any]:
    product = catalog.products[product_id]
    tiers = [
        {"upto": t.upto, "price": format_money(t.price, 4).rstrip("0").rstrip(".")}
        for t in product.tiers or ()
    ]
    return {
        "product": product_id,
        "name": product.name or product_id,
        "type": product.type,
        "price": product.price,
        "period": product.period,
        "unit": product.unit,
        "tiers": tiers,
    }


def _buys(catalog: Catalog, plan_id: str, credit: Decimal) -> list[dict[str, Any]]:
    """What `credit` still pays for on the plan, per metered product, at its dearest
    price (tax included where taxable), so the credit surely covers it."""
    plan = catalog.plans.get(plan_id)
    if plan is None or credit <= 0:
        return []
    found = []
    per_second = price_per_second(catalog, plan_id)
    if per_second:
        hours = (credit / per_second / 3600).quantize(Decimal("0.01"), ROUND_FLOOR)
        found.append({"what": "connect time", "quantity": hours, "unit": "hours"})
    for product in (catalog.products[p] for p in plan.products):
        if product.type != "usage":
            continue
        price = product.price if product.price is not None else max(t.price for t in product.tiers)
        if product.taxable:
            price *= 1 + catalog.realm.tax_rate
        if price > 0:
            quantity = (credit / price).quantize(Decimal("0.01"), ROUND_FLOOR)
            found.append({"what": product.name or product.id, "quantity": quantity,
                          "unit": product.unit})  # fmt: skip
    return found


def _allowances(
    settings: Settings, customer: Customer, account_id: str, today: date, catalog: Catalog | None
) -> pl.DataFrame:
    """This cycle's usage against each included allowance of the account's plan."""
    schema = {
        "product": pl.String, "unit": pl.String, "period_start": pl.Date,
        "period_end": pl.Date, "used": pl.Decimal(38, 9), "included": pl.Decimal(38, 9),
        "percent": pl.Float64,
    }  # fmt: skip
    if not has(settings, "fct_usage_allowances"):
        return pl.DataFrame(schema=schema)
    found = frame(
        settings,
        """select product_id as product, period_start, period_end,
                  cast(used as decimal(38, 9)) as used,
                  cast(included as decimal(38, 9)) as included,
                  round(100.0 * used / included, 1) as percent
           from fct_usage_allowances
           where account_id = $account and realm_id = $realm
             and period_start <= $today and $today < period_end
           order by product""",
        {"account": account_id, "realm": customer.realm_id, "today": today},
    )
    units = {p: (catalog.products[p].unit if catalog and p in catalog.products else None)
             for p in found["product"]}  # fmt: skip
    found = found.with_columns(pl.col("product").replace_strict(units, default=None).alias("unit"))
    return found.select(list(schema)).cast(schema)


def _daily(settings: Settings, account_id: str, since: date) -> pl.DataFrame:
    """The account's usage per day from `since`, for the chart, in gigabytes."""
    schema = {"day": pl.Date, "source": pl.String, "gigabytes_in": pl.Float64,
              "gigabytes_out": pl.Float64, "hours": pl.Float64}  # fmt: skip
    if not has(settings, "fct_usage_daily"):
        return pl.DataFrame(schema=schema)
    return frame(
        settings,
        """select usage_date as day, source,
                  round(sum(bytes_in) / 1e9, 3) as gigabytes_in,
                  round(sum(bytes_out) / 1e9, 3) as gigabytes_out,
                  round(sum(seconds) / 3600, 2) as hours
           from fct_usage_daily where account_id = $account and usage_date >= $since
           group by all order by day, source""",
        {"account": account_id, "since": since},
    ).cast(schema)


def _sessions(settings: Settings, customer: Customer, account_id: str) -> pl.DataFrame:
    """The account's newest RADIUS sessions: start, end (none while open), bytes, NAS."""
    schema = {
        "started_at": pl.Datetime(time_zone="UTC"), "ended_at": pl.Datetime(time_zone="UTC"),
        "bytes_in": pl.Int64, "bytes_out": pl.Int64, "nas": pl.String,
    }  # fmt: skip
    if not has(settings, "fct_radius_sessions"):
        return pl.DataFrame(schema=schema)
    return frame(
        settings,
        f"""select started_at, ended_at, bytes_in, bytes_out,
                   coalesce(nas_identifier, (nas_ip >> 24) || '.' || ((nas_ip >> 16) & 255)
                            || '.' || ((nas_ip >> 8) & 255) || '.' || (nas_ip & 255)) as nas
            from fct_radius_sessions where account_id = $account and realm_id = $realm
            order by started_at desc limit {SESSIONS}""",
        {"account": account_id, "realm": customer.realm_id},
    ).cast(schema)


def _online(settings: Settings, account_id: str) -> pl.DataFrame:
    """The account's sessions open now, as the landed RADIUS accounting shows them
    (`ingest.radius.open_sessions`, read on each call): when each started, the bytes so
    far, the NAS and when last heard of."""
    return pl.DataFrame(
        [{"start": h.started, "bytes_in": h.bytes_in, "bytes_out": h.bytes_out,
          "nas": h.nas_address, "last_seen": h.last_seen}
         for h in open_sessions(settings.raw / "radius", account_id)],
        schema={"start": pl.Datetime(time_zone="UTC"), "bytes_in": pl.UInt64,
                "bytes_out": pl.UInt64, "nas": pl.String,
                "last_seen": pl.Datetime(time_zone="UTC")},
    )  # fmt: skip
