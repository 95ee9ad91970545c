"""What a card gateway does for Jet, and the card a customer gives before it does it.

A gateway stores a card and hands back a token (Jet keeps the token, brand, last four
digits and expiry, never the number or CVC), charges a token and refunds a charge. Each
charge and refund carries an idempotency key: a gateway that sees a key again answers
as it did the first time and moves no money, which is what makes a repeated delivery of
an event safe (docs/cards.md). The realm's catalog names the gateway (`gateway.kind`)
and the environment variable its secret is in (`gateway.secret_env`)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol

from jet.errors import JetError

BRANDS = (("amex", ("34", "37")), ("mastercard", ("51", "52", "53", "54", "55", "2")),
          ("visa", ("4",)))  # fmt: skip


class CardError(JetError, ValueError):
    """A card that cannot be stored or charged as given; nothing was stored."""


class GatewayError(JetError, RuntimeError):
    """The gateway cannot be reached or is not configured: try again once it is."""


@dataclass(frozen=True, slots=True)
class Card:
    """A card as the customer typed it: held in memory only, on its way to the gateway."""

    number: str
    exp_month: int
    exp_year: int
    cvc: str | None = None

    @property
    def brand(self) -> str:
        return next((b for b, starts in BRANDS if self.number.startswith(starts)), "card")


@dataclass(frozen=True, slots=True)
class Stored:
    """What Jet keeps of a stored card."""

    token: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int


@dataclass(frozen=True, slots=True)
class Outcome:
    """A gateway's answer to a charge: `reason` is None when the money was taken, else
    its decline code (card_declined, insufficient_funds, expired_card, processing_error)."""

    reference: str
    reason: str | None = None

    @property
    def charged(self) -> bool:
        return self.reason is None


class Gateway(Protocol):
    def store(self, card: Card) -> Stored: ...

    def charge(self, token: str, amount: Decimal, currency: str, key: str, on: date) -> Outcome: ...

    def refund(self, reference: str, amount: Decimal, currency: str, key: str) -> str: ...


def luhn_ok(number: str) -> bool:
    """The Luhn check digit every card number ends with."""
    total = 0
    for i, digit in enumerate(int(d) for d in reversed(number)):
        if i % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def parse_card(number: str, expiry: str, cvc: str | None, today: date) -> Card:
    """The card, or a CardError naming what is wrong with it: digits (spaces and dashes
    allowed), the Luhn check, an expiry MM/YY or MM/YYYY not before this month, a CVC of
    three or four digits."""
    digits = re.sub(r"[ -]", "", number)
    if not digits.isdigit() or not 12 <= len(digits) <= 19:
        raise CardError("the card number must be 12 to 19 digits (spaces allowed)")
    if not luhn_ok(digits):
        raise CardError(
            "the card number fails the Luhn check (a digit is mistyped): check it and try again"
        )
    found = re.fullmatch(r"\s*(\d{1,2})\s*/\s*(\d{2}|\d{4})\s*", expiry)
    if not found or not 1 <= int(found[1]) <= 12:
        raise CardError(f"expiry {expiry!r} is not a month: give MM/YY, e.g. 08/29")
    month, year = int(found[1]), int(found[2])
    year += 2000 if year < 100 else 0
    if (year, month) < (today.year, today.month):
        raise CardError(f"the card expired at the end of {month:02d}/{year}: give one in date")
    if cvc is not None and not re.fullmatch(r"\d{3,4}", cvc.strip()):
        raise CardError("the CVC must be the 3 or 4 digits on the card")
    return Card(digits, month, year, cvc and cvc.strip())


def secret(kind: str, secret_env: str | None, realm_id: str) -> str | None:
    """The gateway's secret from the environment variable the catalog names (none named:
    None), or a GatewayError saying which variable to set."""
    if secret_env is None:
        return None
    value = os.environ.get(secret_env, "").strip()
    if not value:
        raise GatewayError(
            f"{secret_env} is not set: realm {realm_id}'s {kind} gateway reads its key from "
            f"it (catalog `realm.gateway.secret_env`); export it where Jet runs"
        )
    return value
