"""What the validations found, as the store keeps it: the latest run over each bill date,
with one result per check. Older runs whose bill dates a newer run covers are dropped;
the history is in the Data Docs (for the retention window, jet/quality/retention.py) and
in Dagster's asset check history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from jet.quality.frames import Hold
from jet.store.models import QualityResult, QualityRun


@dataclass(frozen=True)
class Finding:
    """One check as one validation run over the bill dates [first_bill_date,
    last_bill_date] found it. `error` says why it could not be evaluated."""

    check: str
    blocking: bool
    rows_checked: int
    rows_failing: int
    sample: list[dict]
    holds: list[Hold]
    error: str | None
    checked_at: datetime
    first_bill_date: date
    last_bill_date: date

    @property
    def passed(self) -> bool:
        return self.rows_failing == 0 and self.error is None

    def holds_date(self, realm: str, bill_date: date) -> bool:
        return any(h.realm in (None, realm) and h.first <= bill_date <= h.last for h in self.holds)


def record(session: Session, findings: list[Finding]) -> None:
    """Keep one run's findings; drop the older runs whose bill dates it covers."""
    run = findings[0]
    first, last = run.first_bill_date, run.last_bill_date
    covered = select(QualityRun).where(
        QualityRun.first_bill_date >= first, QualityRun.last_bill_date <= last
    )
    for old in session.scalars(covered):
        session.delete(old)
    session.add(
        QualityRun(
            first_bill_date=first,
            last_bill_date=last,
            checked_at=run.checked_at,
            results=[
                QualityResult(
                    check=o.check,
                    blocking=o.blocking,
                    rows_checked=o.rows_checked,
                    rows_failing=o.rows_failing,
                    sample=o.sample,
                    holds=[[h.realm, h.first.isoformat(), h.last.isoformat()] for h in o.holds],
                    error=o.error,
                )
                for o in findings
            ],
        )
    )


def runs(session: Session, first: date | None = None, last: date | None = None) -> list:
    """The kept runs (those touching [first, last] when given), newest first, as lists of
    findings."""
    query = select(QualityRun).options(selectinload(QualityRun.results))
    if first is not None and last is not None:
        query = query.where(QualityRun.first_bill_date <= last, QualityRun.last_bill_date >= first)
    found = session.scalars(query.order_by(QualityRun.checked_at.desc(), QualityRun.id.desc()))
    return [[_finding(run, result) for result in run.results] for run in found]


def latest(session: Session) -> list[Finding]:
    """Each check's result in the newest run that has it, in the order runs report them."""
    seen: dict[str, Finding] = {}
    for findings in runs(session):
        for finding in findings:
            seen.setdefault(finding.check, finding)
    return list(seen.values())


def _finding(run: QualityRun, result: QualityResult) -> Finding:
    return Finding(
        check=result.check,
        blocking=result.blocking,
        rows_checked=result.rows_checked,
        rows_failing=result.rows_failing,
        sample=result.sample,
        holds=[
            Hold(realm, date.fromisoformat(a), date.fromisoformat(b))
            for realm, a, b in result.holds
        ],
        error=result.error,
        checked_at=run.checked_at,
        first_bill_date=run.first_bill_date,
        last_bill_date=run.last_bill_date,
    )
