"""The audit log: who changed what, when, through what, with the values before and after.

Every core function that changes accounts, subscriptions, passwords, statuses, IP
assignments or catalogs takes the `Actor` making the change and writes its entry in the
change's own transaction, whichever path called it (a command, an import, the console,
the portal, dunning). Entries are only ever added."""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jet.store.models import AuditEntry

CHANNELS = (
    "cli",
    "import",
    "console",
    "portal",
    "dunning",
    "demo",
    "simulate",
    "gateway",
    "rating",
)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who makes a change (a staff member's e-mail, a login, an operating-system user)
    and through what channel."""

    name: str
    channel: str

    def __post_init__(self) -> None:
        if self.channel not in CHANNELS:
            raise ValueError(f"unknown channel {self.channel!r}; one of {', '.join(CHANNELS)}")

    @classmethod
    def here(cls, channel: str = "cli") -> Actor:
        """The operating-system user running this process."""
        try:
            name = getpass.getuser()
        except (KeyError, OSError):
            name = "unknown"
        return cls(name, channel)


def entry(
    actor: Actor,
    action: str,
    entity: str,
    entity_id: str,
    account_id: str | None,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    at: datetime | None = None,
) -> dict[str, Any]:
    """An audit row as a dict, for `record` or for a bulk insert of many."""
    return {
        "at": at or datetime.now(UTC),
        "actor": actor.name,
        "channel": actor.channel,
        "action": action,
        "entity": entity,
        "entity_id": entity_id,
        "account_id": account_id,
        "before": plain(before),
        "after": plain(after),
    }


def record(s: Session, actor: Actor, action: str, entity: str, entity_id: str, **values) -> None:
    """Add one entry; `account_id`, `before` and `after` as keyword arguments."""
    s.add(
        AuditEntry(
            **entry(
                actor,
                action,
                entity,
                entity_id,
                values.get("account_id"),
                values.get("before"),
                values.get("after"),
            )
        )
    )


def changed(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict, dict]:
    """The fields whose values differ, before and after."""
    keys = [k for k in after if before.get(k) != after[k]]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def entries(
    s: Session, account_id: str | None = None, since: date | None = None
) -> list[AuditEntry]:
    """The entries of an account (or all), oldest first, from `since` (a UTC day)."""
    query = select(AuditEntry).order_by(AuditEntry.id)
    if account_id is not None:
        query = query.where(AuditEntry.account_id == account_id)
    if since is not None:
        query = query.where(AuditEntry.at >= datetime.combine(since, datetime.min.time(), UTC))
    return list(s.scalars(query))


def plain(values: dict[str, Any] | None) -> dict[str, Any] | None:
    """JSON-ready values: dates and decimals as text (for audit rows and event payloads)."""
    if values is None:
        return None
    return {k: v if v is None or isinstance(v, _PLAIN) else str(v) for k, v in values.items()}


_PLAIN = (bool, int, str)  # a tuple: isinstance takes it faster than a union
