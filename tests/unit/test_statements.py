"""Monthly statements: opening balance plus the month's entries is the closing balance,
which is the ledger's balance at the month's end and the next month's opening; entries in
date order with a running balance; the CLI writes the PDF once."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from jet.account_views import balance_detail
from jet.audit import Actor
from jet.cli import main
from jet.ledger import balance, record_payment, take_back, write_off
from jet.statements import StatementError, parse_month, statement
from jet.store.db import session
from tests.ledger_fixtures import acme, issue

ME = Actor("staff@acme.example", "cli")
JAN, FEB, MAR, APR = (date(2026, m, 1) for m in (1, 2, 3, 4))


@pytest.fixture
def db(settings):
    """bob's ledger over three months: invoices, a credit note, payments (one named, one
    over), a refund, a reversal and a write-off."""
    with session(settings.db_url) as s:
        acme(s)
        jan = issue(s, "bob", JAN, "50.00")
        record_payment(s, ME, "bob", "20.00", "cash", day=date(2026, 1, 20))
        feb = issue(s, "bob", FEB, "45.50")
        issue(s, "bob", date(2026, 2, 3), "-10.00", credits=feb.number)
        card = record_payment(
            s,
            ME,
            "bob",
            "100.00",
            "card",
            day=date(2026, 2, 14),
            reference="GW-1",
            invoice=feb.number,
        )
        take_back(
            s, ME, card.id, "refund", "asked for it back", amount="5.00", day=date(2026, 2, 20)
        )
        issue(s, "bob", MAR, "80.00")
        cheque = record_payment(s, ME, "bob", "30.00", "cheque", day=date(2026, 3, 5))
        take_back(s, ME, cheque.id, "reversal", "cheque bounced", day=date(2026, 3, 9))
        write_off(s, ME, issue(s, "bob", date(2026, 3, 10), "7.00").number, "goodwill",
                  day=date(2026, 3, 31))  # fmt: skip
        assert jan.number
    return settings.db_url


def test_opening_plus_entries_is_closing_and_the_ledger_balance(db) -> None:
    with session(db) as s:
        months = [
            statement(s, "bob", month, today=date(2026, 12, 4)) for month in (JAN, FEB, MAR, APR)
        ]
        for doc in months:
            running = doc.opening
            for line in doc.lines:
                running += line.amount
                assert line.balance == running
                assert (line.debit is None) != (line.credit is None)
                assert doc.month <= line.day <= doc.last_day
            assert doc.closing == running == doc.opening + doc.debits - doc.credits
            assert doc.closing == balance(s, "bob", on=doc.last_day)
            assert [line.day for line in doc.lines] == sorted(line.day for line in doc.lines)
        assert months[0].opening == 0
        for before, after in zip(months, months[1:], strict=False):
            assert after.opening == before.closing
        assert months[-1].lines == [] and months[-1].closing == months[-1].opening
        shown = balance_detail(s, "bob")["balance"]
        assert Decimal(shown) == months[-1].closing  # `jet account balance`, as of now


def test_each_entry_says_what_it_is(db) -> None:
    with session(db) as s:
        feb, mar = statement(s, "bob", FEB), statement(s, "bob", MAR)
    rows = [(ln.kind, ln.reference, ln.description, ln.debit, ln.credit) for ln in feb.lines]
    number = rows[0][1]
    card = feb.lines[2].entry_id
    assert rows == [
        ("invoice", number, "Invoice", Decimal("45.50"), None),
        ("credit_note", rows[1][1], f"Credit note for {number}", None, Decimal("10.00")),
        ("payment", f"Receipt {card}", f"Payment by card of {number}, ref GW-1", None,
         Decimal("100.00")),
        ("refund", f"Receipt {card}", "Refund of the payment: asked for it back",
         Decimal("5.00"), None),
    ]  # fmt: skip
    assert feb.opening == Decimal("30.00") and feb.closing == Decimal("-29.50")
    assert feb.amount_due == 0
    kinds = [(ln.kind, ln.description) for ln in mar.lines]
    assert ("reversal", "Reversal of the payment: cheque bounced") in kinds
    assert kinds[-1] == ("write_off", "Write-off: goodwill")
    assert mar.lines[-1].reference == mar.lines[-2].reference  # the invoice written off
    assert mar.amount_due == mar.closing > 0


def test_a_child_account_gets_its_billing_accounts_statement(db) -> None:
    with session(db) as s:
        assert statement(s, "carol", FEB) == statement(s, "bob", FEB)


def test_months_that_cannot_have_a_statement(db) -> None:
    for text in ("2026-13", "2026-2", "March", ""):
        with pytest.raises(StatementError, match="YYYY-MM"):
            parse_month(text)
    assert parse_month(" 2026-02 ") == FEB
    with session(db) as s, pytest.raises(StatementError, match="not over until 2026-03-31"):
        statement(s, "bob", MAR, today=date(2026, 3, 31))


def jet(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == code, result.output
    return result.output


def test_the_cli_writes_the_statement_once(db, settings, tmp_path) -> None:
    path = jet("account", "statement", "bob", "--month", "2026-02").strip()
    assert path == str(settings.pdf_dir / "acme" / "statements" / "bob-2026-02.pdf")
    first = Path(path).read_bytes()
    again = jet(
        "account", "statement", "bob", "--month", "2026-02", "--out", str(tmp_path / "b.pdf")
    )
    assert again.strip() == str(tmp_path / "b.pdf")
    assert (tmp_path / "b.pdf").read_bytes() == first  # the same ledger, the same bytes
    assert "not over" in jet("account", "statement", "bob", "--month", "2099-01", code=1)
    assert "YYYY-MM" in jet("account", "statement", "bob", "--month", "Feb", code=1)
    assert re.search("no account|not found|unknown", jet(
        "account", "statement", "nobody", "--month", "2026-02", code=1), re.I)  # fmt: skip


def test_the_asset_writes_last_months_statements_of_accounts_with_entries(db, settings) -> None:
    from dagster import materialize

    from dagster_jet.assets.invoicing import statement_pdfs
    from dagster_jet.resources import JetResource

    folder = settings.pdf_dir / "acme" / "statements"
    for run, written in (("2026-04-15", ["bob-2026-03.pdf"]), ("2026-04-16", [])):
        before = set(folder.glob("*.pdf"))
        result = materialize([statement_pdfs], partition_key=run, resources={"jet": JetResource()})
        assert result.success
        assert sorted(p.name for p in set(folder.glob("*.pdf")) - before) == written
    assert [p.name for p in folder.glob("*.pdf")] == ["bob-2026-03.pdf"]  # not carol, shut


def test_names_in_any_script_the_font_has_print(db, settings, tmp_path) -> None:
    """A statement prints its customer's name as written: Turkish, Greek, Cyrillic."""
    from jet.store.models import Account
    from reports.statement_pdf import render_statement
    from tests.invoice_documents import pdf_pages

    name = "Ayşe Yılmaz · Νίκος · Ольга"
    with session(db) as s:
        s.get(Account, "bob").name = name
    with session(db) as s:
        doc = statement(s, "bob", FEB)
    assert name in " ".join(pdf_pages(render_statement(doc), tmp_path))
