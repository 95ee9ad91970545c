"""Stored cards and the sandbox gateway: the test cards' success and decline reasons,
cards refused before anything is stored, charges that are never made twice, top-ups,
and refunds paid back through the gateway."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from jet.accounts import add_accounts, update_account
from jet.audit import Actor
from jet.card_charges import charge_invoice, charges, refund, top_up
from jet.cards import add_card, cards, remove_card
from jet.catalog import CatalogError, load_catalog_file
from jet.cli import main
from jet.gateways import CardError, GatewayError, luhn_ok
from jet.ledger import balance, record_payment
from jet.realms import store_catalog
from jet.store.db import session
from jet.store.models import AuditEntry, CardCharge, Event, LedgerEntry, PaymentCard
from tests.ledger_fixtures import CATALOGS, acme, issue

ME = Actor("staff@acme.example", "cli")
TODAY = date(2026, 3, 10)
OK, DECLINED = "4242 4242 4242 4242", "4000 0000 0000 0002"
DECLINES = {
    "4000000000000002": "card_declined",
    "4000000000009995": "insufficient_funds",
    "4000000000000069": "expired_card",
    "4000000000000119": "processing_error",
}


@pytest.fixture
def db(settings, monkeypatch):
    monkeypatch.setenv("ACME_GATEWAY_KEY", "sk_test_acme")
    with session(settings.db_url) as s:
        acme(s)
    return settings.db_url


def stored(db) -> tuple[int, int, int]:
    """Cards, audit rows and events in the store."""
    with session(db) as s:
        return tuple(
            s.scalar(select(func.count()).select_from(t)) for t in (PaymentCard, AuditEntry, Event)
        )


def jet(*args: str):
    return CliRunner().invoke(main, list(args))


def test_luhn() -> None:
    assert luhn_ok("4242424242424242") and luhn_ok("378282246310005")
    assert not luhn_ok("4242424242424241")


def test_a_card_is_stored_as_token_brand_last4_and_expiry_only(db) -> None:
    done = jet("card", "add", "bob", "--number", OK, "--expiry", "08/29", "--cvc", "123")
    assert done.exit_code == 0, done.output
    with session(db) as s:
        (card,) = cards(s, "bob")
        row = {c: getattr(card, c) for c in ("brand", "last4", "exp_month", "exp_year")}
        assert row == {"brand": "visa", "last4": "4242", "exp_month": 8, "exp_year": 2029}
        kept = [str(v) for v in vars(card).values()]
        kept += [str(a.after) for a in s.scalars(select(AuditEntry))]
        kept += [str(e.payload) for e in s.scalars(select(Event))]
        assert s.scalars(select(Event.topic)).all()[-1] == "card.added"
    assert not any("4242424242424242" in v or v == "123" for v in kept)
    assert card.token.startswith("sbx_")
    assert "visa ending 4242, expires 08/2029" in jet("card", "list", "bob").output


@pytest.mark.parametrize(
    ("number", "expiry", "said"),
    [
        ("4242 4242 4242 4241", "08/29", "fails the Luhn check"),
        ("4242 4242 4242 424x", "08/29", "12 to 19 digits"),
        (OK, "02/26", "expired at the end of 02/2026"),
        (OK, "13/29", "is not a month"),
        ("4111 1111 1111 1111", "08/29", "takes only test cards"),
    ],
)
def test_a_bad_card_is_a_clear_error_and_stores_nothing(db, number, expiry, said) -> None:
    before = stored(db)
    with session(db) as s, pytest.raises(CardError, match=said):
        add_card(s, ME, "bob", number, expiry, today=TODAY)
    done = jet("card", "add", "bob", "--number", number, "--expiry", expiry)
    assert done.exit_code == 1 and said.split()[0] in done.output
    assert stored(db) == before


def test_cards_only_for_billing_accounts_and_with_the_secret_set(db, monkeypatch) -> None:
    with session(db) as s, pytest.raises(CardError, match="carol is billed to bob"):
        add_card(s, ME, "carol", OK, "08/29", today=TODAY)
    monkeypatch.delenv("ACME_GATEWAY_KEY")
    with session(db) as s, pytest.raises(GatewayError, match="ACME_GATEWAY_KEY is not set"):
        add_card(s, ME, "bob", OK, "08/29", today=TODAY)
    assert stored(db)[0] == 0


def test_the_newest_card_is_charged_and_a_removed_one_is_not(db) -> None:
    with session(db) as s:
        first = add_card(s, ME, "bob", DECLINED, "08/29", today=TODAY)
        second = add_card(s, ME, "bob", OK, "09/29", today=TODAY)
        assert [c.id for c in cards(s, "bob")] == [second.id, first.id]
    assert jet("card", "remove", "bob", str(second.id)).exit_code == 0
    with session(db) as s:
        assert [c.id for c in cards(s, "bob")] == [first.id]
        assert s.get(PaymentCard, second.id).removed_at is not None  # kept for its charges
        with pytest.raises(CardError, match="has no stored card"):
            remove_card(s, ME, "bob", second.id)
    assert "has no stored card" in jet("card", "remove", "carol", str(first.id)).output


def invoice_entry(s, account: str, total: str) -> int:
    invoice = issue(s, account, date(2026, 3, 1), total)
    return s.scalar(select(LedgerEntry.id).where(LedgerEntry.invoice_id == invoice.id))


def test_the_4242_card_pays_the_invoice_once(db) -> None:
    with session(db) as s:
        add_card(s, ME, "bob", OK, "08/29", today=TODAY)
        entry = invoice_entry(s, "bob", "33.00")
    with session(db) as s:
        said = charge_invoice(s, entry, 0, TODAY)
    assert said == "charged AUD 33.00 of ACME-000001 to visa 4242"
    with session(db) as s:  # the event delivered again: the attempt is made already
        assert "made already" in charge_invoice(s, entry, 0, TODAY)
        assert balance(s, "bob") == 0
        (payment,) = s.scalars(select(LedgerEntry).where(LedgerEntry.kind == "payment"))
        assert (payment.method, payment.key, payment.amount) == (
            "card", f"card:invoice:{entry}:0", Decimal("-33.00"))  # fmt: skip
        (charge,) = charges(s, "bob")
        assert (charge.outcome, charge.entry_id, charge.reference) == (
            "charged", payment.id, payment.reference)  # fmt: skip


@pytest.mark.parametrize(("number", "reason"), DECLINES.items())
def test_each_decline_reason_is_recorded_and_a_retry_scheduled(db, number, reason) -> None:
    with session(db) as s:
        add_card(s, ME, "bob", number, "08/29", today=TODAY)
        entry = invoice_entry(s, "bob", "33.00")
        issued = s.get(LedgerEntry, entry).invoice.issued_at.replace(tzinfo=UTC)
    with session(db) as s:
        said = charge_invoice(s, entry, 0, TODAY)
    assert f"declined ({reason}); tried again" in said
    with session(db) as s:
        (charge,) = charges(s, "bob")
        assert (charge.outcome, charge.reason, charge.attempt) == ("declined", reason, 0)
        assert balance(s, "bob") == Decimal("33.00")
        retry = s.scalar(select(Event).where(Event.topic == "card.charge_due"))
        assert retry.payload == {"entry": entry, "invoice": "ACME-000001", "attempt": 1}
        assert retry.due_at.replace(tzinfo=UTC) == issued + timedelta(days=1)
        declined = s.scalar(select(Event).where(Event.topic == "card.declined"))
        assert declined.payload["reason"] == reason


def test_a_decline_after_the_last_retry_day_is_left_to_dunning(db) -> None:
    with session(db) as s:
        add_card(s, ME, "bob", DECLINED, "08/29", today=TODAY)
        entry = invoice_entry(s, "bob", "33.00")
    for attempt in range(4):  # acme retries 1, 3 and 7 days after issue
        with session(db) as s:
            said = charge_invoice(s, entry, attempt, TODAY)
    assert said.endswith("left to dunning")
    with session(db) as s:
        due = s.scalars(select(Event.payload).where(Event.topic == "card.charge_due")).all()
        assert [p["attempt"] for p in due] == [1, 2, 3]


def test_an_invoice_paid_meanwhile_is_not_charged(db) -> None:
    with session(db) as s:
        add_card(s, ME, "bob", OK, "08/29", today=TODAY)
        entry = invoice_entry(s, "bob", "33.00")
        record_payment(s, ME, "bob", "33.00", "cash")
    with session(db) as s:
        assert charge_invoice(s, entry, 1, TODAY) == "ACME-000001 is paid: nothing to charge"
        assert charges(s, "bob") == []


def test_a_card_that_expired_since_it_was_stored_is_declined(db) -> None:
    with session(db) as s:
        add_card(s, ME, "bob", OK, "03/26", today=TODAY)
        entry = invoice_entry(s, "bob", "33.00")
    with session(db) as s:
        assert "declined (expired_card)" in charge_invoice(s, entry, 0, date(2026, 4, 1))


def prepaid(db) -> None:
    with session(db) as s:
        update_account(s, "bob", prepaid=True, actor=ME)


def test_a_top_up_is_charged_once_per_key(db) -> None:
    prepaid(db)
    with session(db) as s:
        add_card(s, ME, "bob", OK, "08/29", today=TODAY)
    for _ in range(2):
        done = jet("card", "charge", "bob", "20.00", "--key", "counter-7")
        assert done.exit_code == 0 and "topped up bob by AUD 20.00" in done.output
    with session(db) as s:
        (entry,) = s.scalars(select(LedgerEntry).where(LedgerEntry.kind == "top_up"))
        assert (entry.amount, entry.method) == (Decimal("-20.00"), "card")
        assert len(charges(s, "bob")) == 1


def test_a_declined_top_up_is_kept_and_tops_up_nothing(db) -> None:
    prepaid(db)
    with session(db) as s:
        add_card(s, ME, "bob", "4000 0000 0000 9995", "08/29", today=TODAY)
    done = jet("card", "charge", "bob", "20.00")
    assert done.exit_code == 1 and "declined (insufficient_funds)" in done.output
    with session(db) as s:
        assert [c.outcome for c in charges(s, "bob")] == ["declined"]
        assert balance(s, "bob") == 0


@pytest.mark.parametrize(
    ("amount", "said"), [("20.001", "more decimals than AUD"), ("-5", "not positive")]
)
def test_a_bad_top_up_stores_nothing(db, amount, said) -> None:
    prepaid(db)
    with session(db) as s:
        add_card(s, ME, "bob", OK, "08/29", today=TODAY)
    with session(db) as s, pytest.raises(Exception, match=said):
        top_up(s, ME, "bob", amount)
    with session(db) as s:
        assert charges(s, "bob") == [] and balance(s, "bob") == 0
    with session(db) as s, pytest.raises(CardError, match="carol is billed to bob"):
        top_up(s, ME, "carol", "5.00")


def test_a_postpaid_account_is_not_topped_up(db) -> None:
    with session(db) as s:
        add_card(s, ME, "bob", OK, "08/29", today=TODAY)
        with pytest.raises(CardError, match="bob is not prepaid"):
            top_up(s, ME, "bob", "20.00")


def test_a_card_payment_is_refunded_through_the_gateway(db) -> None:
    with session(db) as s:
        add_card(s, ME, "bob", OK, "08/29", today=TODAY)
        entry = invoice_entry(s, "bob", "33.00")
        charge_invoice(s, entry, 0, TODAY)
        payment = s.scalar(select(LedgerEntry.id).where(LedgerEntry.kind == "payment"))
        cash = record_payment(s, ME, "bob", "5.00", "cash").id
    done = jet("payment", "refund", str(payment), "--amount", "10.00", "--reason", "goodwill")
    assert done.exit_code == 0, done.output
    with session(db) as s:
        back = s.scalar(select(CardCharge).where(CardCharge.kind == "refund"))
        assert (back.outcome, back.amount, back.key) == (
            "refunded", Decimal("10.00"), f"card:refund:{payment}:1")  # fmt: skip
        assert back.reference.startswith("sbx_re_")
        refund(s, ME, cash, "counter")  # not a card payment: recorded, no gateway
        assert s.scalar(select(func.count()).where(CardCharge.kind == "refund")) == 1
    too_much = jet("payment", "refund", str(payment), "--amount", "30.00", "--reason", "x")
    assert too_much.exit_code == 1 and "left to take back" in too_much.output
    with session(db) as s:  # the refused refund reached neither the ledger nor the gateway
        assert s.scalar(select(func.count()).where(CardCharge.kind == "refund")) == 1
        assert balance(s, "bob") == Decimal("10.00")


def test_the_charge_event_delivered_twice_charges_once(settings, db) -> None:
    from jet.card_charges import deliver

    with session(db) as s:
        add_card(s, ME, "bob", OK, "08/29", today=TODAY)
        entry = invoice_entry(s, "bob", "33.00")
        event = Event(
            topic="card.charge_due",
            account_id="bob",
            payload={"entry": entry, "invoice": "ACME-000001", "attempt": 2},
            created_at=datetime.now(UTC),
            due_at=datetime(2026, 3, 4, tzinfo=UTC),
        )
    first, second = deliver(settings, event, {}), deliver(settings, event, {})
    assert first.outcome.startswith("charged") and "made already" in second.outcome
    with session(db) as s:
        (payment,) = s.scalars(select(LedgerEntry).where(LedgerEntry.kind == "payment"))
        assert payment.entry_date == date(2026, 3, 4)  # the day the attempt was due


@pytest.mark.parametrize(
    ("gateway", "said"),
    [
        ("{kind: sandbox, secret_env: sk_live_abc-1}", "name of an environment variable"),
        ("{kind: sandbox, retry_days: [3, 1]}", "increasing whole days"),
        ("{kind: sandbox, retry_days: [0, 2]}", "increasing whole days"),
        ("{kind: stripe}", "sandbox"),
    ],
)
def test_a_catalog_gateway_is_checked(tmp_path, gateway, said) -> None:
    text = (CATALOGS / "acme.yaml").read_text()
    bad = re.sub(r"gateway: \{.*\}", f"gateway: {gateway}", text)
    assert bad != text
    (tmp_path / "bad.yaml").write_text(bad)
    with pytest.raises(CatalogError, match=said):
        load_catalog_file(tmp_path / "bad.yaml")


def test_a_realm_without_a_gateway_takes_no_cards(settings, tmp_path) -> None:
    text = (CATALOGS / "acme.yaml").read_text().replace("id: acme", "id: plain")
    text = text.replace("../brands/", f"{CATALOGS.parent / 'brands'}/")  # its logo
    (tmp_path / "plain.yaml").write_text(re.sub(r"\n  gateway: \{.*\}", "", text))
    with session(settings.db_url) as s:
        store_catalog(s, load_catalog_file(tmp_path / "plain.yaml"), "plain.yaml")
        add_accounts(s, "plain", [{"id": "pat", "name": "Pat"}])
    with session(settings.db_url) as s, pytest.raises(CardError, match="realm plain takes no"):
        add_card(s, ME, "pat", OK, "08/29", today=TODAY)
