"""Importing a bank statement: credits matched to invoices become payments, returned
direct debits reverse theirs, and what cannot be matched is kept for a person.

A statement belongs to the realm whose SEPA creditor IBAN it is for; any other is
refused before anything is stored. The whole file is one transaction: it is stored whole
or not at all, and a line already imported (its `key`) is skipped, so importing a file
again, or a later statement that repeats lines, records nothing twice.

A credit is matched, first to last: by a collection's end-to-end id; by an invoice
number of the realm in its remittance information; by the payer's IBAN when exactly one
account has a mandate for it; by its amount when exactly one open invoice of the realm
is of that amount. Lookups are dictionaries built once per import, never a query per
line. Within one statement, credits are recorded before returns."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from jet.audit import Actor, record
from jet.bank_statements import Line, Statement
from jet.errors import JetError
from jet.ledger import ZERO, LedgerError, record_payment, take_back
from jet.payment_batches import CHUNK, Received, record_payments
from jet.realms import catalog_on
from jet.store.bulk import insert_rows
from jet.store.models import (
    Account,
    Allocation,
    Collection,
    Invoice,
    LedgerEntry,
    Mandate,
    Realm,
    StatementLine,
)

# What an invoice number can be (jet.catalog: letters, digits, "-", "_", ".").
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*[A-Za-z0-9]")


class StatementRefused(JetError, ValueError):
    """A statement that is refused whole; nothing from it was stored."""


@dataclass(slots=True)
class Outcome:
    """What an import did, by line status, and the realm it was for."""

    realm: str
    counts: Counter = field(default_factory=Counter)


def realm_of(s: Session, iban: str, day: date) -> str:
    """The realm whose SEPA creditor account `iban` is, or the refusal."""
    owners = []
    for realm_id in s.scalars(select(Realm.id).order_by(Realm.id)):
        catalog = catalog_on(s, realm_id, day)
        sepa = catalog and catalog.realm.sepa
        if sepa is not None and sepa.creditor_iban == iban:
            owners.append(realm_id)
    if not owners:
        raise StatementRefused(
            f"a statement for a different account holder's IBAN: {iban} is no realm's creditor "
            "IBAN (the sepa block of its catalog); import only statements of Jet's own accounts"
        )
    return owners[0]


def import_statements(s: Session, actor: Actor, statements: list[Statement]) -> Outcome:
    """Import every statement of one file, in the caller's transaction."""
    day = max((line.booked_on for st in statements for line in st.lines), default=date.today())
    realms = {realm_of(s, st.iban, day) for st in statements}
    if len(realms) != 1:
        raise StatementRefused(
            f"the file holds statements of realms {sorted(realms)}: import each alone"
        )
    realm = s.get(Realm, realms.pop())
    outcome = Outcome(realm.id)
    lines = [line for st in statements for line in st.lines]
    seen = _existing_keys(s, [line.key for line in lines])
    lines = [line for line in lines if line.key not in seen]
    outcome.counts["already imported"] = len(seen)
    if not lines:
        return outcome
    matcher = _Matcher(s, realm, lines)
    rows: dict[str, dict] = {}
    paid: list[tuple[Line, Received, Collection | None]] = []
    for line in lines:
        rows[line.key] = _row(realm, line)
        if line.currency != realm.currency:
            rows[line.key]["note"] = f"in {line.currency}, not the realm's {realm.currency}"
        elif line.credit:
            found = matcher.credit(line)
            if isinstance(found, str):
                rows[line.key]["note"] = found
            else:
                paid.append((line, *found))
    ids = record_payments(s, actor, [r for _, r, _ in paid])
    for (line, received, collection), entry_id in zip(paid, ids, strict=True):
        rows[line.key] |= {
            "status": "paid",
            "account_id": received.account_id,
            "entry_id": entry_id,
        }
        if collection is not None:
            collection.status, collection.payment_id = "paid", entry_id
    for line in lines:
        if not line.credit and line.currency == realm.currency:
            rows[line.key] |= _returned(s, actor, matcher, line)
    s.flush()
    values = list(rows.values())
    insert_rows(s, StatementLine.__table__, values)
    outcome.counts.update(r["status"] for r in values)
    after = {"realm": realm.id, **{k: v for k, v in outcome.counts.items() if v}}
    ident = ",".join(sorted({st.id for st in statements}))[:200]
    record(s, actor, "statement.imported", "statement", ident, after=after)
    return outcome


def _row(realm: Realm, line: Line) -> dict:
    return {
        "key": line.key,
        "statement_id": line.key.rsplit("/", 1)[0][:100],
        "realm_id": realm.id,
        "booked_on": line.booked_on,
        "amount": line.amount if line.credit else -line.amount,
        "currency": line.currency,
        "reference": line.reference[:500] or line.end_to_end_id,
        "counterparty": line.counterparty and line.counterparty[:140],
        "counterparty_iban": line.counterparty_iban and line.counterparty_iban[:34],
        "return_code": line.return_code,
        "status": "unmatched",
        "account_id": None,
        "entry_id": None,
        "note": None,
        "imported_at": datetime.now(UTC),
    }


def _returned(s: Session, actor: Actor, matcher: _Matcher, line: Line) -> dict:
    """A debit: a returned collection reverses its payment; any other debit is no money
    of the customers' and is kept as ignored."""
    if line.return_code is None:
        return {"status": "ignored", "note": "a debit that is no returned direct debit"}
    collection = matcher.collections.get(line.end_to_end_id or "")
    if collection is None or collection.status == "returned":
        why = "already returned" if collection else "no collection has this end-to-end id"
        return {"note": f"returned debit {line.return_reason}: {why}"}
    found = {"status": "returned", "account_id": collection.account_id}
    if collection.payment_id is None:
        found["note"] = "returned before its payment was booked"
    else:
        try:
            found["entry_id"] = take_back(
                s, actor, collection.payment_id, "reversal", line.return_reason,
                amount=min(line.amount, collection.amount), day=line.booked_on, key=line.key,
                method="sepa",
            ).id  # fmt: skip
        except LedgerError as err:  # refunded meanwhile; refused before anything was written
            return {"note": f"returned debit {line.return_reason}: {err}"[:300]}
    collection.status, collection.return_reason = "returned", line.return_reason[:200]
    return found


def _existing_keys(s: Session, keys: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start : start + CHUNK]
        found |= set(s.scalars(select(StatementLine.key).where(StatementLine.key.in_(chunk))))
    return found


class _Matcher:
    """The realm's lookups, each read once: collections by end-to-end id, invoices by
    number, accounts by mandate IBAN, open invoices by amount."""

    def __init__(self, s: Session, realm: Realm, lines: list[Line]) -> None:
        self.realm = realm
        ends = [line.end_to_end_id for line in lines if line.end_to_end_id]
        self.collections: dict[str, Collection] = {}
        for start in range(0, len(ends), CHUNK):
            self.collections |= {
                c.end_to_end_id: c
                for c in s.scalars(
                    select(Collection).where(
                        Collection.end_to_end_id.in_(ends[start : start + CHUNK])
                    )
                )
            }
        accounts = dict(
            s.execute(select(Account.id, Account.status).where(Account.realm_id == realm.id)).all()
        )
        self.open_accounts = {a for a, status in accounts.items() if status != "closed"}
        self.invoices: dict[str, tuple[int, str]] = {}
        invoice_amounts: dict[int, tuple[str, Decimal]] = {}
        for number, entry_id, account_id, amount in s.execute(
            select(Invoice.number, LedgerEntry.id, LedgerEntry.account_id, LedgerEntry.amount)
            .join(LedgerEntry, LedgerEntry.invoice_id == Invoice.id)
            .where(Invoice.realm_id == realm.id, Invoice.kind == "invoice")
        ):
            self.invoices[number.upper()] = (entry_id, account_id)
            invoice_amounts[entry_id] = (account_id, amount)
        self.by_amount = _open_by_amount(s, realm, invoice_amounts)
        self.left_of = {e: left for left, found in self.by_amount.items() for e, _ in found}
        by_iban: dict[str, set[str]] = {}
        for iban, account_id in s.execute(
            select(Mandate.iban, Mandate.account_id)
            .join(Account, Account.id == Mandate.account_id)
            .where(Account.realm_id == realm.id)
        ):
            by_iban.setdefault(iban, set()).add(account_id)
        self.by_iban = {i: a.pop() for i, a in by_iban.items() if len(a) == 1}

    def credit(self, line: Line) -> tuple[Received, Collection | None] | str:
        """The payment a credit is, or why it is none."""
        collection = self.collections.get(line.end_to_end_id or "")
        if collection is not None and collection.status == "pending":
            found = (collection.account_id, collection.entry_id, None)
        else:
            collection, found = None, self._by_reference(line)
        if found is None and line.counterparty_iban in self.by_iban:
            found = (self.by_iban[line.counterparty_iban], None, None)
        if found is None and len(self.by_amount.get(line.amount, ())) == 1:
            entry_id, account = next(iter(self.by_amount[line.amount]))
            found = (account, entry_id, None)
        if found is None:
            return "no collection, invoice number, mandate IBAN or unique open amount matches"
        if found[0] not in self.open_accounts:
            return f"matches {found[0]}, which is closed: record it by hand if it is theirs"
        return self._paying(line, *found), collection

    def _by_reference(self, line: Line) -> tuple[str, int, str] | None:
        for token in _TOKEN.findall(line.reference or ""):
            found = self.invoices.get(token.upper())
            if found is not None:
                return found[1], found[0], token.upper()
        return None

    def _paying(self, line: Line, account: str, target: int | None, number: str | None):
        if target in self.left_of:  # an invoice paid here is no longer a candidate
            self.by_amount[self.left_of.pop(target)].discard((target, account))
        return Received(
            account_id=account, amount=line.amount, day=line.booked_on,
            method="sepa" if line.end_to_end_id in self.collections else "bank",
            key=line.key, reference=(line.reference or line.end_to_end_id or "")[:200] or None,
            target_id=target, invoice=number,
        )  # fmt: skip


def _open_by_amount(
    s: Session, realm: Realm, invoices: dict[int, tuple[str, Decimal]]
) -> dict[Decimal, set[tuple[int, str]]]:
    """Open invoices of the realm by what is left of them."""
    paid: dict[int, Decimal] = {}
    for debit, amount in s.execute(
        select(Allocation.debit_id, Allocation.amount)
        .join(LedgerEntry, LedgerEntry.id == Allocation.debit_id)
        .where(LedgerEntry.realm_id == realm.id, LedgerEntry.kind == "invoice")
    ):
        paid[debit] = paid.get(debit, ZERO) + amount
    found: dict[Decimal, set[tuple[int, str]]] = {}
    for entry_id, (account_id, amount) in invoices.items():
        left = amount - paid.get(entry_id, ZERO)
        if left > 0:
            found.setdefault(left, set()).add((entry_id, account_id))
    return found


def unmatched(s: Session, realm_id: str | None = None) -> list[dict]:
    """Statement lines waiting for a person, oldest first."""
    query = select(StatementLine).where(StatementLine.status == "unmatched")
    if realm_id is not None:
        query = query.where(StatementLine.realm_id == realm_id)
    return [
        {
            "line": line.id,
            "key": line.key,
            "realm": line.realm_id,
            "booked_on": line.booked_on.isoformat(),
            "amount": str(line.amount),
            "currency": line.currency,
            "reference": line.reference,
            "counterparty": line.counterparty,
            "counterparty_iban": line.counterparty_iban,
            "note": line.note,
        }  # fmt: skip
        for line in s.scalars(query.order_by(StatementLine.booked_on, StatementLine.id))
    ]


def assign(
    s: Session, actor: Actor, line_id: int, account_id: str, invoice: str | None = None
) -> StatementLine:
    """Record an unmatched credit line as the payment a person says it is: from
    `account_id`, for `invoice` first if given (`jet.ledger.record_payment`, keyed by the
    line, so it is paid once); the line is then `paid`."""
    line = s.get(StatementLine, line_id)
    if line is None or line.status != "unmatched":
        raise StatementRefused(
            f"there is no unmatched statement line {line_id}: `jet payment unmatched` lists them"
        )
    if line.amount <= 0:
        raise StatementRefused(f"line {line_id} is a debit, not money received")
    account = s.get(Account, account_id)
    if account is not None and account.realm_id != line.realm_id:
        raise StatementRefused(
            f"{account_id} is in realm {account.realm_id}; line {line_id} was booked to "
            f"{line.realm_id}'s account"
        )
    entry = record_payment(
        s, actor, account_id, line.amount, "bank", reference=line.reference,
        day=line.booked_on, invoice=invoice, key=line.key,
    )  # fmt: skip
    line.status, line.account_id, line.entry_id = "paid", account_id, entry.id
    line.note = f"assigned by {actor.name}"
    return line
