"""The `sandbox` card gateway: in process, no network, behaving like the public test
cards of the big gateways, so the portal and the tests pay for real inside Jet.

4242 4242 4242 4242 (visa), 5555 5555 5555 4444 (mastercard) and 3782 822463 10005
(amex) are charged; 4000 0000 0000 0002 is declined (card_declined), ...9995 for
insufficient_funds, ...0069 as expired_card and ...0119 with a processing_error. Any
other number is refused when stored, as a gateway in test mode refuses real cards.

The sandbox keeps nothing: a token says which test card it stands for (as the big
gateways' test tokens do) and a charge's reference is derived from its idempotency key,
so a charge repeated with its key answers the same and takes nothing twice."""

from __future__ import annotations

import hashlib
import secrets
from datetime import date
from decimal import Decimal

from jet.gateways import Card, CardError, GatewayError, Outcome, Stored

SUCCEEDS = ("4242424242424242", "5555555555554444", "378282246310005")
DECLINES = {
    "4000000000000002": "card_declined",
    "4000000000009995": "insufficient_funds",
    "4000000000000069": "expired_card",
    "4000000000000119": "processing_error",
}
PREFIX = "sbx_"


class SandboxGateway:
    """The sandbox; `key` is the realm's secret, when its catalog names one."""

    def __init__(self, key: str | None) -> None:
        self.key = key

    def store(self, card: Card) -> Stored:
        if card.number in SUCCEEDS:
            behaviour = "ok"
        elif card.number in DECLINES:
            behaviour = DECLINES[card.number]
        else:
            raise CardError(
                "the sandbox gateway takes only test cards: 4242 4242 4242 4242 is charged, "
                "4000 0000 0000 0002 / 9995 / 0069 / 0119 are declined (docs/cards.md)"
            )
        token = f"{PREFIX}{behaviour}_{card.exp_year}{card.exp_month:02d}_{secrets.token_hex(8)}"
        return Stored(token, card.brand, card.number[-4:], card.exp_month, card.exp_year)

    def charge(self, token: str, amount: Decimal, currency: str, key: str, on: date) -> Outcome:
        if not token.startswith(PREFIX):
            raise GatewayError(f"token {token[:12]}... is not the sandbox's: store the card again")
        behaviour, expiry, _ = token[len(PREFIX) :].rsplit("_", 2)
        reference = _reference("ch", key)
        if (on.year, on.month) > (int(expiry[:4]), int(expiry[4:])):
            return Outcome(reference, "expired_card")
        return Outcome(reference, None if behaviour == "ok" else behaviour)

    def refund(self, reference: str, amount: Decimal, currency: str, key: str) -> str:
        if not reference.startswith(PREFIX + "ch_"):
            raise GatewayError(f"{reference} is not a sandbox charge: refund it where it was taken")
        return _reference("re", key)


def _reference(kind: str, key: str) -> str:
    return f"{PREFIX}{kind}_{hashlib.sha256(key.encode()).hexdigest()[:20]}"
