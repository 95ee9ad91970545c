"""Receipt PDFs of payments, and issued invoices that print their due date, the credit
applied at issue and the amount due: as the ledger stood when each was recorded, however
late they are rendered."""

from __future__ import annotations

import re
from datetime import date

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from jet.audit import Actor
from jet.cli import main
from jet.ledger import record_payment, take_back
from jet.store.db import session
from jet.store.models import LedgerEntry
from reports.issued_invoices import pdf_path, render_pdfs
from reports.receipt_pdf import receipt_path, render_receipts
from tests.invoice_documents import pdf_pages
from tests.ledger_fixtures import acme, issue

ME = Actor("staff@acme.example", "cli")
JAN, FEB, MAR = date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)


@pytest.fixture
def db(settings):
    with session(settings.db_url) as s:
        acme(s)
    return settings.db_url


def jet(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == code, result.output
    return result.output


def words(text: str) -> str:
    """The text with runs of spaces as one: pdftotext lays columns out with spaces."""
    return re.sub(r"[ \t]+", " ", text)


def test_a_receipt_prints_the_payment_what_it_paid_and_the_credit_left(db, tmp_path) -> None:
    with session(db) as s:
        a, b = issue(s, "bob", JAN, "50.00"), issue(s, "bob", FEB, "30.00")
    out = jet(
        "payment", "record", "bob", "100.00", "--method", "bank",
        "--reference", "BANK-REF 77", "--date", "2026-02-10",
    )  # fmt: skip
    number = re.search(r"payment (\d+):", out).group(1)
    path = re.search(r"receipt (\S+)", out).group(1)
    assert path.endswith(f"acme/receipts/{number}.pdf")
    with open(path, "rb") as pdf:
        text = words("\n".join(pdf_pages(pdf.read(), tmp_path)))
    for expected in [
        "Acme Broadband",
        "Receipt",
        f"Receipt number {number}",
        "Received 2026-02-10",
        "Account bob - Bob",
        "Method bank",
        "Reference BANK-REF 77",
        "Amount AUD 100.00",
        f"{a.number} 2026-01-01 50.00",
        f"{b.number} 2026-02-01 30.00",
        "Credit for the next invoice 20.00",
        "Total 100.00",
    ]:
        assert expected in text, expected


def test_a_receipt_stays_as_recorded_after_refunds_and_later_invoices(db, tmp_path) -> None:
    with session(db) as s:
        first = issue(s, "bob", JAN, "50.00")
        paid = record_payment(s, ME, "bob", "80.00", "cash", day=JAN)
    printed = jet("payment", "receipt", str(paid.id))
    with open(printed.strip(), "rb") as pdf:
        before = pdf.read()
    with session(db) as s:
        later = issue(s, "bob", FEB, "45.00")  # uses the 30.00 credit
        take_back(s, ME, paid.id, "refund", "moved away", amount="60.00")  # reopens some
    jet("payment", "receipt", str(paid.id), "--out", str(tmp_path / "again.pdf"))
    assert (tmp_path / "again.pdf").read_bytes() == before
    text = words(pdf_pages(before, tmp_path)[0])
    assert f"{first.number} 2026-01-01 50.00" in text and later.number not in text
    assert "Credit for the next invoice 30.00" in text


def test_only_payments_have_receipts(db) -> None:
    with session(db) as s:
        invoice = issue(s, "bob", JAN, "50.00")
        entry_id = s.scalar(select(LedgerEntry.id).where(LedgerEntry.invoice_id == invoice.id))
    for missing in ("999", str(entry_id)):
        out = jet("payment", "receipt", missing, code=1)
        assert "there is no payment" in out and "jet payment list" in out


def test_an_invoice_prints_its_due_date_the_credit_applied_and_what_is_due(
    settings, db, tmp_path
) -> None:
    with session(db) as s:
        issue(s, "bob", JAN, "50.00")
        cheque = record_payment(s, ME, "bob", "80.00", "cheque", day=JAN)  # 30.00 credit
        second = issue(s, "bob", FEB, "45.00")
        record_payment(s, ME, "bob", "15.00", "cash", day=FEB)  # pays the rest, after issue
        third = issue(s, "bob", MAR, "20.00")
    render_pdfs(settings, processes=1)
    path = pdf_path(settings, "acme", second.number)
    text = words(pdf_pages(path.read_bytes(), tmp_path)[0])
    assert "Due date 15 Feb 2026" in text  # acme's payment terms: 14 days
    assert "Total AUD $45.00" in text
    assert "Paid from credit -$30.00" in text
    assert "Amount due AUD $15.00" in text  # the payment after issue is not on it

    plain = words(pdf_pages(pdf_path(settings, "acme", third.number).read_bytes(), tmp_path)[0])
    assert "Amount due AUD $20.00" in plain and "Paid from credit" not in plain

    rendered = path.read_bytes()
    path.unlink()
    with session(db) as s:
        take_back(s, ME, cheque.id, "reversal", "cheque bounced")  # reopens what the 80.00 paid
    render_pdfs(settings, processes=1)
    assert path.read_bytes() == rendered  # rendered late, it prints what was known at issue


def test_a_credit_note_prints_no_amount_due(settings, db, tmp_path) -> None:
    with session(db) as s:
        invoice = issue(s, "bob", JAN, "50.00")
        note = issue(s, "bob", FEB, "-50.00", credits=invoice.number)
    render_pdfs(settings, processes=1)
    text = words(pdf_pages(pdf_path(settings, "acme", note.number).read_bytes(), tmp_path)[0])
    assert "Amount due" not in text and "Due date" not in text


def test_receipts_missing_are_written_once(settings, db, tmp_path) -> None:
    with session(db) as s:
        issue(s, "bob", JAN, "50.00")
        first = record_payment(s, ME, "bob", "20.00", "bank", reference="STMT-1", day=JAN)
        second = record_payment(s, ME, "bob", "45.00", "card", kind="top_up", day=FEB)
    written = render_receipts(settings)
    assert written == [receipt_path(settings, "acme", e.id) for e in (first, second)]
    assert render_receipts(settings) == []  # nothing twice
    text = words(pdf_pages(written[1].read_bytes(), tmp_path)[0])
    assert "Top-up receipt" in text and "Credit for the next invoice 15.00" in text


def test_a_receipt_into_a_missing_folder_is_refused(db, tmp_path) -> None:
    with session(db) as s:
        paid = record_payment(s, ME, "bob", "20.00", "bank")
    out = jet("payment", "receipt", str(paid.id), "--out", str(tmp_path / "no" / "r.pdf"), code=2)
    assert "does not exist: create it" in out
    assert not (tmp_path / "no").exists()
