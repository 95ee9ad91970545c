"""What the demo's summary points at, made by the functions the commands call, against a
really billed store: a customer's invoice and statement per realm (a name in Greek is
the one shown), the paper run of the bill date with its page count, the exports for
accountants with their row counts; and the notices e-mailed to the demo's mail server
(a real aiosmtpd on loopback)."""

from __future__ import annotations

import csv
import mailbox
from datetime import date

import pytest
from pypdf import PdfReader

from jet.config import Settings
from jet.drivers import demo_documents as documents
from jet.drivers.demo_mail import email_notices
from jet.drivers.simulate import load_scenario
from jet.invoicing import issue_invoices
from jet.outbox import publish
from jet.store.db import session
from jet.warehouse import rate
from reports.issued_invoices import render_pdfs

SCENARIO = """
realm: {id: north, name: North Net, currency: AUD, tax_rate: "0.10", cycle: fixed_date,
        cycle_day: 1}
catalog:
  products:
    access: {type: flat, price: "59.95", period: monthly}
  plans:
    home: {products: [access]}
accounts:
  - {id: north-co, name: North Pty Ltd, kind: company, country: AU, tax_id: "51824753556",
     address: "Level 3, 1 Main Street\\nSydney NSW 2000", email: ap@north.example}
  - {id: eleni, name: Ελένη Κωνσταντίνου, country: GR, address: "Ερμού 25\\n105 63 Αθήνα",
     email: eleni@example.org, delivery: paper}
  - {id: bea, name: Bea Example, email: bea@example.net, delivery: paper}
subscriptions:
  - {account: north-co, plan: home, start: 2026-01-05}
  - {account: eleni, plan: home, start: 2026-01-10}
  - {account: bea, plan: home, start: 2026-01-21}
until: 2026-02-01
"""
BILL_DATE = date(2026, 2, 1)


@pytest.fixture(scope="module")
def billed(tmp_path_factory: pytest.TempPathFactory):
    """Three accounts billed on 1 February, their PDFs rendered and the marts published."""
    folder = tmp_path_factory.mktemp("demo-documents")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JET_HOME", str(folder / "home"))
        patch.delenv("JET_DATABASE_URL", raising=False)
        settings = Settings()
        settings.export()
        path = folder / "north.yaml"
        path.write_text(SCENARIO)
        load_scenario(path, settings)
        rate(settings, BILL_DATE.isoformat(), "run")
        assert issue_invoices(settings, BILL_DATE, BILL_DATE).issued == 3
        render_pdfs(settings)
        rate(settings, BILL_DATE.isoformat(), "run")  # publishes what was issued
        yield settings


def test_a_sample_invoice_and_statement_per_realm(billed: Settings) -> None:
    invoice, statement = documents.samples(billed, BILL_DATE, date(2026, 2, 1), date(2026, 3, 1))
    # the invoice of the customer named in Greek: the invoice's font prints it
    assert (invoice.realm, invoice.what, invoice.account) == ("north", "invoice", "eleni")
    assert invoice.path == billed.pdf_dir / "north" / f"{invoice.path.stem}.pdf"
    assert "Κωνσταντίνου" in PdfReader(invoice.path).pages[0].extract_text()
    # the statement of the company: statements print Latin-1 (docs/statements.md)
    assert (statement.realm, statement.what, statement.account) == (
        "north",
        "statement",
        "north-co",
    )
    assert statement.path == billed.pdf_dir / "north" / "statements" / "north-co-2026-02.pdf"
    assert "North Pty Ltd" in PdfReader(statement.path).pages[0].extract_text()
    again = documents.samples(billed, BILL_DATE, date(2026, 2, 1), date(2026, 3, 1))
    assert again == [invoice, statement]  # the statement is written once


def test_the_paper_run_of_the_bill_date(billed: Settings) -> None:
    run = documents.paper_run(billed, BILL_DATE)
    assert run is not None
    assert run.path == billed.root / "print" / f"invoices-{BILL_DATE}.pdf"
    assert run.invoices == 2  # eleni and bea; north-co takes e-mail
    assert run.pages == len(PdfReader(run.path).pages) >= 2
    assert documents.paper_run(billed, date(2026, 3, 1)) is None


def test_the_exports_for_accountants(billed: Settings) -> None:
    lines, journal = documents.exports(billed, date(2026, 1, 1), date(2026, 2, 28))
    assert lines.path == billed.root / "exports" / "invoice-lines_2026-01-01_2026-02-28.csv"
    assert journal.path == billed.root / "exports" / "gl-journal_2026-01-01_2026-02-28.csv"
    with open(lines.path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == lines.rows > 0
    assert lines.documents == len({r["invoice_number"] for r in rows}) == 3
    with open(journal.path, newline="") as f:
        assert len(list(csv.DictReader(f))) == journal.rows >= journal.documents >= 3


def test_notices_go_to_the_demo_mail_server(billed: Settings) -> None:
    payload = {
        "account": "bea", "billing_account": "bea", "realm": "north", "subscription": 3,
        "product": "access", "period_start": "2026-02-01", "period_end": "2026-03-01",
        "threshold": 80, "used": "8", "included": "10",
    }  # fmt: skip
    with session(billed.db_url) as s:
        publish(s, "usage.threshold_crossed", "bea", payload)
    sent = email_notices(billed)
    assert sent == {"usage.threshold_crossed": 1}
    (message,) = mailbox.Maildir(billed.root / "demo-mail").values()
    assert message["To"] == "bea@example.net"
    assert message["Subject"].startswith("You have used 80 %")
    assert email_notices(billed) == {}  # delivered once
