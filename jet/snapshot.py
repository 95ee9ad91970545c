"""The operational snapshot: the store's tables as Parquet, the only way dbt reads them.

DuckDB has no SQLite or PostgreSQL scanner offline, and the warehouse must never wait
on the store, so rating reads a consistent copy taken in one read transaction.
"""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import select
from sqlalchemy.orm import Session

from jet.addresses import network_range
from jet.catalog import UNIT_DIVISORS, Catalog, Tier, parse_catalog
from jet.store import models as m
from schemas.ops import OPS_TABLES


def catalog_rows(catalog: Catalog) -> dict[str, list[dict]]:
    """Products, their tiers and plan contents of one catalog version, as snapshot rows.

    A single-price metered product becomes one unbounded tier, so SQL prices every
    metered product the same way."""
    realm, since = catalog.realm.id, catalog.effective_from
    products, tiers, plan_products = [], [], []
    for p in catalog.products.values():
        metered = p.type in ("usage", "duration")
        products.append(
            {
                "realm_id": realm,
                "effective_from": since,
                "product_id": p.id,
                "product_type": p.type,
                "price": p.price,
                "months": p.months,
                "refund_unused": p.refund_unused,
                "taxable": p.taxable,
                "metric": "seconds" if p.type == "duration" else p.metric,
                "unit": p.unit,
                "unit_divisor": UNIT_DIVISORS[p.unit] if metered else None,
                "tier_mode": (p.tier_mode or "graduated") if metered else None,
            }
        )
        if metered:
            lower = 0
            for i, tier in enumerate(p.tiers or [Tier(upto=None, price=p.price)]):
                tiers.append(
                    {
                        "realm_id": realm,
                        "effective_from": since,
                        "product_id": p.id,
                        "tier_index": i,
                        "lower_bound": lower,
                        "upto": tier.upto,
                        "price": tier.price,
                    }
                )
                lower = tier.upto
    for plan in catalog.plans.values():
        for product_id in plan.products:
            plan_products.append(
                {
                    "realm_id": realm,
                    "effective_from": since,
                    "plan_id": plan.id,
                    "product_id": product_id,
                    "usage_source": plan.usage_source,
                }
            )
    return {"products": products, "product_tiers": tiers, "plan_products": plan_products}


def _rows(session: Session) -> dict[str, list[dict]]:
    rows: dict[str, list[dict]] = {name: [] for name in OPS_TABLES}
    for r in session.scalars(select(m.Realm)):
        rows["realms"].append(
            {
                "realm_id": r.id,
                "name": r.name,
                "currency": r.currency,
                "minor_units": r.minor_units,
                "tax_rate": r.tax_rate,
                "cycle": r.cycle,
                "cycle_day": r.cycle_day,
                "invoice_prefix": r.invoice_prefix,
            }
        )
    for v in session.scalars(select(m.CatalogVersion).order_by(m.CatalogVersion.id)):
        catalog = parse_catalog(v.document, f"catalog {v.realm_id} from {v.effective_from}")
        for name, part in catalog_rows(catalog).items():
            rows[name].extend(part)
    rows["accounts"] = [
        dict(zip(OPS_TABLES["accounts"].names, values, strict=True))
        for values in session.execute(
            select(
                m.Account.id,
                m.Account.realm_id,
                m.Account.name,
                m.Account.parent_id,
                m.Account.status,
                m.Account.prepaid,
                m.Account.tax_id,
            )
        )
    ]
    rows["subscriptions"] = [
        {"subscription_id": i, "account_id": a, "plan_id": p, "start_date": s, "end_date": e}
        for i, a, p, s, e in session.execute(
            select(
                m.Subscription.id,
                m.Subscription.account_id,
                m.Subscription.plan_id,
                m.Subscription.start_date,
                m.Subscription.end_date,
            )
        )
    ]
    for li in session.scalars(select(m.LineItem)):
        rows["line_items"].append(
            {
                "line_item_id": li.id,
                "account_id": li.account_id,
                "item_date": li.item_date,
                "description": li.description,
                "amount": li.amount,
                "taxable": li.taxable,
            }
        )
    rows["ip_assignments"] = [
        dict(zip(("first_ip", "last_ip", "prefix_length"), network_range(n), strict=True))
        | {"account_id": a, "network": n}
        for a, n in session.execute(select(m.IpAssignment.account_id, m.IpAssignment.network))
    ]
    numbers = dict(session.execute(select(m.Invoice.id, m.Invoice.number)).all())
    for inv in session.scalars(select(m.Invoice)):
        rows["invoices"].append(
            {
                "invoice_number": inv.number,
                "document_kind": inv.kind,
                "credits_invoice_number": numbers.get(inv.credits_invoice_id),
                "realm_id": inv.realm_id,
                "account_id": inv.account_id,
                "bill_date": inv.bill_date,
                "currency": inv.currency,
                "subtotal": inv.subtotal,
                "tax": inv.tax,
                "total": inv.total,
                "issued_at": inv.issued_at,
            }
        )
    line, inv = m.InvoiceLine, m.Invoice
    columns = {
        "line_key": line.line_key,
        "invoice_number": inv.number,
        "document_kind": inv.kind,
        "billing_account_id": inv.account_id,
        "realm_id": inv.realm_id,
        "bill_date": inv.bill_date,
        "account_id": line.account_id,
        "subscription_id": line.subscription_id,
        "product_id": line.product_id,
        "kind": line.kind,
        "description": line.description,
        "period_start": line.period_start,
        "period_end": line.period_end,
        "quantity": line.quantity,
        "amount": line.amount,
        "taxable": line.taxable,
        "line_id": line.id,
    }
    rows["issued_lines"] = [
        dict(zip(columns, values, strict=True))
        for values in session.execute(
            select(*columns.values()).join(inv, line.invoice_id == inv.id)
        )
    ]
    rows["ledger_entries"] = _ledger_entries(session, numbers)
    line = m.StatementLine
    rows["statement_lines"] = [
        dict(zip(OPS_TABLES["statement_lines"].names, values, strict=True))
        for values in session.execute(
            select(
                line.id,
                line.statement_id,
                line.realm_id,
                line.booked_on,
                line.amount,
                line.currency,
                line.status,
                line.account_id,
                line.entry_id,
                line.reference,
            )  # fmt: skip
        )
    ]
    nas = m.NasClient
    rows["nas_clients"] = [
        dict(zip(OPS_TABLES["nas_clients"].names, values, strict=True))
        for values in session.execute(select(nas.address, nas.realm_id, nas.name))
    ]
    rows["allocations"] = [
        dict(zip(OPS_TABLES["allocations"].names, values, strict=True))
        for values in session.execute(
            select(
                m.Allocation.id,
                m.Allocation.credit_id,
                m.Allocation.debit_id,
                m.Allocation.amount,
                m.Allocation.at,
            )
        )
    ]
    return rows


def _ledger_entries(session: Session, numbers: dict[int, str]) -> list[dict]:
    """Every ledger entry, with the number of the invoice or credit note it is."""
    e = m.LedgerEntry
    query = select(
        e.id, e.account_id, e.realm_id, e.currency, e.kind, e.amount, e.entry_date,
        e.recorded_at, e.invoice_id, e.target_id, e.related_id, e.method, e.reference, e.reason,
    )  # fmt: skip
    names = OPS_TABLES["ledger_entries"].names
    return [
        dict(zip(names, (*row[:8], numbers.get(row[8]), *row[9:]), strict=True))
        for row in session.execute(query)
    ]


def write_snapshot(session: Session, directory: Path) -> dict[str, int]:
    """Write every ops table as `<directory>/<table>.parquet` (atomically); return row counts."""
    directory.mkdir(parents=True, exist_ok=True)
    counts = {}
    for name, rows in _rows(session).items():
        table = pa.Table.from_pylist(rows, schema=OPS_TABLES[name])
        tmp = directory / f".{name}.parquet.tmp"
        pq.write_table(table, tmp)
        os.replace(tmp, directory / f"{name}.parquet")
        counts[name] = table.num_rows
    return counts
