"""The ledger: what each billing account owes, as entries that are only ever added.

Invoices, credit notes, payments, refunds, reversals, write-offs, top-ups and prepaid
usage are `LedgerEntry` rows; a balance is their sum, never a stored field (DESIGN.md,
"The business loop"). Which credit paid which debit is an `Allocation`, also only added:
taking a payment back adds negative allocations that reopen what it paid.

Every function that adds an entry ends with `settle`, which pays open debits from
available credit (a credit meant for one debit first, then the oldest debits first). So
an account never holds open debits and unused credit at once: a positive balance is what
its open invoices still owe, a negative one is credit the next invoice uses.

Each function here is the one door for its change (`jet payment`, bank statements, the
card gateway, dunning, the portal): it writes the entry, its audit row and its event in
the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session

from jet.accounts import NON_PAYMENT, lift_non_payment_hold, paying_account
from jet.audit import Actor, record
from jet.errors import JetError
from jet.money import format_money
from jet.outbox import publish
from jet.store.models import Account, Allocation, Invoice, LedgerEntry, Realm

DEBITS = ("invoice", "refund", "reversal", "usage")
CREDITS = ("payment", "credit_note", "write_off", "top_up")
# How money arrives: at a counter, by cheque or bank transfer, a card through the realm's
# gateway, a SEPA direct debit.
METHODS = ("cash", "cheque", "bank", "card", "sepa")
ZERO = Decimal(0)
_CHUNK = 10_000  # ids in one IN (...) list


class LedgerError(JetError, ValueError):
    """A payment, refund or write-off that cannot be recorded as asked; nothing was."""


@dataclass(frozen=True, slots=True)
class Open:
    """An entry and what is left of it: of a debit what it still owes, of a credit what
    it has not yet paid."""

    entry: LedgerEntry
    left: Decimal


def parse_amount(text: str | Decimal, places: int, currency: str, what: str = "amount") -> Decimal:
    """A positive amount with at most the currency's minor-unit places, or a LedgerError
    that says what to give."""
    try:
        amount = Decimal(str(text).strip())
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite():
        raise LedgerError(f"{what} {text!r} is not an amount: give a decimal such as 25.00")
    if amount <= 0:
        raise LedgerError(f"{what} {text} is not positive: give what was received, e.g. 25.00")
    if amount != amount.quantize(Decimal(1).scaleb(-places)):
        raise LedgerError(
            f"{what} {text} has more decimals than {currency} has ({places}): "
            f"give at most {places}, e.g. {format_money(amount, places)}"
        )
    return amount


def post(
    s: Session,
    account: Account,
    kind: str,
    amount: Decimal,
    day: date,
    *,
    at: datetime | None = None,
    **fields,
) -> LedgerEntry:
    """Add one entry (signed: debits > 0, credits < 0) in the account's realm's currency."""
    if kind not in DEBITS + CREDITS:
        raise ValueError(f"unknown ledger entry kind {kind!r}")
    realm = s.get(Realm, account.realm_id)
    entry = LedgerEntry(
        account_id=account.id,
        realm_id=realm.id,
        currency=realm.currency,
        kind=kind,
        amount=amount,
        entry_date=day,
        recorded_at=at or datetime.now(UTC),
        **fields,
    )
    s.add(entry)
    s.flush()
    return entry


def balance(s: Session, account_id: str, on: date | None = None) -> Decimal:
    """What the account owes (negative: its credit), from its entries up to `on`. Summed
    here as Decimal: SQLite keeps money as text and would sum it as a float."""
    query = select(LedgerEntry.amount).where(LedgerEntry.account_id == account_id)
    if on is not None:
        query = query.where(LedgerEntry.entry_date <= on)
    return sum(s.scalars(query), ZERO)


def open_entries(s: Session, account_id: str) -> tuple[list[Open], list[Open]]:
    """The account's unused credits and its open debits, each oldest first."""
    entries = list(
        s.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.account_id == account_id)
            .order_by(LedgerEntry.entry_date, LedgerEntry.id)
        )
    )
    used: dict[int, Decimal] = {}
    paid: dict[int, Decimal] = {}
    ids = [e.id for e in entries]
    for credit, debit, amount in s.execute(
        select(Allocation.credit_id, Allocation.debit_id, Allocation.amount).where(
            Allocation.credit_id.in_(ids)
        )
    ):
        used[credit] = used.get(credit, ZERO) + amount
        paid[debit] = paid.get(debit, ZERO) + amount
    credits = [Open(e, -e.amount - used.get(e.id, ZERO)) for e in entries if e.amount < 0]
    debits = [Open(e, e.amount - paid.get(e.id, ZERO)) for e in entries if e.amount > 0]
    return [c for c in credits if c.left > 0], [d for d in debits if d.left > 0]


def settle(s: Session, account_id: str) -> None:
    """Pay the account's open debits from its unused credit: a credit meant for one debit
    (`target_id`) pays that first, then every credit pays the oldest debits first."""
    credits, debits = open_entries(s, account_id)
    if not credits or not debits:
        return
    now = datetime.now(UTC)
    owed = {d.entry.id: d.left for d in debits}
    for credit in credits:
        left = credit.left
        target = credit.entry.target_id
        order = [target] if target in owed else []
        for debit in order + [d for d in owed if d != target]:
            share = min(left, owed[debit])
            if share <= 0:
                continue
            s.add(Allocation(credit_id=credit.entry.id, debit_id=debit, amount=share, at=now))
            owed[debit] -= share
            left -= share
            if left == 0:
                break
    s.flush()


def paid_of(s: Session, debit_ids: Iterable[int]) -> dict[int, Decimal]:
    """What has been allocated to each of these debits (invoices shown with what is due),
    read `_CHUNK` ids a query (a dunning run asks for every open invoice at once)."""
    ids = list(debit_ids)
    paid: dict[int, Decimal] = {}
    for start in range(0, len(ids), _CHUNK):
        for debit, amount in s.execute(
            select(Allocation.debit_id, Allocation.amount).where(
                Allocation.debit_id.in_(ids[start : start + _CHUNK])
            )
        ):
            paid[debit] = paid.get(debit, ZERO) + amount
    return paid


def enter_invoice(s: Session, invoice: Invoice, charge: Decimal | None = None) -> LedgerEntry:
    """The ledger entry of an issued invoice or credit note (a credit note pays what it can
    of the invoice it corrects), and the account's credit applied to it. `charge`, when
    given, is what the entry charges instead of the total: a prepaid account's invoice
    less the usage already deducted (`jet.prepaid.undeducted`)."""
    target = None
    if invoice.credits_invoice_id is not None:
        target = s.scalar(
            select(LedgerEntry.id).where(LedgerEntry.invoice_id == invoice.credits_invoice_id)
        )
    entry = LedgerEntry(
        account_id=invoice.account_id,
        realm_id=invoice.realm_id,
        currency=invoice.currency,
        kind=invoice.kind,
        amount=invoice.total if charge is None else charge,
        entry_date=invoice.bill_date,
        recorded_at=invoice.issued_at,
        invoice=invoice,
        target_id=target,
    )
    s.add(entry)
    return entry


def accounts_in_credit(s: Session, account_ids: list[str]) -> list[str]:
    """Those of `account_ids` holding unused credit (a negative balance, since `settle`
    leaves no account with both credit and open debits)."""
    found = []
    for start in range(0, len(account_ids), 10_000):
        chunk = account_ids[start : start + 10_000]
        sums: dict[str, Decimal] = {}
        for account_id, amount in s.execute(
            select(LedgerEntry.account_id, LedgerEntry.amount).where(
                LedgerEntry.account_id.in_(chunk), LedgerEntry.amount < 0
            )
        ):
            sums[account_id] = sums.get(account_id, ZERO) + amount
        found += [a for a in chunk if a in sums and balance(s, a) < 0]
    return found


def _places(s: Session, account: Account) -> tuple[int, str]:
    realm = s.get(Realm, account.realm_id)
    return realm.minor_units, realm.currency


def record_payment(
    s: Session,
    actor: Actor,
    account_id: str,
    amount: str | Decimal,
    method: str,
    *,
    reference: str | None = None,
    day: date | None = None,
    invoice: str | None = None,
    key: str | None = None,
    kind: str = "payment",
) -> LedgerEntry:
    """Record money received from a billing account (`kind` top_up for a prepaid one):
    it pays invoice number `invoice` first when given, then the oldest open ones; what
    is left stays as credit for the next invoice."""
    account = paying_account(s, account_id, "record the payment", LedgerError)
    if method not in METHODS:
        raise LedgerError(f"unknown method {method!r}: give one of {', '.join(METHODS)}")
    places, currency = _places(s, account)
    amount = parse_amount(amount, places, currency)
    target = None
    if invoice is not None:
        target = s.scalar(
            select(LedgerEntry)
            .join(Invoice, Invoice.id == LedgerEntry.invoice_id)
            .where(Invoice.number == invoice)
        )
        if target is None or target.account_id != account_id:
            raise LedgerError(
                f"{account_id} has no invoice numbered {invoice}: "
                f"`jet payment list {account_id}` shows its open invoices"
            )
    day = day or datetime.now(UTC).date()
    entry = post(
        s, account, kind, -amount, day,
        method=method, reference=reference, key=key, target_id=target and target.id,
    )  # fmt: skip
    after = {"amount": str(amount), "method": method, "date": day.isoformat()}
    if reference:
        after["reference"] = reference
    if invoice:
        after["invoice"] = invoice
    _announce(s, actor, f"{kind}.recorded", "payment.recorded", entry, {"kind": kind, **after})
    settle(s, account_id)
    reconnect_if_paid(s, actor, [account_id])
    return entry


def reconnect_if_paid(s: Session, actor: Actor, account_ids: list[str]) -> None:
    """Lift the non-payment hold of those accounts that owe nothing any more: paying in
    full reactivates an account that dunning suspended (docs/dunning.md)."""
    held = [
        account_id
        for start in range(0, len(account_ids), 10_000)
        for account_id in s.scalars(
            select(Account.id).where(
                Account.id.in_(account_ids[start : start + 10_000]), Account.hold == NON_PAYMENT
            )
        )
    ]
    for account_id in held:
        if balance(s, account_id) <= 0:
            lift_non_payment_hold(s, actor, account_id)


def _payment(s: Session, payment_id: int) -> LedgerEntry:
    entry = s.get(LedgerEntry, payment_id)
    if entry is None or entry.kind not in ("payment", "top_up"):
        raise LedgerError(
            f"there is no payment {payment_id}: `jet payment list ACCOUNT` shows their numbers"
        )
    return entry


def taken_back(s: Session, payment: LedgerEntry) -> Decimal:
    """How much of a payment has been refunded or reversed already."""
    return sum(
        s.scalars(select(LedgerEntry.amount).where(LedgerEntry.related_id == payment.id)), ZERO
    )


def take_back(
    s: Session,
    actor: Actor,
    payment_id: int,
    kind: str,
    reason: str,
    *,
    amount: str | Decimal | None = None,
    day: date | None = None,
    key: str | None = None,
    method: str | None = None,
) -> LedgerEntry:
    """Refund (`kind` refund) or reverse (`kind` reversal: a returned debit, a
    charge-back) all or `amount` of a payment. What the payment paid is reopened, newest
    first, as far as its unused part does not cover it; other credit then pays it."""
    if kind not in ("refund", "reversal"):
        raise ValueError(kind)
    if not reason.strip():
        raise LedgerError(f"a {kind} needs a reason (--reason), which the ledger keeps")
    payment = _payment(s, payment_id)
    account = s.get(Account, payment.account_id)
    places, currency = _places(s, account)
    left = -payment.amount - taken_back(s, payment)
    wanted = left if amount is None else parse_amount(amount, places, currency)
    if left <= 0:
        raise LedgerError(f"payment {payment_id} was refunded or reversed in full already")
    if wanted > left:
        raise LedgerError(
            f"payment {payment_id} has {currency} {left} left to take back; "
            f"{wanted} is more than that"
        )
    _release(s, payment, wanted)
    day = day or datetime.now(UTC).date()
    entry = post(
        s, account, kind, wanted, day,
        related_id=payment.id, reason=reason.strip(), key=key, method=method or payment.method,
    )  # fmt: skip
    s.add(Allocation(credit_id=payment.id, debit_id=entry.id, amount=wanted, at=entry.recorded_at))
    after = {"payment": payment.id, "amount": str(wanted), "reason": reason.strip()}
    topic = "payment.refunded" if kind == "refund" else "payment.reversed"
    _announce(s, actor, f"payment.{kind}", topic, entry, after)
    settle(s, account.id)
    return entry


def _release(s: Session, payment: LedgerEntry, wanted: Decimal) -> None:
    """Free `wanted` of a payment: its unused part first, then what it paid, newest
    debit first (negative allocations)."""
    given: dict[int, Decimal] = {}
    for debit, amount in s.execute(
        select(Allocation.debit_id, Allocation.amount).where(Allocation.credit_id == payment.id)
    ):
        given[debit] = given.get(debit, ZERO) + amount
    unused = -payment.amount - sum(given.values(), ZERO)
    need = wanted - unused
    now = datetime.now(UTC)
    own = set(s.scalars(select(LedgerEntry.id).where(LedgerEntry.related_id == payment.id)))
    for debit in sorted(set(given) - own, reverse=True):
        if need <= 0:
            break
        back = min(need, given[debit])
        if back > 0:
            s.add(Allocation(credit_id=payment.id, debit_id=debit, amount=-back, at=now))
            need -= back
    s.flush()


def write_off(
    s: Session, actor: Actor, invoice_number: str, reason: str, day: date | None = None
) -> LedgerEntry:
    """Write off what is still open of an invoice (a debt given up): a credit entry meant
    for that invoice."""
    entry = s.scalar(
        select(LedgerEntry)
        .join(Invoice, Invoice.id == LedgerEntry.invoice_id)
        .where(Invoice.number == invoice_number)
    )
    if entry is None or entry.kind != "invoice":
        raise LedgerError(f"there is no invoice numbered {invoice_number} to write off")
    left = entry.amount - sum(paid_of(s, [entry.id]).values(), ZERO)
    if left <= 0:
        raise LedgerError(f"{invoice_number} is paid; there is nothing to write off")
    account = s.get(Account, entry.account_id)
    day = day or datetime.now(UTC).date()
    off = post(s, account, "write_off", -left, day, target_id=entry.id, reason=reason)
    after = {"invoice": invoice_number, "amount": str(left), "reason": reason}
    _announce(s, actor, "invoice.written_off", "invoice.written_off", off, after)
    settle(s, account.id)
    return off


def _announce(
    s: Session, actor: Actor, action: str, topic: str, entry: LedgerEntry, after: dict
) -> None:
    """The audit row and the event of a new entry, in its transaction."""
    account_id = entry.account_id
    record(s, actor, action, "ledger", str(entry.id), account_id=account_id, after=after)
    payload = {"entry": entry.id, "account": account_id, "currency": entry.currency, **after}
    publish(s, topic, account_id, payload)


def entries(s: Session, account_id: str) -> list[LedgerEntry]:
    """The account's entries, oldest first."""
    return list(
        s.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.account_id == account_id)
            .order_by(LedgerEntry.entry_date, LedgerEntry.id)
        )
    )
