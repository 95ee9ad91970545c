"""The event outbox: how a change in the store is announced to what must act on it.

A core function writes its change, its audit entry and its `Event` in one transaction,
so an announcement is never lost and never made for a change that did not happen
(DESIGN.md, "The business loop"). `jet.deliveries` takes each event to every subscriber
that wants its topic. The core decides what an event means; subscribers carry it out.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from jet.store.models import Event

# Every topic the core announces; subscribers choose theirs among these.
TOPICS = (
    "account.created",
    "account.updated",
    "account.suspended",
    "account.reactivated",
    "account.closed",
    "password.changed",
    "plan.changed",
    "subscription.started",
    "subscription.ended",
    "invoice.issued",
    "credit_note.issued",
    "usage.threshold_crossed",
    "payment.recorded",
    "payment.refunded",
    "payment.reversed",
    "invoice.written_off",
    "dunning.reminder",
    "mandate.added",
    "mandate.revoked",
    "card.added",
    "card.removed",
    "card.charge_due",
    "card.declined",
    "prepaid.low_balance",
    "prepaid.exhausted",
    "contact.message_left",
    "report.ready",
)


def event_row(
    topic: str,
    account_id: str | None,
    payload: dict[str, Any],
    due_at: datetime | None = None,
    at: datetime | None = None,
    key: str | None = None,
) -> dict[str, Any]:
    """An event as a dict, for `publish` or for a bulk insert of many; `key` makes it
    one of a kind (a second event with the same key is refused by the store)."""
    if topic not in TOPICS:
        raise ValueError(f"unknown event topic {topic!r}")
    return {
        "topic": topic,
        "account_id": account_id,
        "payload": payload,
        "created_at": at or datetime.now(UTC),
        "due_at": due_at,
        "key": key,
    }


def publish(
    s: Session,
    topic: str,
    account_id: str | None,
    payload: dict[str, Any],
    due_at: datetime | None = None,
) -> None:
    """Write the event in `s`'s transaction: announced if and only if the change commits."""
    s.add(Event(**event_row(topic, account_id, payload, due_at)))
