"""Scheduled reports (docs/reports.md, "Scheduled delivery"): for each realm whose catalog
has a `report_mail` entry of the schedule's kind (every month or week), run its reports
for the realm and the window, write the files under $JET_HOME/report-mail/<period>/<realm>/
and announce a `report.ready` event that reports/report_mail.py e-mails.

Each entry's event has a key (realm, schedule, period, entry), so a run repeated for the
same period announces nothing twice and nobody receives a report twice (the mail itself
is at least once, under one Message-ID)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from jet.catalog import ReportMail
from jet.config import Settings
from jet.outbox import event_row
from jet.realms import catalog_on
from jet.store.db import session
from jet.store.models import Event, Realm
from reports.report_definitions import chosen
from reports.report_formats import render
from reports.report_runs import Step, run_report


@dataclass(frozen=True, slots=True)
class Window:
    every: str  # month | week
    start: date
    end: date  # the last day

    @property
    def period(self) -> str:
        return f"{self.start:%Y-%m}" if self.every == "month" else f"{self.start:%G-W%V}"


def entries(s: Session, every: str) -> list[tuple[str, str, int, ReportMail]]:
    """Each realm's `report_mail` entries of kind `every` in the catalog in force: realm
    id and name, the entry's place in the list, the entry."""
    found = []
    for realm in s.scalars(select(Realm).order_by(Realm.id)):
        catalog = catalog_on(s, realm.id, datetime.now(UTC).date())
        for n, entry in enumerate((catalog and catalog.realm.report_mail) or ()):
            if entry.every == every:
                found.append((realm.id, realm.name or realm.id, n, entry))
    return found


def mail_reports(settings: Settings, window: Window, on_step: Step | None = None) -> dict:
    """Run and announce every scheduled entry of `window`'s kind not yet announced for its
    period, from the report models as the job's dbt step has just built them; how many
    entries were announced and files written."""
    todo = []
    with session(settings.db_url) as s:
        for realm, name, n, entry in entries(s, window.every):
            key = f"report:{realm}:{window.every}:{window.period}:{n}"
            if s.scalar(select(Event.id).where(Event.key == key)) is None:
                todo.append((realm, name, key, entry))
    reports = {
        name: chosen(settings, name) for *_, entry in todo for name in entry.reports
    }  # unknown names fail here, before anything is written
    files = 0
    for realm, realm_name, key, entry in todo:
        folder = settings.root / "report-mail" / window.period / realm
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for name in entry.reports:
            for report in reports[name]:
                wanted = report.window(realm, window.start, window.end)
                result = run_report(settings, report, wanted, on_step)
                path = folder / f"{report.name}.{entry.format}"
                path.write_bytes(render(result, entry.format))
                written.append(str(path.relative_to(settings.root)))
        payload = {
            "realm": realm,
            "realm_name": realm_name,
            "title": ", ".join(entry.reports),
            "to": list(entry.to),
            "every": window.every,
            "period": window.period,
            "start": window.start.isoformat(),
            "end": window.end.isoformat(),
            "files": written,
        }
        with session(settings.db_url) as s:
            s.add(Event(**event_row("report.ready", None, payload, key=key)))
        files += len(written)
    return {"announced": len(todo), "files": files}
