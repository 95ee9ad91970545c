"""Receipt PDFs: one A4 page per payment or top-up, rendered with fpdf2 as invoices are.

A receipt prints the payment as it was recorded (`jet.ledger_documents.receipt`): what it
paid then and the credit it left, never what later refunds or invoices did with it. So
rendering is deterministic (the creation date is when the payment was recorded) and the
file, once written, is never replaced (`write_once`)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from jet.ledger_documents import Receipt
from jet.money import format_money, minor_units
from reports.invoice_pdf import _latin1, _paragraph, start_document
from reports.write_once import write_once

_LABEL_WIDTH = 40.0  # mm
_COLUMNS = ((60.0, "Paid", "L"), (40.0, "Dated", "L"), (40.0, "Amount", "R"))


def receipt_title(receipt: Receipt) -> str:
    return "Top-up receipt" if receipt.kind == "top_up" else "Receipt"


def render_receipt(receipt: Receipt) -> bytes:
    """The receipt as PDF bytes; the same receipt always gives the same bytes."""
    places = minor_units(receipt.currency)
    currency = _latin1(receipt.currency.upper())

    def money(value: Decimal) -> str:
        return format_money(value, places)

    title = receipt_title(receipt)
    subject = f"{title} {receipt.number} for {receipt.account_id}"
    pdf = start_document(
        receipt.realm_name, title, str(receipt.number), subject, receipt.recorded_at
    )

    details = [
        ("Receipt number", str(receipt.number)),
        ("Received", receipt.day.isoformat()),
        ("Account", f"{receipt.account_id} - {receipt.account_name}"),
        ("Method", receipt.method or ""),
        ("Reference", receipt.reference or ""),
        (f"Amount {currency}", money(receipt.amount)),
    ]
    for label, value in details:
        if not value:
            continue
        bold = label.startswith("Amount")
        pdf.set_font("helvetica", style="B", size=11 if bold else 10)
        pdf.cell(_LABEL_WIDTH, 7 if bold else 6, label)
        pdf.set_font("helvetica", style="B" if bold else "", size=11 if bold else 10)
        _paragraph(pdf, 7 if bold else 6, _latin1(value))
    pdf.ln(6)

    pdf.set_font("helvetica", style="B", size=10)
    for width, heading, align in _COLUMNS:
        text = f"{heading} ({currency})" if heading == "Amount" else heading
        pdf.cell(width, 7, text, border="B", align=align)
    pdf.ln(7)
    pdf.set_font("helvetica", size=10)
    rows = [
        (paid.number or paid.kind.replace("_", " "), paid.day.isoformat(), money(paid.amount))
        for paid in receipt.paid
    ]
    if receipt.credit_left:
        rows.append(("Credit for the next invoice", "", money(receipt.credit_left)))
    for row in rows:
        for (width, _, align), text in zip(_COLUMNS, row, strict=True):
            pdf.cell(width, 6, _latin1(text), align=align)
        pdf.ln(6)
    pdf.set_font("helvetica", style="B", size=10)
    for (width, _, align), text in zip(_COLUMNS, ("Total", "", money(receipt.amount)), strict=True):
        pdf.cell(width, 7, text, border="T", align=align)
    pdf.ln(7)
    return bytes(pdf.output())


def write_receipt(receipt: Receipt, directory: Path) -> Path:
    """Write `<directory>/<realm_id>/receipts/<number>.pdf` once and return its path."""
    target = Path(directory) / receipt.realm_id / "receipts" / f"{receipt.number}.pdf"
    return write_once(target, lambda: render_receipt(receipt))
