"""The event outbox: how a change in the store reaches what must act on it.

A core function writes its change and its `Event` in one transaction, so a crash never
loses the announcement (DESIGN.md, "The business loop"). A subscriber, in a layer above
the core, takes the due events of its topics: it `claim`s one (moves `next_attempt_at`
ahead in a transaction of its own, so no other dispatcher takes it meanwhile), acts, and
`settle`s it: delivered, or due again later. A subscriber that dies holding a claim
leaves the event to the next one once the claim runs out. The core decides what an
event means; subscribers only carry it out.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from jet.store.db import session
from jet.store.models import Event


def due(db_url: str, topics: Iterable[str], now: datetime) -> list[tuple[int, dict[str, Any]]]:
    """The id and payload of each undelivered event of `topics` due at `now`, oldest first."""
    with session(db_url) as s:
        rows = s.execute(
            select(Event.id, Event.payload)
            .where(Event.topic.in_(list(topics)), _due(now))
            .order_by(Event.id)
        ).all()
    return [(event_id, payload) for event_id, payload in rows]


def claim(db_url: str, event_id: int, hold: timedelta) -> bool:
    """Take the event for `hold`, if it is still due; False if another dispatcher has it
    or it was delivered meanwhile."""
    now = datetime.now(UTC)
    with session(db_url) as s:
        taken = update(Event).where(Event.id == event_id, _due(now))
        return s.execute(taken.values(next_attempt_at=now + hold)).rowcount == 1


def settle(db_url: str, event_id: int, outcome: str, retry_at: datetime | None) -> None:
    """Record how the event went: delivered (`retry_at` None), or due again at `retry_at`."""
    now = datetime.now(UTC)
    with session(db_url) as s:
        event = s.get(Event, event_id)
        event.outcome = outcome[:500]
        event.next_attempt_at = retry_at
        if retry_at is None:
            event.delivered_at = now


def split(s: Session, event: Event, payloads: list[dict[str, Any]], outcome: str) -> list[int]:
    """Write an event of `event`'s topic and time for each of `payloads` and mark `event`
    delivered with `outcome`, in `s`'s transaction: each part is then claimed, retried and
    settled on its own. The new events' ids."""
    parts = [Event(topic=event.topic, payload=p, created_at=event.created_at) for p in payloads]
    s.add_all(parts)
    s.flush()
    ids = [part.id for part in parts]
    event.delivered_at, event.next_attempt_at = datetime.now(UTC), None
    event.outcome = f"{outcome}: events {', '.join(map(str, ids))}"[:500]
    return ids


def created_at(event: Event) -> datetime:
    """When the event was written, in UTC (SQLite hands back naive UTC)."""
    stamp = event.created_at
    return stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=UTC)


def _due(now: datetime):
    return Event.delivered_at.is_(None) & or_(
        Event.next_attempt_at.is_(None), Event.next_attempt_at <= now
    )
