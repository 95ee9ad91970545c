"""Taking money from stored cards: an invoice when it is issued and on the realm's retry
days after a decline, a prepaid account's top-up, and refunds of card payments.

Charging an issued invoice is a subscriber of the outbox (`invoice.issued`, then the
`card.charge_due` events a decline schedules), not part of the issue step: the gateway
is another system, which must not be called inside the issue transaction (a rollback
after a charge would lose the payment; a slow gateway would hold the store). Delivery is
at least once, so each attempt has a key, (invoice, attempt), sent to the gateway as its
idempotency key and stored unique with the attempt (`CardCharge`): a repeated event
finds its attempt made and does nothing; one repeated after a crash before its commit
asks the gateway again with the same key, which answers as before and takes nothing
twice. A payment goes into the ledger through `jet.ledger.record_payment` with that key,
a refund through `jet.ledger.take_back`, the one door of each (docs/cards.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import uuid4

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jet.accounts import paying_account
from jet.audit import Actor, record
from jet.cards import cards, realm_gateway
from jet.config import Settings
from jet.deliveries import Delivered, Failed, Result, Subscriber
from jet.gateways import CardError, Gateway, GatewayError, Outcome, parse_card
from jet.ledger import ZERO, open_entries, parse_amount, record_payment, take_back
from jet.outbox import event_row, publish
from jet.signup import first_top_up_due
from jet.store.db import session
from jet.store.models import (
    Account,
    CardCharge,
    Event,
    Invoice,
    LedgerEntry,
    PaymentCard,
    Realm,
)

TOPICS = frozenset({"invoice.issued", "card.charge_due"})
GATEWAY = Actor("card-gateway", "gateway")


def charge_invoice(s: Session, entry_id: int, attempt: int, day: date) -> str:
    """Charge what is still open of an issued invoice (ledger entry `entry_id`) to the
    account's card, as attempt `attempt` (0 on issue) on `day`; what happened, in words.
    A decline schedules the next attempt on the realm's `retry_days` after the issue,
    until they run out and the invoice is left to dunning."""
    key = f"card:invoice:{entry_id}:{attempt}"
    made = s.scalar(select(CardCharge).where(CardCharge.key == key))
    if made is not None:
        return f"attempt {attempt} was made already ({made.outcome})"
    debit = s.get(LedgerEntry, entry_id)
    account = s.get(Account, debit.account_id)
    stored = cards(s, account.id)  # first: most accounts have none
    if account.status == "closed" or not stored:
        return f"{account.id} has no card to charge ({account.status})"
    number = debit.invoice.number
    left = next((d.left for d in open_entries(s, account.id)[1] if d.entry.id == entry_id), ZERO)
    if left <= 0:
        return f"{number} is paid: nothing to charge"
    try:
        gateway, settings = realm_gateway(s, account.realm_id, day)
    except CardError as err:
        return f"not charged: {err}"
    card = stored[0]
    outcome = gateway.charge(card.token, left, debit.currency, key, day)
    charge = _attempt(s, card, "charge", key, left, debit.currency, outcome)
    charge.invoice_entry_id, charge.attempt = entry_id, attempt
    if outcome.charged:
        paid = record_payment(s, GATEWAY, account.id, left, "card", reference=outcome.reference,
                              day=day, invoice=number, key=key)  # fmt: skip
        charge.entry_id = paid.id
        return f"charged {debit.currency} {left} of {number} to {card.brand} {card.last4}"
    retry = None
    if attempt < len(settings.retry_days):
        retry = _utc(debit.invoice.issued_at) + timedelta(days=settings.retry_days[attempt])
        payload = {"entry": entry_id, "invoice": number, "attempt": attempt + 1}
        s.add(Event(**event_row("card.charge_due", account.id, payload, due_at=retry,
                                key=f"card:retry:{entry_id}:{attempt + 1}")))  # fmt: skip
    _declined(s, GATEWAY, charge, {"invoice": number, "retry": retry})
    then = f"tried again {retry:%Y-%m-%d %H:%M} UTC" if retry else "left to dunning"
    return f"{number}: {card.brand} {card.last4} declined ({outcome.reason}); {then}"


def top_up(
    s: Session,
    actor: Actor,
    account_id: str,
    amount: str | Decimal,
    key: str | None = None,
    day: date | None = None,
) -> CardCharge:
    """Charge `amount` to a prepaid account's card and record it as a top-up; the
    attempt, charged or declined. The same `key` again returns the first attempt and
    charges nothing."""
    account, realm, amount = _prepaid(s, account_id, amount)
    key = f"card:top_up:{key or uuid4().hex}"
    made = _made(s, key, account_id, amount)
    if made is not None:
        return made
    stored = cards(s, account_id)
    if not stored:
        raise CardError(f"{account_id} has no stored card: `jet card add {account_id}` first")
    day = day or datetime.now(UTC).date()
    gateway, _ = realm_gateway(s, account.realm_id, day)
    return _charge(s, actor, gateway, stored[0], stored[0].token, amount, key, day, kind="top_up")


def _prepaid(s: Session, account_id: str, amount: str | Decimal) -> tuple[Account, Realm, Decimal]:
    """The prepaid billing account a top-up goes to, its realm, and the amount checked."""
    account = paying_account(s, account_id, "top up", CardError)
    if not account.prepaid:
        raise CardError(
            f"{account_id} is not prepaid: its invoices are charged to its card when issued; "
            f"`jet payment record {account_id} AMOUNT --method card` records a card payment"
        )
    realm = s.get(Realm, account.realm_id)
    return account, realm, parse_amount(amount, realm.minor_units, realm.currency)


@dataclass(frozen=True, slots=True)
class CardPayment:
    """A charge of a card typed in (the portal's Pay page): the attempt as the gateway
    answered (`charge.entry_id` the payment's ledger entry, None when declined) and the
    card as people see it."""

    charge: CardCharge
    brand: str
    last4: str

    @property
    def charged(self) -> bool:
        return self.charge.outcome == "charged"


def pay_invoice_now(
    s: Session,
    actor: Actor,
    number: str,
    card_number: str,
    expiry: str,
    cvc: str | None,
    key: str | None = None,
    day: date | None = None,
) -> CardPayment:
    """Charge what is still open of issued invoice `number` to a card the customer types
    in, now, and record it against that invoice (`record_payment`). The card is checked
    as a stored one is and sent to the realm's gateway, but not kept: Jet keeps only the
    attempt. The same `key` again returns the first attempt and charges nothing (a page
    submitted twice)."""
    day = day or datetime.now(UTC).date()
    debit = s.scalar(
        select(LedgerEntry)
        .join(Invoice, Invoice.id == LedgerEntry.invoice_id)
        .where(Invoice.number == number, Invoice.kind == "invoice")
    )
    if debit is None:
        raise CardError(f"there is no invoice {number}: give the number printed on it")
    key = f"card:pay:{debit.id}:{key or uuid4().hex}"
    left = next((d.left for d in open_entries(s, debit.account_id)[1] if d.entry.id == debit.id),
                ZERO)  # fmt: skip
    if left <= 0 and _made(s, key, debit.account_id, None) is None:
        raise CardError(f"{number} is paid: nothing is due on it")
    paying_account(s, debit.account_id, "pay the invoice", CardError)
    return _charge_typed(
        s, actor, debit.account_id, (card_number, expiry, cvc), left, key, day,
        kind="charge", invoice=number, entry_id=debit.id,
    )  # fmt: skip


def top_up_now(
    s: Session,
    actor: Actor,
    account_id: str,
    amount: str | Decimal,
    card_number: str,
    expiry: str,
    cvc: str | None,
    key: str | None = None,
    day: date | None = None,
) -> CardPayment:
    """A prepaid account's top-up charged to a card typed in (not kept), as `top_up`
    charges the stored one; at least the first top-up its realm asks of a new account."""
    _, _, amount = _prepaid(s, account_id, amount)
    first = first_top_up_due(s, account_id)
    if first is not None and amount < first:
        asked = f"the first top-up of {account_id} is at least {first}"
        raise CardError(f"{asked}: top up {first} or more")
    key = f"card:top_up:{key or uuid4().hex}"
    day = day or datetime.now(UTC).date()
    return _charge_typed(s, actor, account_id, (card_number, expiry, cvc), amount, key, day,
                         kind="top_up")  # fmt: skip


def _charge_typed(
    s: Session,
    actor: Actor,
    account_id: str,
    typed: tuple[str, str, str | None],
    amount: Decimal,
    key: str,
    day: date,
    *,
    kind: str,
    invoice: str | None = None,
    entry_id: int | None = None,
) -> CardPayment:
    """Charge `amount` to the card `typed` (number, expiry, CVC), not kept, under
    idempotency `key`. An attempt already made with `key` is returned as it was."""
    card = parse_card(*typed, day)
    made = _made(s, key, account_id, amount if kind == "top_up" else None)
    if made is not None:
        return CardPayment(made, card.brand, card.number[-4:])
    gateway, _ = realm_gateway(s, s.get(Account, account_id).realm_id, day)
    stored = gateway.store(card)
    charge = _charge(s, actor, gateway, (account_id, None), stored.token, amount, key, day,
                     kind=kind, invoice=invoice)  # fmt: skip
    charge.invoice_entry_id = entry_id
    s.flush()
    return CardPayment(charge, stored.brand, stored.last4)


def _made(s: Session, key: str, account_id: str, amount: Decimal | None) -> CardCharge | None:
    """The attempt made with `key` already, if any; a CardError if it was another
    account's, or (`amount` given) of another amount."""
    made = s.scalar(select(CardCharge).where(CardCharge.key == key))
    if made is not None and (
        made.account_id != account_id or (amount is not None and made.amount != amount)
    ):
        raise CardError(f"key {key} was used for another payment: give a new one")
    return made


def _charge(
    s: Session,
    actor: Actor,
    gateway: Gateway,
    card: PaymentCard | tuple[str, None],
    token: str,
    amount: Decimal,
    key: str,
    day: date,
    *,
    kind: str,
    invoice: str | None = None,
) -> CardCharge:
    """One charge of `token` (the stored `card`, or a typed one's) for `amount`: the
    attempt row, and the payment (`kind` top_up: a top-up; else against `invoice` when
    given) or the decline's audit row and event."""
    account_id = card.account_id if isinstance(card, PaymentCard) else card[0]
    currency = s.get(Realm, s.get(Account, account_id).realm_id).currency
    outcome = gateway.charge(token, amount, currency, key, day)
    charge = _attempt(s, card, kind, key, amount, currency, outcome)
    if outcome.charged:
        paid = record_payment(
            s, actor, account_id, amount, "card", reference=outcome.reference, day=day,
            invoice=invoice, key=key, kind="top_up" if kind == "top_up" else "payment",
        )  # fmt: skip
        charge.entry_id = paid.id
    else:
        _declined(s, actor, charge, {"invoice": invoice} if invoice else {})
    return charge


def refund(
    s: Session,
    actor: Actor,
    payment_id: int,
    reason: str,
    amount: str | Decimal | None = None,
    day: date | None = None,
) -> LedgerEntry:
    """Refund a payment: one taken through a card gateway is paid back through it too
    (`jet payment refund`); any other is only recorded. The ledger entry comes first, so
    a refund the ledger refuses never reaches the gateway, and a gateway that fails
    rolls the entry back."""
    charge = s.scalar(
        select(CardCharge).where(CardCharge.entry_id == payment_id, CardCharge.outcome == "charged")
    )
    if charge is None:
        return take_back(s, actor, payment_id, "refund", reason, amount=amount, day=day)
    before = s.scalar(select(func.count()).where(LedgerEntry.related_id == payment_id))
    key = f"card:refund:{payment_id}:{before + 1}"
    entry = take_back(s, actor, payment_id, "refund", reason, amount=amount, day=day, key=key)
    account = s.get(Account, entry.account_id)
    gateway, _ = realm_gateway(s, account.realm_id, entry.entry_date)
    reference = gateway.refund(charge.reference, entry.amount, entry.currency, key)
    card = s.get(PaymentCard, charge.card_id)
    done = _attempt(s, card, "refund", key, entry.amount, entry.currency, reference)
    done.entry_id = entry.id
    return entry


def charges(s: Session, account_id: str) -> list[CardCharge]:
    """The account's gateway attempts, newest first."""
    return list(
        s.scalars(
            select(CardCharge)
            .where(CardCharge.account_id == account_id)
            .order_by(CardCharge.id.desc())
        )
    )


def _attempt(
    s: Session,
    card: PaymentCard | tuple[str, None],
    kind: str,
    key: str,
    amount: Decimal,
    currency: str,
    answer: Outcome | str,
) -> CardCharge:
    """The row of a call to the gateway: its charge `Outcome`, or a refund's reference;
    `card` the stored card, or (account, None) for a card typed in and not kept."""
    if isinstance(answer, str):
        outcome, reason, reference = "refunded", None, answer
    else:
        outcome = "charged" if answer.charged else "declined"
        reason, reference = answer.reason, answer.reference
    account_id, card_id = (card.account_id, card.id) if isinstance(card, PaymentCard) else card
    charge = CardCharge(
        account_id=account_id, card_id=card_id, kind=kind, key=key, at=datetime.now(UTC),
        amount=amount, currency=currency, outcome=outcome, reason=reason, reference=reference,
    )  # fmt: skip
    s.add(charge)
    return charge


def _declined(s: Session, actor: Actor, charge: CardCharge, more: dict[str, Any]) -> None:
    """A declined attempt's audit row and `card.declined` event (a customer e-mail may
    follow it)."""
    s.flush()
    after = {"kind": charge.kind, "amount": str(charge.amount), "reason": charge.reason, **more}
    after = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in after.items()}
    record(s, actor, "card.declined", "card_charge", str(charge.id), account_id=charge.account_id,
           after=after)  # fmt: skip
    publish(s, "card.declined", charge.account_id,
            {"account": charge.account_id, "currency": charge.currency, **after})  # fmt: skip


def deliver(settings: Settings, event: Event, progress: dict[str, Any]) -> Result:
    """Charge the invoice an event names, on the day the event took effect (so a
    repeated delivery records the same day)."""
    day = _utc(event.due_at or event.created_at).date()
    with session(settings.db_url) as s:
        if event.topic == "invoice.issued":
            entry_id, attempt = (
                s.scalar(
                    select(LedgerEntry.id)
                    .join(Invoice, Invoice.id == LedgerEntry.invoice_id)
                    .where(Invoice.number == event.payload["number"])
                ),
                0,
            )
        else:
            entry_id, attempt = event.payload["entry"], event.payload["attempt"]
        try:
            return Delivered(charge_invoice(s, entry_id, attempt, day))
        except GatewayError as err:
            return Failed(str(err))


def subscriber() -> Subscriber:
    """Charging issued invoices to stored cards; joins `jet.drivers.subscribers`. A batch
    of 20: a billing run's events are claimed and recorded 20 at a time, and a crash
    repeats at most 20 deliveries, each of which finds its attempt made."""
    return Subscriber("card-gateway", TOPICS, deliver, batch=20)


def _utc(moment: datetime) -> datetime:
    """SQLite hands back naive UTC, PostgreSQL an aware time in the session's zone."""
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
