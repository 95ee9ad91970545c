"""The ledger's rules: allocation to the oldest or a named invoice, credit carried to the
next invoice, refunds and reversals reopening what they paid, write-offs, bad input."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from jet.account_views import balance_detail
from jet.accounts import close_account
from jet.audit import Actor
from jet.cli import main
from jet.ledger import LedgerError, balance, record_payment, take_back, write_off
from jet.store.db import session
from jet.store.models import Allocation, AuditEntry, Event, LedgerEntry
from tests.ledger_fixtures import acme, issue

ME = Actor("staff@acme.example", "cli")
JAN, FEB, MAR = date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)


@pytest.fixture
def db(settings):
    with session(settings.db_url) as s:
        acme(s)
    return settings.db_url


def due(s, account="bob") -> list[tuple[str, str, str]]:
    return [(d["number"], d["paid"], d["due"]) for d in balance_detail(s, account)["open"]]


def test_a_payment_pays_the_oldest_invoices_first(db) -> None:
    with session(db) as s:
        a, b = issue(s, "bob", JAN, "50.00"), issue(s, "bob", FEB, "30.00")
        record_payment(s, ME, "bob", "60.00", "cash")
        assert due(s) == [(b.number, "10.00", "20.00")]
        assert a.number not in [n for n, *_ in due(s)]
        assert balance(s, "bob") == Decimal("20.00")


def test_a_payment_for_a_named_invoice_pays_it_first(db) -> None:
    with session(db) as s:
        a, b = issue(s, "bob", JAN, "50.00"), issue(s, "bob", FEB, "30.00")
        record_payment(s, ME, "bob", "40.00", "bank", invoice=b.number)
        assert due(s) == [(a.number, "10.00", "40.00")]


def test_an_overpayment_is_credit_the_next_invoice_uses(db) -> None:
    with session(db) as s:
        issue(s, "bob", JAN, "50.00")
        record_payment(s, ME, "bob", "80.00", "cheque")
        shown = balance_detail(s, "bob")
        assert (shown["balance"], shown["credit"], shown["open"]) == ("-30.00", "30.00", [])
        c = issue(s, "bob", FEB, "45.00")
        assert due(s) == [(c.number, "30.00", "15.00")]
        assert balance_detail(s, "bob")["credit"] == "0.00"


def test_a_credit_note_pays_its_invoice(db) -> None:
    with session(db) as s:
        a, b = issue(s, "bob", JAN, "50.00"), issue(s, "bob", FEB, "30.00")
        issue(s, "bob", MAR, "-30.00", credits=b.number)
        assert due(s) == [(a.number, "0.00", "50.00")]


def test_a_reversal_reopens_what_the_payment_paid_and_keeps_every_entry(db) -> None:
    with session(db) as s:
        a = issue(s, "bob", JAN, "50.00")
        paid = record_payment(s, ME, "bob", "50.00", "sepa")
        assert due(s) == []
        take_back(s, ME, paid.id, "reversal", "AM04 insufficient funds")
        assert due(s) == [(a.number, "0.00", "50.00")]
        assert balance(s, "bob") == Decimal("50.00")
        kinds = s.scalars(select(LedgerEntry.kind).order_by(LedgerEntry.id)).all()
        assert kinds == ["invoice", "payment", "reversal"]
        with pytest.raises(LedgerError, match="in full already"):
            take_back(s, ME, paid.id, "reversal", "again")


def test_a_refund_takes_the_unused_credit_first(db) -> None:
    with session(db) as s:
        a = issue(s, "bob", JAN, "50.00")
        paid = record_payment(s, ME, "bob", "70.00", "card")
        take_back(s, ME, paid.id, "refund", "overpaid", amount="20.00")
        assert (due(s), balance(s, "bob")) == ([], Decimal("0.00"))
        take_back(s, ME, paid.id, "refund", "changed their mind", amount="5.00")
        assert due(s) == [(a.number, "45.00", "5.00")]
        with pytest.raises(LedgerError, match="45.00 left to take back; 46.00"):
            take_back(s, ME, paid.id, "refund", "too much", amount="46.00")


def test_other_credit_pays_what_a_reversal_reopens(db) -> None:
    with session(db) as s:
        issue(s, "bob", JAN, "50.00")
        first = record_payment(s, ME, "bob", "50.00", "sepa")
        record_payment(s, ME, "bob", "20.00", "cash")  # credit
        take_back(s, ME, first.id, "reversal", "MD06 refund request")
        assert due(s)[0][1:] == ("20.00", "30.00")
        assert balance_detail(s, "bob")["credit"] == "0.00"


def test_a_write_off_closes_what_is_left_of_an_invoice(db) -> None:
    with session(db) as s:
        a = issue(s, "bob", JAN, "50.00")
        record_payment(s, ME, "bob", "10.00", "cash")
        off = write_off(s, ME, a.number, "uncollectable")
        assert (off.amount, due(s), balance(s, "bob")) == (Decimal("-40.00"), [], Decimal(0))
        with pytest.raises(LedgerError, match="is paid"):
            write_off(s, ME, a.number, "again")


def test_each_change_has_its_audit_row_and_event(db) -> None:
    with session(db) as s:
        issue(s, "bob", JAN, "50.00")
        paid = record_payment(s, ME, "bob", "50.00", "cash", reference="R-1")
        take_back(s, ME, paid.id, "refund", "duplicate")
        actions = s.scalars(select(AuditEntry.action).where(AuditEntry.entity == "ledger")).all()
        topics = s.scalars(select(Event.topic).where(Event.topic.like("payment.%"))).all()
    assert actions == ["payment.recorded", "payment.refund"]
    assert topics == ["payment.recorded", "payment.refunded"]


@pytest.mark.parametrize(
    ("account", "amount", "method", "message"),
    [
        ("bob", "10.001", "cash", "more decimals than AUD has (2)"),
        ("bob", "-5", "cash", "not positive"),
        ("bob", "0", "cash", "not positive"),
        ("bob", "ten", "cash", "is not an amount"),
        ("bob", "NaN", "cash", "is not an amount"),
        ("bob", "10", "gold", "unknown method 'gold'"),
        ("carol", "10", "cash", "carol is billed to bob"),
        ("shut", "10", "cash", "shut is closed"),
        ("nobody", "10", "cash", "no account 'nobody'"),
    ],
)
def test_bad_payments_are_refused_and_store_nothing(db, account, amount, method, message) -> None:
    with session(db) as s:
        close_account(s, ME, "shut", JAN)
    with pytest.raises(Exception, match=re.escape(message)), session(db) as s:
        record_payment(s, ME, account, amount, method)
    with session(db) as s:
        assert s.scalar(select(func.count()).select_from(LedgerEntry)) == 0
        assert s.scalar(select(func.count()).select_from(Allocation)) == 0


def test_the_payment_commands(db) -> None:
    with session(db) as s:
        a = issue(s, "bob", JAN, "50.00")
    run = CliRunner()
    done = run.invoke(main, ["payment", "record", "bob", "20", "--method", "cash",
                             "--reference", "till 4", "--date", "2026-01-05"])  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "balance 30.00 (1 open invoices)" in done.output
    listed = run.invoke(main, ["payment", "list", "bob"])
    assert "2026-01-05  payment" in listed.output and "ref till 4" in listed.output
    assert f"open {a.number} of 2026-01-01: 50.00, paid 20.00, due 30.00" in listed.output
    shown = run.invoke(main, ["account", "balance", "carol"])
    assert "carol is billed to bob" in shown.output and "balance AUD 30.00" in shown.output
    refused = run.invoke(main, ["payment", "record", "bob", "1.005", "--method", "cash"])
    assert refused.exit_code == 1 and "more decimals than AUD has" in refused.output
