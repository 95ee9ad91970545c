"""The quality gate: which invoices the checks hold, and the waivers with which people
issue them anyway.

A bill date obeys the newest kept run that covered it (every billing run validates
before it issues, so that is its own). A failed blocking check holds the invoices of
the realms and bill dates its failing rows can be billed at, until a run over that
date passes or a person waives the check for the date (`jet quality waive`). A waiver
holds until withdrawn (`jet quality unwaive`), which is recorded, never deleted."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from jet.errors import JetError
from jet.quality.results import Finding, runs
from jet.store.models import QualityWaiver
from schemas.contracts import check_names


class QualityError(JetError, ValueError):
    """A waiver that cannot be given as asked; nothing was recorded."""


class Gate:
    """The findings that hold each (realm, bill date) of a range."""

    def __init__(self, session: Session, first: date, last: date):
        self._runs = runs(session, first, last)
        self._waived = set(
            session.execute(
                select(QualityWaiver.check, QualityWaiver.bill_date).where(
                    QualityWaiver.bill_date.between(first, last),
                    QualityWaiver.withdrawn_at.is_(None),
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
    bill date up to today that it holds now. Returns the dates waived now and the active
    waivers that were there already."""
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
                QualityWaiver.check == check,
                QualityWaiver.bill_date.in_(dates),
                QualityWaiver.withdrawn_at.is_(None),
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


def unwaive(
    session: Session, check: str, reason: str, by: str, bill_date: date | None = None
) -> list[QualityWaiver]:
    """Withdraw the active waivers of `check` (at `bill_date`, else at every date): the
    gate holds those invoices again from the next run. Each is kept, marked with who
    withdrew it, when and why, so the history of what was let out stays auditable."""
    if not reason.strip():
        raise QualityError(
            "withdrawing a waiver needs a reason (--reason); it is kept with who withdrew it"
        )
    query = select(QualityWaiver).where(
        QualityWaiver.check == check, QualityWaiver.withdrawn_at.is_(None)
    )
    if bill_date:
        query = query.where(QualityWaiver.bill_date == bill_date)
    found = list(session.scalars(query.order_by(QualityWaiver.bill_date)))
    if not found:
        raise QualityError(_no_waiver(session, check, bill_date))
    now = datetime.now(UTC)
    for w in found:
        w.withdrawn_at, w.withdrawn_by, w.withdrawal_reason = now, by, reason.strip()
    return found


def waivers(session: Session) -> list[QualityWaiver]:
    """Every waiver, the withdrawn ones too, oldest first within a check and date."""
    return list(
        session.scalars(
            select(QualityWaiver).order_by(
                QualityWaiver.check, QualityWaiver.bill_date, QualityWaiver.waived_at
            )
        )
    )


def _no_waiver(session: Session, check: str, bill_date: date | None) -> str:
    """Why there is nothing to withdraw, and the waivers there are to withdraw."""
    history = waivers(session)
    if check not in check_names() and all(w.check != check for w in history):
        message = f"there is no check {check!r} (`jet quality status` lists them)"
    else:
        message = f"{check} has no active waiver" + (f" at {bill_date}" if bill_date else "")
        withdrawn = [
            w
            for w in history
            if w.check == check and not w.active and bill_date in (None, w.bill_date)
        ]
        if withdrawn:
            last = max(withdrawn, key=lambda w: w.withdrawn_at)
            message += (
                f" (its waiver of {last.bill_date} was withdrawn by {last.withdrawn_by} "
                f"on {last.withdrawn_at:%Y-%m-%d %H:%M})"
            )
    active = [w for w in history if w.active]
    if not active:
        return f"{message}; no check has an active waiver: there is nothing to withdraw"
    listed = "\n".join(f"  {w.check} {w.bill_date} (by {w.waived_by}: {w.reason})" for w in active)
    return (
        f"{message}. The active waivers, which `jet quality unwaive CHECK --date D "
        f'--reason "..."` withdraws:\n{listed}'
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
