"""What a customer does from the portal, each through the core function the matching
`jet` command or console action calls, as the customer (`Customer.actor`: account id,
channel "portal", so the audit names them). Every account id and invoice number given is
checked with `own` first (refusals audited); a user under a company cannot act on its
siblings, nor on the company's bills."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from apps.streamlit.data.actions import what_if_plan
from apps.streamlit.data.portal import own_document
from jet import accounts
from jet.account_views import invoice_holder
from jet.card_charges import CardPayment, pay_invoice_now, top_up_now
from jet.config import Settings
from jet.contact_messages import leave_message
from jet.customer_access import Customer, own
from jet.errors import JetError
from jet.ledger_documents import receipt
from jet.money import format_money, minor_units
from jet.portal_logins import portal_sign_in, set_portal_password
from jet.realms import catalog_on
from jet.store.db import session
from reports.receipt_pdf import write_receipt

# What a customer may change of its details; the kind, the parent and staff's notes are
# staff's (`jet account set`).
EDITABLE = ("name", "email", "phone", "address", "country", "tax_id", "delivery")


class NotOffered(JetError):
    """A plan the realm does not offer in its portal."""


def pay_invoice(
    settings: Settings,
    customer: Customer,
    number: str,
    card_number: str,
    expiry: str,
    cvc: str | None,
    key: str | None = None,
) -> dict[str, Any]:
    """Pay what is due on invoice `number` by the card typed in, through the realm's
    gateway: the result at once, charged (with the receipt) or declined (with the
    gateway's reason). `key` (one per form shown) makes a second submit charge nothing.
    A bad card number or expiry raises `jet.gateways.CardError` and charges nothing."""
    with session(settings.db_url) as s:
        own_document(s, customer, invoice_holder(s, number), f"invoice {number!r}"[:100])
        paid = pay_invoice_now(s, customer.actor, number, card_number, expiry, cvc, key=key)
    return _result(settings, paid, invoice=number)


def top_up(
    settings: Settings,
    customer: Customer,
    account_id: str,
    amount: str | Decimal,
    card_number: str,
    expiry: str,
    cvc: str | None,
    key: str | None = None,
) -> dict[str, Any]:
    """Add `amount` to a prepaid account's credit, charged to the card typed in; the
    result as `pay_invoice` gives it."""
    with session(settings.db_url) as s:
        own(s, customer, account_id, "top up")
        paid = top_up_now(s, customer.actor, account_id, amount, card_number, expiry, cvc, key=key)
    return _result(settings, paid)


def update_details(
    settings: Settings, customer: Customer, account_id: str, **changes: str | None
) -> dict[str, Any]:
    """Change any of `EDITABLE` (None leaves one as it is, "" clears one that may be
    empty), as `jet account set` does; the details now."""
    refused = set(changes) - set(EDITABLE)
    if refused:
        raise accounts.AccountError(
            f"{', '.join(sorted(refused))} cannot be changed here: ask the helpdesk "
            f"(Contact page); you may change {', '.join(EDITABLE)}"
        )
    with session(settings.db_url) as s:
        own(s, customer, account_id, "details")
        account = accounts.update_profile(s, customer.actor, account_id, **changes)
        return accounts.profile(account)


def change_password(settings: Settings, customer: Customer, old: str, new: str) -> str:
    """Set the customer's portal password to `new` once `old` is right, checked as a
    sign-in is (a wrong one is refused with `PortalLoginRefused`, audited, and counts
    toward the lockout). Setting it ends the customer's sessions, so the one it goes on
    with is a new one: its token."""
    with session(settings.db_url) as s:
        portal_sign_in(s, customer.account_id, old)
        set_portal_password(s, customer.actor, customer.account_id, new)
        return portal_sign_in(s, customer.account_id, new)


def plan_change_preview(
    settings: Settings, customer: Customer, account_id: str, plan: str, on: date | None = None
) -> dict[str, Any] | None:
    """The account's next invoice if it moved to the public plan `plan` on `on` (today),
    rated as `jet invoice preview` rates, nothing kept; `effect` holds its lines from `on`
    (the old plan's unused part refunded pro rata, the new one's charges) and
    `effect_total` their sum before tax. None: no invoice would come."""
    on = on or date.today()
    with session(settings.db_url) as s:
        own(s, customer, account_id, "plan preview")
        _offered(s, customer, plan, on)
    draft = what_if_plan(settings, account_id, plan, on, customer.actor)
    if draft is None:
        return None
    effect = [line for line in draft["lines"] if line["period_start"] >= on.isoformat()]
    total = sum((Decimal(line["amount"]) for line in effect), Decimal(0))
    return {**draft, "effect": effect, "effect_total": str(total)}


def change_plan(
    settings: Settings, customer: Customer, account_id: str, plan: str, on: date | None = None
) -> int:
    """Move the account to the public plan `plan` from `on` (today), pro rata, as the
    console does; its open sessions get a CoA with the new plan's attributes (the
    `plan.changed` event). The new subscription's id."""
    on = on or date.today()
    with session(settings.db_url) as s:
        own(s, customer, account_id, "plan change")
        _offered(s, customer, plan, on)
        return accounts.change_plan(s, account_id, plan, on, actor=customer.actor).id


def contact(
    settings: Settings, customer: Customer, account_id: str, subject: str, body: str
) -> int:
    """A message to the realm's support, kept on the account for the helpdesk to see in
    the console (and e-mailed to the realm's support address when it has one); its id."""
    with session(settings.db_url) as s:
        own(s, customer, account_id, "contact")
        return leave_message(s, customer.actor, account_id, subject, body)


def _offered(s, customer: Customer, plan: str, on: date) -> None:
    """NotOffered unless the realm's portal offers `plan` on `on`."""
    catalog = catalog_on(s, customer.realm_id, on)
    portal = catalog.realm.portal if catalog is not None else None
    public = portal.plans if portal is not None else ()
    if plan not in public:
        offered = ", ".join(public) or "none"
        raise NotOffered(f"plan {plan!r} is not offered here: choose one of {offered}")


def _result(settings: Settings, paid: CardPayment, invoice: str | None = None) -> dict[str, Any]:
    """What the Pay page shows: charged with its receipt, or declined with the reason."""
    charge = paid.charge
    amount = format_money(charge.amount, minor_units(charge.currency))
    card = f"{paid.brand} ending {paid.last4}"
    result = {
        "charged": paid.charged,
        "reason": charge.reason,
        "amount": amount,
        "currency": charge.currency,
        "card": card,
        "reference": charge.reference,
        "invoice": invoice,
        "receipt_id": charge.entry_id,
        "receipt_path": None,
    }
    if paid.charged:
        with session(settings.db_url) as s:
            doc = receipt(s, charge.entry_id)
        result["receipt_path"] = str(write_receipt(doc, settings))
        result["message"] = f"{charge.currency} {amount} charged to {card}"
    else:
        result["message"] = f"{card} was declined ({charge.reason}): nothing was charged"
    return result
