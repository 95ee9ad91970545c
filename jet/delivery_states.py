"""The outbox's deliveries as an operator sees them: listed by state (`jet events list`),
and the dead or failed ones made due again once their cause is fixed (`jet events
retry`). `jet.deliveries` delivers them."""

from __future__ import annotations

from sqlalchemy import and_, or_, select, update

from jet.errors import JetError
from jet.store.db import session
from jet.store.models import Event, EventDelivery

STATUSES = ("pending", "failed", "dead", "delivered")  # failed: pending, tried and failed


class EventError(JetError, LookupError):
    pass


def deliveries(
    db_url: str, status: str | None = None, account_id: str | None = None, limit: int = 200
) -> list[tuple[EventDelivery, Event]]:
    """Deliveries with their events, newest first: all, or those of a STATUSES value."""
    query = (
        select(EventDelivery, Event)
        .join(Event, Event.id == EventDelivery.event_id)
        .order_by(EventDelivery.event_id.desc(), EventDelivery.subscriber)
        .limit(limit)
    )
    if status in ("pending", "failed"):
        tried = EventDelivery.attempts > 0 if status == "failed" else EventDelivery.attempts == 0
        query = query.where(EventDelivery.status == "pending", tried)
    elif status is not None:
        query = query.where(EventDelivery.status == status)
    if account_id is not None:
        query = query.where(Event.account_id == account_id)
    with session(db_url) as s:
        rows = [(d, e) for d, e in s.execute(query).all()]
        s.expunge_all()
    return rows


def status_of(delivery: EventDelivery) -> str:
    """Its STATUSES value: a pending delivery that was tried is `failed`."""
    return "failed" if delivery.status == "pending" and delivery.attempts else delivery.status


def retry(db_url: str, event_id: int, subscriber: str | None = None) -> int:
    """Make the event's dead or failed deliveries (to `subscriber`, or to all) due now,
    with a fresh count of attempts; how many."""
    query = (
        update(EventDelivery)
        .where(
            EventDelivery.event_id == event_id,
            or_(
                EventDelivery.status == "dead",
                and_(EventDelivery.status == "pending", EventDelivery.attempts > 0),
            ),
        )
        .values(status="pending", attempts=0, next_attempt_at=None)
    )
    if subscriber is not None:
        query = query.where(EventDelivery.subscriber == subscriber)
    with session(db_url) as s:  # the write first: SQLite takes its lock then, not midway
        again = s.execute(query).rowcount or 0
        if not again and s.get(Event, event_id) is None:
            raise EventError(f"there is no event {event_id}: `jet events list` shows them")
    return again
