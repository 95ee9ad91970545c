"""PDF files of the issued invoices and credit notes in the operational store.

The core issues (numbers and lines, `jet.invoicing`); this layer renders what was issued,
called by the orchestration's `invoice_pdfs` asset and by `jet invoice credit` after
their issue step. A file is written once and never replaced (`write_invoice`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from jet.config import Settings
from jet.store.db import session
from jet.store.models import Account, Invoice, Realm
from reports.invoice_pdf import InvoiceDocument, InvoiceDocumentLine, write_invoice


def render_pdfs(
    settings: Settings, progress: Callable[[int, int], None] = lambda done, total: None
) -> list[Path]:
    """Render the PDF of every issued invoice that has none yet; return the new files."""
    written = []
    with session(settings.db_url) as s:
        realms = {r.id: r for r in s.scalars(select(Realm))}
        invoices = [
            inv
            for inv in s.scalars(
                select(Invoice).options(selectinload(Invoice.lines)).order_by(Invoice.id)
            )
            if not pdf_path(settings, inv.realm_id, inv.number).exists()
        ]
        names = (
            dict(
                s.execute(
                    select(Account.id, Account.name).where(
                        Account.id.in_({inv.account_id for inv in invoices})
                    )
                ).all()
            )
            if invoices
            else {}
        )
        credited = _credited_numbers(s, invoices)
        for done, inv in enumerate(invoices, start=1):
            realm = realms[inv.realm_id]
            doc = InvoiceDocument(
                number=inv.number,
                realm_name=realm.name,
                realm_id=realm.id,
                currency=inv.currency,
                bill_date=inv.bill_date,
                issued_at=inv.issued_at,
                account_id=inv.account_id,
                account_name=names.get(inv.account_id, ""),
                lines=[
                    InvoiceDocumentLine(
                        account_id=line.account_id,
                        description=line.description,
                        kind=line.kind,
                        period_start=line.period_start,
                        period_end=line.period_end,
                        quantity=line.quantity,
                        amount=line.amount,
                    )
                    for line in inv.lines
                ],
                subtotal=inv.subtotal,
                tax=inv.tax,
                tax_rate=realm.tax_rate,
                total=inv.total,
                **_credit_note_heading(inv, credited),
            )
            written.append(write_invoice(doc, settings.pdf_dir))
            progress(done, len(invoices))
    return written


def pdf_path(settings: Settings, realm_id: str, number: str) -> Path:
    return settings.pdf_dir / realm_id / f"{number}.pdf"


def _credited_numbers(s, invoices: list[Invoice]) -> dict[int, str]:
    """The numbers of the invoices that `invoices`' credit notes credit, by id."""
    ids = {inv.credits_invoice_id for inv in invoices if inv.kind == "credit_note"}
    if not ids:
        return {}
    return dict(s.execute(select(Invoice.id, Invoice.number).where(Invoice.id.in_(ids))).all())


def _credit_note_heading(invoice: Invoice, numbers: dict[int, str]) -> dict[str, str]:
    """A credit note's title, and the note under it naming the invoice it credits and why."""
    if invoice.kind != "credit_note":
        return {}
    return {
        "title": "Credit note",
        "note": f"Credits invoice {numbers[invoice.credits_invoice_id]}: {invoice.reason}",
    }
