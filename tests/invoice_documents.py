"""Issued invoices without a billing cycle: `documents(n)` of the demo's kind (most with
one or two lines, every twentieth a cost-centre's with 24 lines over two pages) and
`issue`, which stores documents as the issue step would have; `pdf_pages`, the text a
PDF prints. Used by tests/unit/test_issued_invoices.py, the PDF tests and
bench/bench_pdfs.py."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from jet.config import Settings
from jet.store.db import session
from jet.store.models import Account, Invoice, InvoiceLine, Realm
from reports.invoice_pdf import InvoiceDocument, InvoiceDocumentLine

ISSUED = datetime(2026, 8, 1, 6, 30, tzinfo=UTC)
PERIOD = (date(2026, 8, 1), date(2026, 9, 1))
# (description, price) of a line, as the demo's acme realm bills them
HOME = [("home-access (advance)", "69.00"), ("home-data (usage)", "3.85")]
BUSINESS = [("business-access (advance)", "237.00"), ("static-ip (advance)", "10.00")] * 12


def documents(n: int) -> list[InvoiceDocument]:
    """`n` invoices of the acme realm, numbered from 1."""
    docs = []
    for i in range(1, n + 1):
        login = f"acme-{i:05d}"
        products = BUSINESS if i % 20 == 0 else HOME[: 1 + i % 2]
        lines = [
            InvoiceDocumentLine(
                account_id=f"{login}-{k // 2}" if products is BUSINESS else login,
                description=description,
                kind="advance",
                period_start=PERIOD[0],
                period_end=PERIOD[1],
                quantity=Decimal(1),
                amount=Decimal(price),
            )
            for k, (description, price) in enumerate(products)
        ]
        subtotal = sum((line.amount for line in lines), Decimal(0))
        tax = (subtotal / 10).quantize(Decimal("0.01"))
        docs.append(
            InvoiceDocument(
                number=f"ACME-2026-{i:06d}",
                realm_name="Acme Broadband",
                realm_id="acme",
                currency="AUD",
                bill_date=PERIOD[0],
                issued_at=ISSUED,
                account_id=login,
                account_name=f"Customer {i}",
                lines=lines,
                subtotal=subtotal,
                tax=tax,
                tax_rate=Decimal("0.10"),
                total=subtotal + tax,
            )
        )
    return docs


def issue(settings: Settings, docs: list[InvoiceDocument]) -> None:
    """A store that has issued `docs` (invoices, one per account, realms as they name)."""
    with session(settings.db_url) as s:
        realms = {doc.realm_id: doc for doc in docs}
        s.add_all(
            Realm(
                id=doc.realm_id,
                name=doc.realm_name,
                currency=doc.currency,
                minor_units=2,
                tax_rate=doc.tax_rate,
                cycle="fixed_date",
                cycle_day=1,
                invoice_prefix=doc.realm_id.upper(),
                invoice_format="{prefix}-{year}-{number:06d}",
                last_invoice_number=sum(d.realm_id == doc.realm_id for d in docs),
            )
            for doc in realms.values()
        )
        s.flush()  # the store's foreign keys want realms, then accounts, then invoices
        s.add_all(
            Account(
                id=doc.account_id, realm_id=doc.realm_id, name=doc.account_name, created_at=ISSUED
            )
            for doc in docs
        )
        s.flush()
        s.add_all(
            Invoice(
                number=doc.number,
                realm_id=doc.realm_id,
                account_id=doc.account_id,
                bill_date=doc.bill_date,
                currency=doc.currency,
                subtotal=doc.subtotal,
                tax=doc.tax,
                total=doc.total,
                issued_at=doc.issued_at,
                lines=[
                    InvoiceLine(
                        line_key=f"{doc.number}:{k}",
                        account_id=line.account_id,
                        kind=line.kind,
                        description=line.description,
                        period_start=line.period_start,
                        period_end=line.period_end,
                        quantity=line.quantity,
                        amount=line.amount,
                        taxable=True,
                    )
                    for k, line in enumerate(doc.lines)
                ],
            )
            for doc in docs
        )


def pdf_pages(data: bytes, tmp_path: Path) -> list[str]:
    """The text of each page: Debian's pdftotext if on PATH, else pypdf if installed."""
    if shutil.which("pdftotext"):
        pdf = tmp_path / "extract.pdf"
        pdf.write_bytes(data)
        out = subprocess.run(
            ["pdftotext", "-layout", "-enc", "UTF-8", str(pdf), "-"],
            check=True,
            capture_output=True,
        ).stdout.decode("utf-8")
        pages = out.split("\f")
        return pages[:-1] if pages and not pages[-1].strip() else pages
    pypdf = pytest.importorskip("pypdf", reason="needs pdftotext (poppler-utils) or pypdf")
    import io

    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages]
