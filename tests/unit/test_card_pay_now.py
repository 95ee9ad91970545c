"""Paying an invoice, or topping up, with a card typed in (the portal's Pay page) through
the sandbox gateway: the card is not kept, the attempt is, a payment goes through the
ledger's one door, and a second submit with the same key charges nothing."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from jet.accounts import update_account
from jet.audit import Actor
from jet.card_charges import pay_invoice_now, top_up_now
from jet.gateways import CardError
from jet.ledger import balance
from jet.store.db import session
from jet.store.models import AuditEntry, CardCharge, Event, LedgerEntry, PaymentCard
from tests.ledger_fixtures import acme, issue

BOB = Actor("bob", "portal")
DAY = date(2026, 3, 10)
OK, DECLINED = "4242 4242 4242 4242", "4000 0000 0000 9995"


@pytest.fixture
def db(settings, monkeypatch):
    """acme's `bob` with an invoice of 80.00 (its number in `db.number`)."""
    monkeypatch.setenv("ACME_GATEWAY_KEY", "sk_test_acme")
    with session(settings.db_url) as s:
        acme(s)
        number = issue(s, "bob", date(2026, 3, 1), "80.00").number
    return SimpleNamespace(db_url=settings.db_url, number=number)


def test_a_typed_card_pays_what_is_open_and_is_not_kept(db):
    with session(db.db_url) as s:
        paid = pay_invoice_now(s, BOB, db.number, OK, "12/30", "123", key="form-1", day=DAY)
        assert paid.charged and (paid.brand, paid.last4) == ("visa", "4242")
        entry = s.get(LedgerEntry, paid.charge.entry_id)
        assert (entry.amount, entry.method, entry.reference) == (-80, "card", paid.charge.reference)
        assert balance(s, "bob") == 0
        assert s.scalar(select(func.count()).select_from(PaymentCard)) == 0
        assert paid.charge.card_id is None and paid.charge.invoice_entry_id is not None
        audit = s.scalars(select(AuditEntry).where(AuditEntry.action == "payment.recorded"))
        assert [(a.actor, a.channel, a.after["invoice"]) for a in audit] == [
            ("bob", "portal", db.number)
        ]
        written = [str(a.after) for a in s.scalars(select(AuditEntry))]
        written += [str(e.payload) for e in s.scalars(select(Event))]
        assert not any("4242424242424242" in w or "123" in w.split("'") for w in written)
    with session(db.db_url) as s:  # the same form submitted again
        again = pay_invoice_now(s, BOB, db.number, OK, "12/30", "123", key="form-1", day=DAY)
        assert again.charge.id == paid.charge.id
        assert s.scalar(select(func.count()).select_from(CardCharge)) == 1
    with session(db.db_url) as s, pytest.raises(CardError, match="is paid: nothing is due"):
        pay_invoice_now(s, BOB, db.number, OK, "12/30", "123", day=DAY)


def test_a_decline_keeps_the_attempt_and_its_reason_and_takes_nothing(db):
    with session(db.db_url) as s:
        paid = pay_invoice_now(s, BOB, db.number, DECLINED, "12/30", None, day=DAY)
        assert not paid.charged and paid.charge.reason == "insufficient_funds"
        assert paid.charge.entry_id is None and balance(s, "bob") == 80
        (declined,) = s.scalars(select(AuditEntry).where(AuditEntry.action == "card.declined"))
        assert declined.actor == "bob" and declined.after["invoice"] == db.number
        assert s.scalar(select(func.count()).where(Event.topic == "card.declined")) == 1
        assert s.scalar(select(func.count()).where(Event.topic == "card.charge_due")) == 0


def test_bad_cards_and_unknown_invoices_charge_nothing(db):
    for number, expiry, match in (
        ("4242 4242 4242 4241", "12/30", "Luhn"),
        (OK, "13/30", "month"),
        ("4111 1111 1111 1111", "12/30", "only test cards"),
    ):
        with session(db.db_url) as s, pytest.raises(CardError, match=match):
            pay_invoice_now(s, BOB, db.number, number, expiry, None, day=DAY)
    with session(db.db_url) as s, pytest.raises(CardError, match="no invoice ACME-X"):
        pay_invoice_now(s, BOB, "ACME-X", OK, "12/30", None, day=DAY)
    with session(db.db_url) as s:
        assert s.scalar(select(func.count()).select_from(CardCharge)) == 0


def test_a_top_up_by_typed_card_for_prepaid_accounts_only(db):
    with session(db.db_url) as s, pytest.raises(CardError, match="bob is not prepaid"):
        top_up_now(s, BOB, "bob", "20.00", OK, "12/30", None, day=DAY)
    with session(db.db_url) as s:
        update_account(s, "bob", prepaid=True, actor=BOB)
    with session(db.db_url) as s:
        paid = top_up_now(s, BOB, "bob", "100.00", OK, "12/30", None, key="t1", day=DAY)
        assert paid.charged and s.get(LedgerEntry, paid.charge.entry_id).kind == "top_up"
        assert balance(s, "bob") == -20  # the invoice's 80.00 paid, 20.00 of credit left
        with pytest.raises(CardError, match="used for another payment"):
            top_up_now(s, BOB, "bob", "5.00", OK, "12/30", None, key="t1", day=DAY)
