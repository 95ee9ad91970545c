"""Reports in the console: the same definitions and runs as `jet report` (reports/), read
from what the last build published (the console builds nothing), scoped to the staff
member's realms.

Staff of some realms run the standard reports that are kept per realm, always filtered
to one of their realms; reports that are not per realm (custom SQL can read any realm)
are for staff of every realm. Each run is checked, and a refusal audited, by
`jet.roles.check`."""

from __future__ import annotations

from datetime import date

from apps.streamlit.data.guard import may
from jet.config import Settings
from jet.roles import Forbidden, Staff
from reports.report_definitions import Report, all_reports
from reports.report_formats import render
from reports.report_runs import ReportResult, run_report


def reports_for(settings: Settings, staff: Staff) -> list[Report]:
    """The reports `staff` may run, standard first."""
    may(settings, staff, "reports.read")
    found = all_reports(settings).values()
    mine = [r for r in found if staff.realms is None or r.realm_column]
    return sorted(mine, key=lambda r: (r.kind != "standard", r.name))


def run(
    settings: Settings,
    staff: Staff,
    report: Report,
    realm: str | None,
    start: date | None = None,
    end: date | None = None,
) -> ReportResult:
    """`report` for `realm` (None: every realm, for staff of every realm) and the days."""
    if staff.realms is not None and (realm is None or not report.realm_column):
        may(settings, staff, "reports.read", None)  # refused and audited
        raise Forbidden(f"{staff.email} may run {report.name} for one of their realms only")
    may(settings, staff, "reports.read", realm)
    given = {"realm": realm, "from": start, "to": end}
    return run_report(settings, report, {p.name: given.get(p.name) for p in report.parameters})


def file_of(result: ReportResult, fmt: str) -> bytes:
    """The result as a file in `fmt` (csv, xlsx, parquet, json, html, pdf)."""
    return render(result, fmt)
