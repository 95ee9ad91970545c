"""The quality gate: which invoices the checks hold, and the waivers with which people
issue them anyway.

A bill date obeys the newest kept run that covered it (every billing run validates
before it issues, so that is its own). A failed blocking check holds the invoices of
the realms and bill dates its failing rows can be billed at, until a run over that
date passes or a person waives the check for the date (`jet quality waive`)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from jet.quality.results import Finding, runs
from jet.store.models import QualityWaiver
from schemas.contracts import check_names


class QualityError(ValueError):
    """A waiver that cannot be given as asked; nothing was recorded."""


class Gate:
    """The findings that hold each (realm, bill date) of a range."""

    def __init__(self, session: Session, first: date, last: date):
        self._runs = runs(session, first, last)
        self._waived = set(
            session.execute(
                select(QualityWaiver.check, QualityWaiver.bill_date).where(
                    QualityWaiver.bill_date.between(first, last)
                )
            ).all()
        )

    def holding(self, realm: str, bill_date: date) -> list[Finding]:
        """The failed blocking checks that hold the invoices of `realm` at `bill_date`."""
        for findings in self._runs:
            if findings[0].first_bill_date <= bill_date <= findings[0].last_bill_date:
                return [
                    f
                    for f in findings
                    if f.blocking
                    and not f.passed
                    and f.holds_date(realm, bill_date)
                    and (f.check, bill_date) not in self._waived
                ]
        return []


def waive(
    session: Session, check: str, reason: str, by: str, bill_date: date | None = None
) -> tuple[list[date], list[QualityWaiver]]:
    """Let the invoices that `check` holds at `bill_date` go out; without a date, at every
    bill date up to today that it holds now. Returns the dates waived now and the waivers
    that were there already."""
    known = check_names()
    if check not in known:
        raise QualityError(f"there is no check {check!r}; `jet quality status` lists them")
    if not known[check][1].blocking:
        raise QualityError(f"{check} is a warning: it holds no invoices, so there is no waiving it")
    if not reason.strip():
        raise QualityError("a waiver needs a reason (--reason); it is kept with who gave it")
    dates = [bill_date] if bill_date else _held_dates(session, check)
    if not dates:
        raise QualityError(
            f"{check} holds no bill date up to today; to waive one ahead, name it with --date"
        )
    existing = list(
        session.scalars(
            select(QualityWaiver).where(
                QualityWaiver.check == check, QualityWaiver.bill_date.in_(dates)
            )
        )
    )
    taken = {w.bill_date for w in existing}
    now = datetime.now(UTC)
    new = [d for d in dates if d not in taken]
    for day in new:
        session.add(
            QualityWaiver(
                check=check, bill_date=day, reason=reason.strip(), waived_by=by, waived_at=now
            )
        )
    return new, existing


def waivers(session: Session) -> list[QualityWaiver]:
    return list(
        session.scalars(
            select(QualityWaiver).order_by(QualityWaiver.check, QualityWaiver.bill_date)
        )
    )


def _held_dates(session: Session, check: str) -> list[date]:
    today = datetime.now(UTC).date()
    held = set()
    for findings in runs(session):
        for f in findings:
            if f.check != check or f.passed:
                continue
            for hold in f.holds:
                day = hold.first
                while day <= min(hold.last, today):
                    held.add(day)
                    day += timedelta(days=1)
    return sorted(held)
