"""Accounts, their hierarchy and their subscriptions in the operational store."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from jet.store.models import Account, Subscription


def add_accounts(session: Session, realm_id: str, accounts: Iterable[dict]) -> int:
    """Add accounts (`id`, `name`, optional `parent`, `email`), parents before children."""
    pending = {a["id"]: a for a in accounts}
    known = set(session.scalars(Account.__table__.select().with_only_columns(Account.id)))
    now = datetime.now(UTC)
    added = 0
    while pending:
        ready = [a for a in pending.values() if a.get("parent") in (None, *known)]
        if not ready:
            missing = sorted({a["parent"] for a in pending.values()} - known - set(pending))
            raise ValueError(
                f"accounts name parents that do not exist ({', '.join(missing) or 'a cycle'}): "
                "add the parent accounts first"
            )
        session.add_all(
            Account(
                id=a["id"],
                realm_id=realm_id,
                name=a.get("name", a["id"]),
                parent_id=a.get("parent"),
                email=a.get("email"),
                status="active",
                created_at=now,
            )
            for a in ready
        )
        session.flush()
        for a in ready:
            known.add(a["id"])
            del pending[a["id"]]
        added += len(ready)
    return added


def subscribe(
    session: Session, account_id: str, plan_id: str, start: date, end: date | None = None
) -> Subscription:
    """Put an account on a plan over [start, end)."""
    if end is not None and end <= start:
        raise ValueError(
            f"subscription of {account_id} ends ({end}) on or before it starts ({start})"
        )
    sub = Subscription(account_id=account_id, plan_id=plan_id, start_date=start, end_date=end)
    session.add(sub)
    return sub
