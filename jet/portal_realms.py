"""Which realm a portal request is for, and what that realm's portal offers (the
`portal` block of its catalog in force today, jet.catalog.Portal)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from jet.catalog import Portal
from jet.realms import catalog_on
from jet.store.models import Realm


def portal_of(s: Session, realm_id: str) -> Portal | None:
    """The realm's portal today; None when its catalog has no portal block (or the realm
    no catalog)."""
    catalog = catalog_on(s, realm_id, datetime.now(UTC).date())
    return catalog.realm.portal if catalog else None


def realm_for_host(s: Session, host: str) -> str | None:
    """The realm whose portal answers on `host` (a Host header: any port is ignored), or
    None; the portal then falls back to a realm given in its path or parameters."""
    name = (host or "").strip().lower().rstrip(".").rsplit(":", 1)[0]
    if not name:
        return None
    for realm_id in s.scalars(select(Realm.id).order_by(Realm.id)):
        portal = portal_of(s, realm_id)
        if portal and name in portal.hosts:
            return realm_id
    return None
