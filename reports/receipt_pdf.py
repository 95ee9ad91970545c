"""Receipt PDFs: one A4 page per payment or top-up, rendered with fpdf2 as invoices are.

A receipt prints the payment as it was recorded (`jet.ledger_documents.receipt`): what it
paid then and the credit it left, never what later refunds or invoices did with it. So
rendering is deterministic (the creation date is when the payment was recorded) and the
file, once written, is never replaced (`write_once`)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from jet.config import Settings
from jet.ledger_documents import Receipt, receipt
from jet.money import format_money, minor_units
from jet.store.db import session
from jet.store.models import LedgerEntry
from reports.invoice_pdf import _paragraph, start_document
from reports.pdf_fonts import FAMILY
from reports.write_once import write_once

_LABEL_WIDTH = 40.0  # mm
_COLUMNS = ((60.0, "Paid", "L"), (40.0, "Dated", "L"), (40.0, "Amount", "R"))


def receipt_title(doc: Receipt) -> str:
    return "Top-up receipt" if doc.kind == "top_up" else "Receipt"


def render_receipt(doc: Receipt) -> bytes:
    """The receipt as PDF bytes; the same receipt always gives the same bytes."""
    places = minor_units(doc.currency)
    currency = doc.currency.upper()

    def money(value: Decimal) -> str:
        return format_money(value, places)

    title = receipt_title(doc)
    subject = f"{title} {doc.number} for {doc.account_id}"
    pdf = start_document(doc.realm_name, title, str(doc.number), subject, doc.recorded_at)

    details = [
        ("Receipt number", str(doc.number)),
        ("Received", doc.day.isoformat()),
        ("Account", f"{doc.account_id} - {doc.account_name}"),
        ("Method", doc.method or ""),
        ("Reference", doc.reference or ""),
        (f"Amount {currency}", money(doc.amount)),
    ]
    for label, value in details:
        if not value:
            continue
        bold = label.startswith("Amount")
        pdf.set_font(FAMILY, style="B", size=11 if bold else 10)
        pdf.cell(_LABEL_WIDTH, 7 if bold else 6, label)
        pdf.set_font(FAMILY, style="B" if bold else "", size=11 if bold else 10)
        _paragraph(pdf, 7 if bold else 6, value)
    pdf.ln(6)

    pdf.set_font(FAMILY, style="B", size=10)
    for width, heading, align in _COLUMNS:
        text = f"{heading} ({currency})" if heading == "Amount" else heading
        pdf.cell(width, 7, text, border="B", align=align)
    pdf.ln(7)
    pdf.set_font(FAMILY, size=10)
    rows = [
        (paid.number or paid.kind.replace("_", " "), paid.day.isoformat(), money(paid.amount))
        for paid in doc.paid
    ]
    if doc.credit_left:
        rows.append(("Credit for the next invoice", "", money(doc.credit_left)))
    for row in rows:
        for (width, _, align), text in zip(_COLUMNS, row, strict=True):
            pdf.cell(width, 6, text, align=align)
        pdf.ln(6)
    pdf.set_font(FAMILY, style="B", size=10)
    for (width, _, align), text in zip(_COLUMNS, ("Total", "", money(doc.amount)), strict=True):
        pdf.cell(width, 7, text, border="T", align=align)
    pdf.ln(7)
    return bytes(pdf.output())


def write_receipt(doc: Receipt, settings: Settings) -> Path:
    """Write the receipt's file under the PDF folder once and return its path."""
    target = receipt_path(settings, doc.realm_id, doc.number)
    return write_once(target, lambda: render_receipt(doc))


def receipt_path(settings: Settings, realm_id: str, number: int) -> Path:
    return settings.pdf_dir / realm_id / "receipts" / f"{number}.pdf"


def render_receipts(settings: Settings) -> list[Path]:
    """Write the receipt of every payment and top-up that has none yet (those recorded
    by bank statements, the gateway or the portal); return the new files."""
    with session(settings.db_url) as s:
        missing = [
            entry_id
            for entry_id, realm_id in s.execute(
                select(LedgerEntry.id, LedgerEntry.realm_id)
                .where(LedgerEntry.kind.in_(("payment", "top_up")))
                .order_by(LedgerEntry.id)
            )
            if not receipt_path(settings, realm_id, entry_id).exists()
        ]
        receipts = [receipt(s, entry_id) for entry_id in missing]
    return [write_receipt(doc, settings) for doc in receipts]
