"""Cards stored for billing accounts, at the gateway their realm's catalog names.

The number is checked (digits, Luhn, expiry) before the gateway sees it, and only the
gateway's token, the brand, the last four digits and the expiry are kept; a card that
fails a check stores nothing. Each change writes its audit row and its event in the
caller's transaction (`jet card add|list|remove`, the portal)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from jet.accounts import get_account, paying_account
from jet.audit import Actor, record
from jet.catalog import Gateway as GatewaySettings
from jet.gateways import CardError, Gateway, parse_card, secret
from jet.outbox import publish
from jet.realms import catalog_on
from jet.sandbox_gateway import SandboxGateway
from jet.store.models import PaymentCard

# The gateways this Jet ships, by the catalog's `gateway.kind`.
GATEWAYS = {"sandbox": SandboxGateway}


def realm_gateway(s: Session, realm_id: str, day: date) -> tuple[Gateway, GatewaySettings]:
    """The realm's gateway in effect on `day`, with its secret from the environment, and
    its settings (`retry_days`); a CardError if the realm has none."""
    catalog = catalog_on(s, realm_id, day)
    settings = catalog.realm.gateway if catalog is not None else None
    if settings is None:
        raise CardError(
            f"realm {realm_id} takes no cards: give its catalog's realm block a `gateway` "
            "(e.g. {kind: sandbox}, docs/cards.md) and load it with `jet catalog load`"
        )
    return GATEWAYS[settings.kind](secret(settings.kind, settings.secret_env, realm_id)), settings


def add_card(
    s: Session,
    actor: Actor,
    account_id: str,
    number: str,
    expiry: str,
    cvc: str | None = None,
    today: date | None = None,
) -> PaymentCard:
    """Store a card for the billing account at its realm's gateway; from now on it is the
    card its invoices and top-ups are charged to."""
    today = today or datetime.now(UTC).date()
    account = paying_account(s, account_id, "store the card", CardError)
    card = parse_card(number, expiry, cvc, today)
    gateway, settings = realm_gateway(s, account.realm_id, today)
    stored = gateway.store(card)
    row = PaymentCard(
        account_id=account_id,
        gateway=settings.kind,
        token=stored.token,
        brand=stored.brand,
        last4=stored.last4,
        exp_month=stored.exp_month,
        exp_year=stored.exp_year,
        added_at=datetime.now(UTC),
    )
    s.add(row)
    s.flush()
    _announce(s, actor, "card.added", row)
    return row


def remove_card(s: Session, actor: Actor, account_id: str, card_id: int) -> PaymentCard:
    """Stop charging a stored card (its row stays, for the charges made to it)."""
    row = s.get(PaymentCard, card_id)
    if row is None or row.account_id != account_id or row.removed_at is not None:
        raise CardError(
            f"{account_id} has no stored card {card_id}: "
            f"`jet card list {account_id}` shows its cards"
        )
    row.removed_at = datetime.now(UTC)
    _announce(s, actor, "card.removed", row)
    return row


def cards(s: Session, account_id: str) -> list[PaymentCard]:
    """The account's stored cards, the one charged first."""
    get_account(s, account_id)
    return list(
        s.scalars(
            select(PaymentCard)
            .where(PaymentCard.account_id == account_id, PaymentCard.removed_at.is_(None))
            .order_by(PaymentCard.id.desc())
        )
    )


def shown(card: PaymentCard) -> dict:
    """A stored card as people see it."""
    return {
        "id": card.id,
        "brand": card.brand,
        "last4": card.last4,
        "expiry": f"{card.exp_month:02d}/{card.exp_year}",
        "gateway": card.gateway,
    }


def _announce(s: Session, actor: Actor, action: str, card: PaymentCard) -> None:
    after = shown(card)
    record(s, actor, action, "payment_card", str(card.id), account_id=card.account_id, after=after)
    publish(s, action, card.account_id, {"account": card.account_id, **after})
