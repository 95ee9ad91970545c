"""Realms and their catalog versions in the operational store."""

from __future__ import annotations

import hashlib
import json
from bisect import bisect_right
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from jet.audit import Actor, record
from jet.catalog import Catalog, CatalogError, parse_catalog
from jet.money import minor_units
from jet.store.models import CatalogVersion, Realm


def store_catalog(
    session: Session, catalog: Catalog, source: str, actor: Actor | None = None
) -> tuple[CatalogVersion, bool]:
    """Store `catalog` as its realm's version from `effective_from`; return (version, created).
    A new version is audited (`catalog.loaded`), as `actor` (default: this process's user).

    Loading the same file again changes nothing. A different document for a date that
    already has a version is refused: issued invoices were rated by it."""
    document = catalog.to_dict()
    checksum = hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()
    r = catalog.realm
    realm = session.get(Realm, r.id) or Realm(id=r.id, last_invoice_number=0)
    realm.name, realm.currency, realm.minor_units = r.name, r.currency, minor_units(r.currency)
    realm.tax_rate, realm.cycle, realm.cycle_day = r.tax_rate, r.cycle, r.cycle_day
    realm.invoice_prefix, realm.invoice_format = r.invoice_prefix, r.invoice_format
    session.add(realm)
    existing = session.scalar(
        select(CatalogVersion).where(
            CatalogVersion.realm_id == r.id,
            CatalogVersion.effective_from == catalog.effective_from,
        )
    )
    if existing is not None:
        if existing.checksum != checksum:
            raise CatalogError(
                source,
                [
                    (
                        "effective_from",
                        f"realm {r.id} already has a different catalog from "
                        f"{catalog.effective_from}; load changes with a later effective_from",
                    )
                ],
            )
        return existing, False
    version = CatalogVersion(
        realm_id=r.id,
        effective_from=catalog.effective_from,
        document=document,
        checksum=checksum,
        loaded_at=datetime.now(UTC),
    )
    session.add(version)
    session.flush()
    record(
        session,
        actor or Actor.here(),
        "catalog.loaded",
        "catalog_version",
        str(version.id),
        after={"realm": r.id, "effective_from": catalog.effective_from, "source": source},
    )
    return version, True


def catalog_versions(session: Session, realms: Collection[str] | None = None) -> list[dict]:
    """The catalog versions of `realms` (None: every realm), newest first per realm."""
    query = select(CatalogVersion).order_by(
        CatalogVersion.realm_id, CatalogVersion.effective_from.desc()
    )
    if realms is not None:
        query = query.where(CatalogVersion.realm_id.in_(realms))
    return [
        {
            "realm": v.realm_id,
            "effective_from": v.effective_from,
            "plans": len(v.document.get("plans", {})),
            "products": len(v.document.get("products", {})),
            "loaded_at": v.loaded_at,
            "checksum": v.checksum[:12],
        }
        for v in session.scalars(query)
    ]


# Catalogs parsed, by checksum and source: a stored version never changes (store_catalog
# refuses another document for its date), and validating one is the costly part of reading
# it (a portal page asks for the realm's on every click).
_PARSED: dict[tuple[str, str], Catalog] = {}


def catalog_on(session: Session, realm_id: str, day: date) -> Catalog | None:
    """The realm's catalog in effect on `day`: the latest version from that day or before,
    else its first (as subscriptions are priced); None if the realm has no catalog."""
    in_effect = select(
        CatalogVersion.id, CatalogVersion.checksum, CatalogVersion.effective_from
    ).where(CatalogVersion.realm_id == realm_id)
    version = (
        session.execute(
            in_effect.where(CatalogVersion.effective_from <= day)
            .order_by(CatalogVersion.effective_from.desc())
            .limit(1)
        ).first()
        or session.execute(in_effect.order_by(CatalogVersion.effective_from).limit(1)).first()
    )
    if version is None:
        return None
    key = (version.checksum, f"catalog {realm_id} from {version.effective_from}")
    if key not in _PARSED:
        if len(_PARSED) >= 256:
            _PARSED.clear()
        _PARSED[key] = parse_catalog(session.get(CatalogVersion, version.id).document, key[1])
    return _PARSED[key]


@dataclass(frozen=True, slots=True)
class RealmPlans:
    """The plans a realm's catalog offers over time, its versions read once, so that one
    subscription or a million are checked against it alike (`jet.accounts`)."""

    realm_id: str
    starts: tuple[date, ...]  # each version's effective_from, earliest first
    plans: tuple[frozenset[str], ...]  # the plans of each version

    @classmethod
    def load(cls, session: Session, realm_id: str) -> RealmPlans:
        versions = session.execute(
            select(CatalogVersion.effective_from, CatalogVersion.document)
            .where(CatalogVersion.realm_id == realm_id)
            .order_by(CatalogVersion.effective_from)
        ).all()
        plans = [
            parse_catalog(doc, f"catalog {realm_id} from {day}").plans for day, doc in versions
        ]
        return cls(realm_id, tuple(day for day, _ in versions), tuple(map(frozenset, plans)))

    def problem(self, plan_id: str, day: date, start_field: str = "from") -> tuple[str, str] | None:
        """Why `plan_id` cannot start on `day`, as (field, message), or None: the plan must
        be in the catalog in effect that day, and `day` on or after the first version."""
        realm = self.realm_id
        if not self.starts:
            return "plan", f"plan: realm {realm} has no catalog: load one with `jet catalog load`"
        if day < self.starts[0]:
            return start_field, (
                f"{start_field}: {day} is before realm {realm}'s first catalog "
                f"({self.starts[0]}): start on or after it"
            )
        offered = self.plans[bisect_right(self.starts, day) - 1]
        if plan_id not in offered:
            return "plan", (
                f"plan: realm {realm} has no plan {plan_id!r} on {day} "
                f"(plans: {', '.join(sorted(offered))})"
            )
        return None
