"""Monthly account statement PDFs, rendered with fpdf2 as invoices and receipts are.

A statement prints `jet.statements.statement`: who it is for, the month's opening
balance, each ledger entry of the month with the balance after it, the closing balance
and what is due. The same statement always gives the same bytes (its creation date is
the end of its month), and its file, once written, is never replaced (`write_once`)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from jet.config import Settings
from jet.money import format_money
from jet.statements import Statement, active_accounts, statement
from jet.store.db import session
from reports.invoice_pdf import _paragraph, _table, start_document
from reports.pdf_fonts import FAMILY
from reports.write_once import write_once

_LABEL_WIDTH = 40.0  # mm
_SUMMARY_WIDTH = 60.0  # mm, a summary label
_AMOUNT_WIDTH = 30.0  # mm, a summary amount
# The entries table's columns: 180 mm, the text width; an invoice number such as
# EUROWAVE-2026-000002 fits its column, as do amounts up to 999999999.99.
_HEADING = ("Date", "Reference", "Description", "Debit", "Credit", "Balance")
_WIDTHS = (22.0, 48.0, 52.0, 19.0, 19.0, 20.0)
_RIGHT = (False, False, False, True, True, True)


def render_statement(doc: Statement) -> bytes:
    """The statement as PDF bytes; the same statement always gives the same bytes."""
    currency = doc.currency.upper()

    def money(value: Decimal) -> str:
        return format_money(value, doc.places)

    number = f"{doc.account_id} {doc.label}"
    pdf = start_document(
        doc.realm_name, "Statement", number, f"Statement {doc.label} for {doc.account_id}",
        doc.as_of, f"{doc.month.isoformat()} to {doc.last_day.isoformat()}",
    )  # fmt: skip

    details = [
        ("Account", doc.account_name),
        ("Account id", doc.account_id),
        ("Address", doc.address or ""),
        ("Realm", f"{doc.realm_name} ({doc.realm_id})"),
        ("Month", doc.label),
        ("Currency", doc.currency.upper()),
    ]
    for label, value in details:
        if not value:
            continue
        pdf.set_font(FAMILY, style="B", size=10)
        pdf.cell(_LABEL_WIDTH, 6, label)
        pdf.set_font(FAMILY, size=10)
        _paragraph(pdf, 6, value)
    pdf.ln(4)

    summary = [
        (f"Opening balance {doc.month.isoformat()}", money(doc.opening), False),
        ("Debits", money(doc.debits), False),
        ("Credits", money(doc.credits), False),
        (f"Closing balance {doc.last_day.isoformat()}", money(doc.closing), True),
    ]
    if doc.amount_due:
        summary.append((f"Amount due {currency}", money(doc.amount_due), True))
    elif doc.closing < 0:
        summary.append((f"In credit {currency}", money(-doc.closing), True))
    for label, amount, bold in summary:
        pdf.set_font(FAMILY, style="B" if bold else "", size=11 if bold else 10)
        pdf.cell(_SUMMARY_WIDTH, 7, label)
        pdf.cell(_AMOUNT_WIDTH, 7, amount, align="R")
        pdf.ln(7)
    pdf.ln(4)

    def cells(day, reference, description, debit, credit, balance) -> list[str]:
        amounts = [money(v) if v is not None else "" for v in (debit, credit, balance)]
        return [day.isoformat(), reference, description, *amounts]

    rows = [
        cells(doc.month, "", "Opening balance", None, None, doc.opening),
        *(
            cells(ln.day, ln.reference, ln.description, ln.debit, ln.credit, ln.balance)
            for ln in doc.lines
        ),
        cells(doc.last_day, "", "Closing balance", None, None, doc.closing),
    ]
    _table(pdf, list(_HEADING), [(row, False) for row in rows], _WIDTHS, _RIGHT)
    return bytes(pdf.output())


def statement_path(settings: Settings, realm_id: str, account_id: str, month: date) -> Path:
    """`<pdf_dir>/<realm>/statements/<account>-<YYYY-MM>.pdf` (logins are file-name safe)."""
    return settings.pdf_dir / realm_id / "statements" / f"{account_id}-{month:%Y-%m}.pdf"


def write_statement(doc: Statement, settings: Settings) -> Path:
    """Write the statement's file under the PDF folder once and return its path."""
    target = statement_path(settings, doc.realm_id, doc.account_id, doc.month)
    return write_once(target, lambda: render_statement(doc))


def render_statements(settings: Settings, month: date, today: date | None = None) -> list[Path]:
    """Write the statement of the month beginning `month` of every billing account with
    ledger entries dated in it that has none yet; return the new files. With `today`, a
    month not over by then is refused (`jet.statements.statement`)."""
    with session(settings.db_url) as s:
        docs = [
            statement(s, account_id, month, today)
            for account_id, realm_id in active_accounts(s, month)
            if not statement_path(settings, realm_id, account_id, month).exists()
        ]
    return [write_statement(doc, settings) for doc in docs]
