"""Draft invoices read from the published marts, in the shape billing-rules.md gives."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from jet.config import Settings
from jet.money import format_money
from jet.warehouse import marts


def draft_invoices(
    settings: Settings, until: date | None = None, billing_account: str | None = None
) -> list[dict]:
    """Draft invoices (bill date up to `until`, of one billing account if given), oldest
    first, each with its lines, subtotal, tax and total as printed."""
    where, params = ["true"], []
    if until:
        where.append("bill_date <= ?")
        params.append(until)
    if billing_account:
        where.append("billing_account_id = ?")
        params.append(billing_account)
    condition = " and ".join(where)
    con = marts(settings)
    heads = con.execute(
        "select billing_account_id, bill_date, currency, minor_units, subtotal, tax, total "
        f"from fct_invoice_drafts where {condition} order by bill_date, billing_account_id",
        params,
    ).fetchall()
    lines = con.execute(
        "select billing_account_id, bill_date, account_id, product_id, kind, period_start, "
        f"period_end, quantity, amount from fct_invoice_lines where {condition} "
        "and status = 'draft' order by account_id, product_id nulls last, kind, period_start",
        params,
    ).fetchall()
    con.close()
    places = {(ba, bill): p for ba, bill, _, p, *_ in heads}
    by_invoice: dict[tuple, list[dict]] = {}
    for ba, bill, account, product, kind, p_start, p_end, qty, amount in lines:
        by_invoice.setdefault((ba, bill), []).append(
            {
                "account": account,
                "product": product,
                "kind": kind,
                "period_start": p_start.isoformat(),
                "period_end": p_end.isoformat(),
                "quantity": plain_quantity(qty),
                "amount": format_money(amount, places[(ba, bill)]),
            }
        )
    return [
        {
            "account": ba,
            "bill_date": bill.isoformat(),
            "currency": currency,
            "lines": by_invoice.get((ba, bill), []),
            "subtotal": format_money(subtotal, p),
            "tax": format_money(tax, p),
            "total": format_money(total, p),
        }
        for ba, bill, currency, p, subtotal, tax, total in heads
    ]


def plain_quantity(quantity: Decimal) -> str:
    """A quantity without trailing zeros: "25", "1.5", "0.25"."""
    return f"{quantity.normalize():f}"
