"""The quality gate: each data contract's latest result, and the invoices it holds."""

from __future__ import annotations

from datetime import date

import polars as pl

from apps.streamlit.data.guard import may
from apps.streamlit.data.marts import SCOPED, frame, has, in_scope
from jet.config import Settings
from jet.quality.gate import Gate
from jet.quality.results import latest
from jet.roles import Staff
from jet.store.db import session

HELD = {
    "check": pl.String, "realm": pl.String, "bill_date": pl.Date, "invoices": pl.Int64,
    "currency": pl.String, "total": pl.Decimal(38, 3), "reason": pl.String,
}  # fmt: skip


def quality(settings: Settings, staff: Staff) -> pl.DataFrame:
    """Each check's latest result: blocking or a warning, rows checked and failing."""
    may(settings, staff, "quality.read")
    with session(settings.db_url) as s:
        findings = latest(s)
    return pl.DataFrame(
        [
            {
                "check": f.check,
                "blocking": f.blocking,
                "passed": f.passed,
                "rows_checked": f.rows_checked,
                "rows_failing": f.rows_failing,
                "bill_dates": f"{f.first_bill_date}..{f.last_bill_date}",
                "error": f.error or "",
                "checked_at": f.checked_at,
            }
            for f in findings
        ],
        schema_overrides={"checked_at": pl.Datetime(time_zone="UTC")},
    )


def held_invoices(settings: Settings, staff: Staff) -> pl.DataFrame:
    """The draft invoices of bill dates up to today that the quality gate holds, in the
    staff member's realms: a row per holding check (as `actions.waive` takes it), realm,
    bill date and currency, with how many invoices, their total and why. The rule is the
    one `jet bill` issues by (`jet.quality.gate.Gate`): a failed blocking check of the
    newest run over that date, not waived for it."""
    may(settings, staff, "invoice.read")
    if not has(settings, "fct_invoice_drafts"):
        return pl.DataFrame(schema=HELD)
    drafts = frame(
        settings,
        f"""select realm_id as realm, bill_date, currency, count(*) as invoices,
                   sum(total) as total
            from fct_invoice_drafts where {SCOPED} and bill_date <= $today
            group by all order by bill_date, realm, currency""",
        in_scope(staff.realms) | {"today": date.today()},
    )
    if drafts.is_empty():
        return pl.DataFrame(schema=HELD)
    with session(settings.db_url) as s:
        gate = Gate(s, drafts["bill_date"].min(), drafts["bill_date"].max())
        rows = [
            {
                **draft,
                "check": f.check,
                "reason": f.error or f"{f.rows_failing} of {f.rows_checked} rows fail",
            }
            for draft in drafts.iter_rows(named=True)
            for f in gate.holding(draft["realm"], draft["bill_date"])
        ]
    return pl.DataFrame(rows, schema=HELD)
