"""SEPA direct debit: what a realm asks the bank to collect, as one pain.008 message.

`collect` gathers every open invoice due by a day of the realm's accounts with an active
mandate, writes the pain.008 with `sepaxml` (validated against the XSD it ships) and
records each debit as a pending `Collection` in the same transaction. An invoice with a
pending collection is never collected again, so running it twice sends nothing twice; a
returned debit (a bank statement, `jet.statement_import`) makes its invoice collectable
again."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import sepaxml
from sepaxml import SepaDD
from sepaxml.validation import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from jet.audit import Actor, record
from jet.catalog import Sepa
from jet.errors import JetError
from jet.ledger import open_entries
from jet.realms import catalog_on
from jet.store.models import Account, Collection, LedgerEntry, Mandate, Realm

# pain.008.001.08 is the version of the EPC's SEPA Core rulebook since November 2023.
SCHEMA = "pain.008.001.08"
SCHEMA_FILE = Path(sepaxml.__file__).parent / "schemas" / f"{SCHEMA}.xsd"


class CollectError(JetError, ValueError):
    """A collection run that cannot be made; nothing was stored or written."""


@dataclass(frozen=True, slots=True)
class Batch:
    """One pain.008 message: its id, its XML, and the collections it asks for."""

    message_id: str
    currency: str
    xml: bytes
    collections: list[Collection]

    @property
    def total(self) -> Decimal:
        return sum((c.amount for c in self.collections), Decimal(0))


def creditor(s: Session, realm_id: str, day: date) -> Sepa:
    """The realm's SEPA creditor settings in effect on `day`."""
    realm = s.get(Realm, realm_id)
    if realm is None:
        raise CollectError(
            f"there is no realm {realm_id!r}: load its catalog (`jet catalog load FILE`)"
        )
    catalog = catalog_on(s, realm_id, day)
    if catalog is None or catalog.realm.sepa is None:
        raise CollectError(
            f"realm {realm_id} does not collect by SEPA direct debit on {day}: give its "
            "catalog a realm sepa block (creditor name, IBAN, BIC and creditor id)"
        )
    return catalog.realm.sepa


def collect(s: Session, actor: Actor, realm_id: str, day: date) -> Batch | None:
    """Ask for every open invoice of the realm due by `day` (bill date plus the realm's
    payment terms) from accounts with a mandate signed by then and not revoked; None
    when there is nothing to collect."""
    sepa = creditor(s, realm_id, day)
    realm = s.get(Realm, realm_id)
    terms = timedelta(days=catalog_on(s, realm_id, day).realm.terms_days)
    pending = set(s.scalars(select(Collection.entry_id).where(Collection.status == "pending")))
    wanted: list[tuple[Mandate, LedgerEntry, Decimal]] = []
    for mandate in s.scalars(
        select(Mandate)
        .join(Account, Account.id == Mandate.account_id)
        .where(
            Account.realm_id == realm_id,
            Mandate.revoked_on.is_(None),
            Mandate.signed_on <= day,
        )
        .order_by(Mandate.account_id)
    ):
        _, debits = open_entries(s, mandate.account_id)
        for d in debits:
            e = d.entry
            if e.kind == "invoice" and e.entry_date + terms <= day and e.id not in pending:
                wanted.append((mandate, e, d.left))
    if not wanted:
        return None
    sequence = _sequences(s, {m.id for m, _, _ in wanted})
    message = SepaDD(
        {
            "name": sepa.creditor_name,
            "IBAN": sepa.creditor_iban,
            "BIC": sepa.creditor_bic,
            "batch": True,
            "creditor_id": sepa.creditor_id,
            "currency": realm.currency,
        },
        schema=SCHEMA,
    )
    now = datetime.now(UTC)
    made = []
    for mandate, entry, amount in wanted:
        collection = Collection(
            end_to_end_id=f"JET{uuid.uuid4().hex[:29].upper()}",
            account_id=mandate.account_id,
            mandate_id=mandate.id,
            entry_id=entry.id,
            amount=amount,
            collection_date=day,
            sequence=sequence[mandate.id],
            message_id=message.msg_id,
            created_at=now,
        )
        payment = {
            "name": mandate.debtor_name,
            "IBAN": mandate.iban,
            "amount": int(amount.scaleb(realm.minor_units)),
            "type": collection.sequence,
            "collection_date": day,
            "mandate_id": mandate.reference,
            "mandate_date": mandate.signed_on,
            "description": f"Invoice {entry.invoice.number}",
            "endtoend_id": collection.end_to_end_id,
        }
        if mandate.bic:
            payment["BIC"] = mandate.bic
        message.add_payment(payment)
        made.append(collection)
    try:
        xml = message.export(validate=True)
    except ValidationError as err:
        raise CollectError(
            f"the pain.008 did not validate against {SCHEMA}: {err.__cause__}"
        ) from None
    s.add_all(made)
    s.flush()
    total = sum((c.amount for c in made), Decimal(0))
    after = {"realm": realm_id, "date": day.isoformat(), "debits": len(made), "total": str(total)}
    record(s, actor, "direct_debit.requested", "pain.008", message.msg_id, after=after)
    return Batch(message.msg_id, realm.currency, xml, made)


def _sequences(s: Session, mandate_ids: set[int]) -> dict[int, str]:
    """FRST for a mandate's first debit (none before, or only returned ones), else RCUR."""
    used = set(
        s.scalars(
            select(Collection.mandate_id).where(
                Collection.mandate_id.in_(mandate_ids), Collection.status != "returned"
            )
        )
    )
    return {m: "RCUR" if m in used else "FRST" for m in mandate_ids}


def write(batch: Batch, path: Path) -> Path:
    """Write the message whole or not at all (a temporary file renamed into place)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    partial.write_bytes(batch.xml)
    partial.replace(path)
    return path
