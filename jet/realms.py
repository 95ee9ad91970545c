"""Realms and their catalog versions in the operational store."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from jet.catalog import Catalog, CatalogError, parse_catalog
from jet.money import minor_units
from jet.store.models import CatalogVersion, Realm


def store_catalog(session: Session, catalog: Catalog, source: str) -> tuple[CatalogVersion, bool]:
    """Store `catalog` as its realm's version from `effective_from`; return (version, created).

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
    return version, True


def catalog_on(session: Session, realm_id: str, day: date) -> Catalog | None:
    """The realm's catalog in effect on `day`: the latest version from that day or before,
    else its first (as subscriptions are priced); None if the realm has no catalog."""
    in_effect = select(CatalogVersion).where(CatalogVersion.realm_id == realm_id)
    version = session.scalar(
        in_effect.where(CatalogVersion.effective_from <= day)
        .order_by(CatalogVersion.effective_from.desc())
        .limit(1)
    ) or session.scalar(in_effect.order_by(CatalogVersion.effective_from).limit(1))
    if version is None:
        return None
    return parse_catalog(version.document, f"catalog {realm_id} from {version.effective_from}")
