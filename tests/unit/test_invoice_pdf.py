"""Invoice PDFs: the text they print, page breaks, byte-identical re-renders, write-once files."""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from reports.invoice_pdf import (
    InvoiceDocument,
    InvoiceDocumentLine,
    invoice_file,
    render_invoice,
    write_invoice,
)
from tests.invoice_documents import pdf_pages

D = Decimal


def _pdf_info(data: bytes, tmp_path: Path) -> dict[str, str]:
    if not shutil.which("pdfinfo"):
        pytest.skip("needs pdfinfo (poppler-utils)")
    pdf = tmp_path / "info.pdf"
    pdf.write_bytes(data)
    out = subprocess.run(
        ["pdfinfo", "-enc", "UTF-8", str(pdf)], check=True, capture_output=True
    ).stdout.decode("utf-8")
    return {k.strip(): v.strip() for k, _, v in (ln.partition(":") for ln in out.splitlines())}


def _amounts(text: str) -> list[str]:
    """Every number printed as a whole word, e.g. "1200", "1.500", "-10.32"."""
    return re.findall(r"(?<![\w.-])-?\d+(?:\.\d+)?(?![\w.-])", text)


def _line(
    amount: str, *, account: str = "zoe", description: str = "Home access"
) -> InvoiceDocumentLine:
    return InvoiceDocumentLine(
        account_id=account,
        description=description,
        kind="advance",
        period_start=date(2026, 1, 15),
        period_end=date(2026, 2, 1),
        quantity=D("1"),
        amount=D(amount),
    )


def _doc(lines: list[InvoiceDocumentLine], **overrides: object) -> InvoiceDocument:
    fields: dict[str, object] = dict(
        number="ACME-000042",
        realm_name="Acme Broadband",
        realm_id="acme",
        currency="AUD",
        bill_date=date(2026, 2, 1),
        issued_at=datetime(2026, 2, 1, 6, 30, tzinfo=UTC),
        account_id="zoe",
        account_name="Zoë Example",
        lines=lines,
        subtotal=D("66.08"),
        tax=D("6.61"),
        tax_rate=D("0.10"),
        total=D("72.69"),
    )
    fields.update(overrides)
    return InvoiceDocument(**fields)  # type: ignore[arg-type]


@pytest.fixture
def small() -> InvoiceDocument:
    return _doc(
        [
            _line("59.95", description="Home access \u2014 quarterly (Zoë\u2019s plan)"),
            InvoiceDocumentLine(
                account_id="zoe-kids",
                description="Data over 10 GB",
                kind="usage",
                period_start=date(2026, 1, 1),
                period_end=date(2026, 2, 1),
                quantity=D("6.58"),
                amount=D("16.45"),
            ),
            _line("-10.32", description="Refund of unused access, Hőgyes utca"),
        ]
    )


@pytest.fixture
def large() -> InvoiceDocument:
    lines = [_line(f"{i}.25", account=f"user-{i:03d}") for i in range(120)]
    subtotal = sum((line.amount for line in lines), D(0))
    return _doc(lines, subtotal=subtotal, tax=D("723.00"), total=subtotal + D("723.00"))


GOLDEN_TEXT = Path(__file__).parent / "invoice_pdf_text"


def _golden_documents(small: InvoiceDocument, large: InvoiceDocument) -> dict[str, InvoiceDocument]:
    """Invoices whose text `GOLDEN_TEXT` holds as fpdf2's `table()` printed it (commit
    6a2ea9e): one page, many pages, a credit note, cells and a realm name that wrap, and
    a currency without minor units."""
    wrapping = [
        _line("12.00", account="a-login-long-enough-to-wrap-in-its-column"),
        _line(
            "3.50",
            description="Static IPv4 address for the branch office router, billed monthly "
            "in advance until the contract ends",
        ),
        _line("0.01", description="Short"),
    ]
    return {
        "small": small,
        "large": large,
        "credit_note": dataclasses.replace(
            small,
            number="ACME-000043",
            title="Credit note",
            note="Credits invoice ACME-000042: setup fee waived \u2014 agreed on the phone",
            subtotal=D("-66.08"),
            tax=D("-6.61"),
            total=D("-72.69"),
        ),
        "wrapping": _doc(
            wrapping,
            realm_name="Acme Broadband and Hotspot Services of the Greater Metropolitan Area",
            account_name="Example Holdings International (Asia Pacific) Proprietary Limited",
            subtotal=D("15.51"),
            tax=D("1.55"),
            total=D("17.06"),
        ),
        "yen": _doc(
            [_line("1200"), _line("-300", description="Discount")],
            currency="JPY",
            subtotal=D("900"),
            tax=D("90"),
            total=D("990"),
        ),
    }


def test_text_is_what_the_fpdf2_table_printed(small, large, tmp_path):
    for name, doc in _golden_documents(small, large).items():
        text = "\f".join(pdf_pages(render_invoice(doc), tmp_path))
        assert text == (GOLDEN_TEXT / f"{name}.txt").read_text(), name


def test_small_invoice_prints_header_lines_and_totals(small, tmp_path):
    pages = pdf_pages(render_invoice(small), tmp_path)
    assert len(pages) == 1
    text = pages[0]
    for expected in [
        "Acme Broadband",
        "Tax invoice",
        "ACME-000042",
        "1 Feb 2026",
        "zoe - Zoë Example",
        "zoe-kids",
        "Home access — quarterly",  # the Unicode font prints what Latin-1 has not
        "(Zoë’s plan)",
        "Hőgyes utca",
        "15–31 Jan 2026",  # the period's last day, not its exclusive end
        "59.95",
        "16.45",
        "-10.32",
        "6.58",
        "66.08",
        "6.61",
        "72.69",
        "Tax 10%",
        "Total AUD",
        "Page 1 of 1",
    ]:
        assert expected in text, expected


def test_large_invoice_breaks_pages_and_repeats_the_heading_row(large, tmp_path):
    pages = pdf_pages(render_invoice(large), tmp_path)
    assert len(pages) > 1
    for number, page in enumerate(pages, start=1):
        assert "Description" in page and "Amount (AUD)" in page, f"no heading row on {number}"
        assert f"Page {number} of {len(pages)}" in page
    text = "\n".join(pages)
    for i in range(120):
        assert f"user-{i:03d}" in text
    assert "119.25" in text
    assert f"${large.total:,f}" in pages[-1]
    assert "Invoice number" in pages[0] and "Invoice number" not in pages[1]


def test_rendering_twice_gives_identical_bytes(small, large):
    assert render_invoice(small) == render_invoice(small)
    assert render_invoice(large) == render_invoice(large)
    later = dataclasses.replace(small, issued_at=datetime(2026, 2, 2, tzinfo=UTC))
    assert render_invoice(later) != render_invoice(small)


def test_metadata_title_author_and_creation_date(small, tmp_path):
    doc = dataclasses.replace(small, realm_name="Acme \u2014 Broadband")
    data = render_invoice(doc)
    info = _pdf_info(data, tmp_path)
    assert info["Title"] == "ACME-000042"
    assert info["Author"] == "Acme \u2014 Broadband"  # metadata keep Unicode
    assert b"/CreationDate (D:20260201063000Z)" in data  # issued_at, in UTC


@pytest.mark.parametrize(
    ("currency", "amount", "printed", "not_printed"),
    [
        ("JPY", "900", "900", "900.00"),
        ("KWD", "1.5", "1.500", "1.50"),
        ("AUD", "7", "7.00", "7"),
    ],
)
def test_amounts_use_the_currency_minor_unit(currency, amount, printed, not_printed, tmp_path):
    doc = _doc(
        [_line(amount)],
        currency=currency,
        subtotal=D(amount),
        tax=D(0),
        tax_rate=D(0),
        total=D(amount),
    )
    text = pdf_pages(render_invoice(doc), tmp_path)[0]
    assert f"({currency})" in text and f"Total {currency}" in text
    # the line, then the subtotal and the total with the currency's sign (babel, en_AU)
    assert _amounts(text.replace("$", " ").replace(currency, " ")).count(printed) == 4
    assert not_printed not in _amounts(text.replace("$", " ").replace(currency, " "))
    assert not_printed not in _amounts(text)
    assert "Tax 0%" in text


def test_tax_rate_prints_as_percentage_without_trailing_zeros(small, tmp_path):
    doc = dataclasses.replace(small, tax_rate=D("0.085"))
    assert "Tax 8.5%" in pdf_pages(render_invoice(doc), tmp_path)[0]


def test_write_invoice_writes_once_and_never_replaces(small, tmp_path):
    path = write_invoice(small, tmp_path)
    assert path == tmp_path / "acme" / "ACME-000042.pdf"
    written = path.read_bytes()
    assert written == invoice_file(small)
    assert [p.name for p in path.parent.iterdir()] == ["ACME-000042.pdf"]  # no temp left

    changed = dataclasses.replace(small, total=D("999.99"))
    assert write_invoice(changed, tmp_path) == path
    assert path.read_bytes() == written

    path.write_bytes(b"issued elsewhere")
    assert write_invoice(small, tmp_path) == path
    assert path.read_bytes() == b"issued elsewhere"


@pytest.mark.parametrize("field", ["realm_id", "number"])
@pytest.mark.parametrize("bad", ["", "..", "a/b"])
def test_write_invoice_rejects_unsafe_file_names(small, tmp_path, field, bad):
    with pytest.raises(ValueError, match="cannot be used as a file name"):
        write_invoice(dataclasses.replace(small, **{field: bad}), tmp_path)
