"""The quality gate: each data contract's latest result, and the invoices it holds."""

from __future__ import annotations

import polars as pl

from apps.streamlit.data.guard import may
from jet.config import Settings
from jet.quality.gate import waivers
from jet.quality.results import latest
from jet.roles import Staff
from jet.store.db import session


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
    """The holds of failed blocking checks not waived, in the staff member's realms (a
    hold of every realm shows to everyone who sees a realm): the check first, as
    `actions.waive` takes it, with the realm, the bill dates and why."""
    may(settings, staff, "invoice.read")
    with session(settings.db_url) as s:
        findings = latest(s)
        waived = {(w.check, w.bill_date) for w in waivers(s) if w.withdrawn_at is None}
    rows = [
        {
            "check": f.check,
            "realm": hold.realm or "every realm",
            "first_bill_date": hold.first,
            "last_bill_date": hold.last,
            "reason": f.error or f"{f.rows_failing} of {f.rows_checked} rows fail",
        }
        for f in findings
        if f.blocking and not f.passed
        for hold in f.holds
        if (hold.realm is None or staff.sees(hold.realm)) and (f.check, hold.first) not in waived
    ]
    return pl.DataFrame(
        rows, schema=["check", "realm", "first_bill_date", "last_bill_date", "reason"]
    )
