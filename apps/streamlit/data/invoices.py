"""Issued invoices and credit notes of the staff member's realms, newest first."""

from __future__ import annotations

import polars as pl

from apps.streamlit.data.guard import may
from apps.streamlit.data.marts import SCOPED, frame, has, in_scope
from jet.config import Settings
from jet.roles import Staff
from reports.issued_invoices import pdf_path

INVOICES_LIMIT = 100


def invoices(
    settings: Settings,
    staff: Staff,
    text: str = "",
    *,
    unpaid: bool = False,
    limit: int = INVOICES_LIMIT,
) -> pl.DataFrame:
    """The last `limit` issued documents (fct_invoices) whose number or billing account
    holds `text`, only those with an amount due if `unpaid`; each with its PDF's path."""
    may(settings, staff, "invoice.read")
    if not has(settings, "fct_invoices"):
        return pl.DataFrame()
    found = frame(
        settings,
        f"""select invoice_number as number, document_kind as kind, realm_id as realm,
                   billing_account_id as account, bill_date, currency, total, amount_paid,
                   amount_due
            from fct_invoices
            where {SCOPED}
              and (contains(lower(invoice_number), $text)
                   or contains(lower(billing_account_id), $text))
              and (not $unpaid or amount_due > 0)
            order by issued_at desc, invoice_number desc limit $limit""",
        in_scope(staff.realms) | {"text": text.strip().lower(), "unpaid": unpaid, "limit": limit},
    )
    paths = [str(pdf_path(settings, r, n)) for r, n in found.select("realm", "number").rows()]
    return found.with_columns(pdf_path=pl.Series(paths, dtype=pl.String))
