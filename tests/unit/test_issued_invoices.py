"""PDFs of the store's issued invoices: read in bulk, rendered in a pool, written once."""

from __future__ import annotations

import dataclasses
import subprocess
from datetime import timedelta
from decimal import Decimal

import pytest

from jet.invoicing import credit_invoice
from reports import issued_invoices
from reports.invoice_pdf import invoice_file
from reports.issued_invoices import pdf_path, render_pdfs
from tests.invoice_documents import documents, issue


@pytest.fixture
def docs(settings):
    """45 issued invoices (three chunks: a pool of two renders them), one of them with
    text that wraps and letters Latin-1 has not."""
    docs = documents(45)
    docs[1] = dataclasses.replace(
        docs[1],
        account_name="Zoë Hőgyes \u2014 Example Holdings International Proprietary Limited",
        lines=[
            dataclasses.replace(
                docs[1].lines[0],
                description="Static IPv4 address for the branch office router, billed "
                "monthly in advance \u2013 until the contract ends",
                quantity=Decimal("0.333333"),
            )
        ],
    )
    issue(settings, docs)
    return docs


def test_a_pool_writes_what_render_invoice_renders(settings, docs):
    seen = []
    written = render_pdfs(settings, lambda done, total: seen.append((done, total)), processes=2)
    assert written == [pdf_path(settings, doc.realm_id, doc.number) for doc in docs]
    for doc, path in zip(docs, written, strict=True):
        # no catalog: the default payment terms, 14 days; no ledger entry: no amount due
        due = dataclasses.replace(doc, due_date=doc.bill_date + timedelta(days=14))
        assert path.read_bytes() == invoice_file(due), doc.number
    assert seen == [(done, 45) for done in range(1, 46)]


def test_a_run_with_nothing_to_render_starts_no_pool(settings, docs, monkeypatch):
    render_pdfs(settings)
    first = pdf_path(settings, docs[0].realm_id, docs[0].number)
    first.write_bytes(b"issued elsewhere")

    def no_pool(processes):
        raise AssertionError(f"a pool of {processes} was started")

    monkeypatch.setattr(issued_invoices, "_mapper", no_pool)
    assert render_pdfs(settings) == []
    assert first.read_bytes() == b"issued elsewhere"  # an existing file is never replaced


def test_a_credit_note_names_the_invoice_it_credits(settings, docs):
    render_pdfs(settings)
    note = credit_invoice(settings, docs[0].number, "setup fee waived")
    assert render_pdfs(settings) == [pdf_path(settings, "acme", note.number)]  # alone
    text = subprocess.run(
        ["pdftotext", pdf_path(settings, "acme", note.number), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Credit note" in text and "Tax invoice" not in text
    assert f"Credits invoice {docs[0].number}: setup fee waived" in text
