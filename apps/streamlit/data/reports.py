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
from jet.roles import Staff, check
from jet.store.db import session
from reports.report_definitions import Report, all_reports
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
    with session(settings.db_url) as s:
        # Without a realm, or a report not kept per realm, only staff of every realm may:
        # `check` refuses anyone else and audits it.
        scope = realm if report.realm_column else None
        check(s, staff, "reports.read", scope, about=f"report {report.name}")
    return run_report(settings, report, report.window(realm, start, end))
