"""PDF files of the issued invoices and credit notes in the operational store.

The core issues (numbers and lines, `jet.invoicing`); this layer renders what was issued,
called by the orchestration's `invoice_pdfs` asset and by `jet invoice credit` after
their issue step. A file is written once and never replaced (`write_invoice`).

Rendering is CPU work in pure Python, so a run with many invoices renders in a pool of
processes, one per core; the store is read in bulk, a batch of invoices at a time, and
the workers get plain documents (`InvoiceDocument`), never ORM objects."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from functools import partial
from pathlib import Path

from sqlalchemy import Row, select
from sqlalchemy.orm import Session, aliased

from jet.config import Settings
from jet.ledger_documents import allocated_when_recorded, due_date
from jet.store.db import session
from jet.store.models import Account, Invoice, InvoiceLine, LedgerEntry, Realm
from reports.invoice_contents import complete
from reports.invoice_pdf import InvoiceDocument, InvoiceDocumentLine, write_invoice

_BATCH = 500  # invoices read from the store at a time (two batches held)
_CHUNK = 20  # invoices a worker is sent at a time


def render_pdfs(
    settings: Settings,
    progress: Callable[[int, int], None] = lambda done, total: None,
    processes: int | None = None,
) -> list[Path]:
    """Render the PDF of every issued invoice that has none yet; return the new files.

    `processes` is how many render at once: by default one per core this process may run
    on, and no more than there are chunks of `_CHUNK` invoices (one invoice, one process)."""
    with session(settings.db_url) as s:
        invoices = [
            row
            for row in s.execute(_INVOICES)
            if not pdf_path(settings, row.realm_id, row.number).exists()
        ]
    if not invoices:
        return []
    if processes is None:
        processes = min(_cores(), -(-len(invoices) // _CHUNK))
    written: list[Path] = []

    def collect(paths: Iterator[Path]) -> None:
        for path in paths:
            written.append(path)
            progress(len(written), len(invoices))

    render = partial(write_invoice, directory=settings.pdf_dir)
    with _mapper(processes) as map_:
        rendering: Iterator[Path] = iter(())
        for start in range(0, len(invoices), _BATCH):
            with session(settings.db_url) as s:
                docs = _documents(s, invoices[start : start + _BATCH], settings.root)
            # The workers render this batch while this process reads the next one.
            rendering, done = map_(render, docs), rendering
            collect(done)
        collect(rendering)
    return written


def pdf_path(settings: Settings, realm_id: str, number: str) -> Path:
    return settings.pdf_dir / realm_id / f"{number}.pdf"


_credited = aliased(Invoice)

# Every issued invoice with what its PDF prints besides its lines.
_INVOICES = (
    select(
        Invoice.id,
        Invoice.kind,
        Invoice.number,
        Invoice.realm_id,
        Realm.name.label("realm_name"),
        Realm.tax_rate,
        Invoice.currency,
        Invoice.bill_date,
        Invoice.issued_at,
        Invoice.account_id,
        Account.name.label("account_name"),
        Invoice.subtotal,
        Invoice.tax,
        Invoice.total,
        Invoice.reason,
        _credited.number.label("credited_number"),
    )
    .join(Realm, Realm.id == Invoice.realm_id)
    .join(Account, Account.id == Invoice.account_id)
    .outerjoin(_credited, _credited.id == Invoice.credits_invoice_id)
    .order_by(Invoice.id)
)


def _documents(s: Session, invoices: list[Row], home: Path | None = None) -> list[InvoiceDocument]:
    """The documents of `invoices`, with their lines read in one query, completed from the
    catalog and the accounts (`reports.invoice_contents`); `home`: where realm brand
    files are (JET_HOME)."""
    stored: dict[int, list[InvoiceLine]] = {row.id: [] for row in invoices}
    query = (
        select(InvoiceLine)
        .where(InvoiceLine.invoice_id.in_(stored))
        .order_by(InvoiceLine.invoice_id, InvoiceLine.id)
    )
    for line in s.scalars(query):
        stored[line.invoice_id].append(line)
    lines = {
        invoice_id: [
            InvoiceDocumentLine(
                ln.account_id,
                ln.description,
                ln.kind,
                ln.period_start,
                ln.period_end,
                ln.quantity,
                ln.amount,
            )  # fmt: skip
            for ln in rows
        ]
        for invoice_id, rows in stored.items()
    }
    paid = _paid_at_issue(s, [row.id for row in invoices if row.kind == "invoice"])
    due_dates: dict[tuple[str, date], date] = {}
    for row in invoices:
        if row.kind == "invoice" and (row.realm_id, row.bill_date) not in due_dates:
            due_dates[(row.realm_id, row.bill_date)] = due_date(s, row.realm_id, row.bill_date)
    docs = [
        InvoiceDocument(
            number=row.number,
            kind=row.kind,
            credited_number=row.credited_number,
            realm_name=row.realm_name,
            realm_id=row.realm_id,
            currency=row.currency,
            bill_date=row.bill_date,
            issued_at=row.issued_at,
            account_id=row.account_id,
            account_name=row.account_name,
            lines=lines[row.id],
            subtotal=row.subtotal,
            tax=row.tax,
            tax_rate=row.tax_rate,
            total=row.total,
            due_date=due_dates.get((row.realm_id, row.bill_date)),
            credit_applied=paid.get(row.id),
            **_credit_note_heading(row),
        )
        for row in invoices
    ]
    return complete(s, docs, {row.number: stored[row.id] for row in invoices}, home)


def _paid_at_issue(s: Session, invoice_ids: list[int]) -> dict[int, Decimal]:
    """What the account's credit paid of each invoice when it was issued, by invoice id;
    none for an invoice without a ledger entry."""
    entries = list(s.scalars(select(LedgerEntry).where(LedgerEntry.invoice_id.in_(invoice_ids))))
    paid = allocated_when_recorded(s, entries)
    return {e.invoice_id: sum(paid[e.id].values(), Decimal(0)) for e in entries}


def _credit_note_heading(invoice: Row) -> dict[str, str]:
    """A credit note's title, and the note under it naming the invoice it credits and why."""
    if invoice.kind != "credit_note":
        return {}
    return {
        "title": "Credit note",
        "note": f"Credits invoice {invoice.credited_number}: {invoice.reason}",
    }


def _cores() -> int:
    """The cores this process may run on (its CPU affinity where the system has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


@contextmanager
def _mapper(processes: int) -> Iterator[Callable]:
    """`map` in this process, or over a pool of `processes` processes.

    On Linux the pool forks: its workers start at once, with fpdf2 imported. A spawned
    worker is a new interpreter that imports the caller's main module again (the `jet`
    CLI, which runs the billing cycle: about 3 CPU-seconds a worker, the time to render
    a thousand invoices). A forked worker only unpickles documents, renders them and
    writes files: it touches nothing the caller's other threads use (the billing cycle
    has one, the tqdm monitor Great Expectations leaves running)."""
    if processes <= 1:
        yield map
        return
    context = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
    pool = context.Pool(processes, initializer=_default_signals)
    try:
        yield partial(pool.imap, chunksize=_CHUNK)
        pool.close()  # done: let the workers finish and exit
    except BaseException:
        pool.terminate()
        raise
    finally:
        pool.join()


def _default_signals() -> None:
    """A worker ends on SIGTERM, whatever its parent made of it: a Dagster run maps SIGTERM
    to SIGINT's handler, which is SIG_IGN in a job started in the background, and a
    worker that ignores SIGTERM never stopped (its pool hung on it)."""
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, signal.SIG_DFL)
