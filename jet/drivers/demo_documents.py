"""What the demo leaves to open: a customer's invoice and monthly statement per realm,
the paper run of the last bill date, and the exports for the accountants. Each is made
by the function its command calls (`jet account statement`, `jet invoice print`,
`jet invoice export`, `jet invoice journal`), so the demo shows what they write."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from pypdf import PdfReader
from sqlalchemy import select

from jet.config import Settings
from jet.statements import statement
from jet.store.db import session
from jet.store.models import Account, Invoice
from reports.gl_journal import export_journal
from reports.invoice_export import export_invoices
from reports.issued_invoices import pdf_path
from reports.print_run import print_run
from reports.statement_pdf import write_statement


@dataclass(frozen=True, slots=True)
class Sample:
    """A document of one customer of a realm: its invoice, or its statement of a month."""

    realm: str
    what: str  # "invoice" or "statement"
    account: str
    name: str
    path: Path


@dataclass(frozen=True, slots=True)
class PaperRun:
    path: Path
    invoices: int
    pages: int


@dataclass(frozen=True, slots=True)
class Export:
    path: Path
    rows: int
    documents: int  # invoices and credit notes, or journal entries


def _non_latin(name: str) -> bool:
    """Whether `name` has letters of a script after Latin (Greek, Cyrillic ...)."""
    return any(ord(c) >= 0x370 for c in name)


CANDIDATES = 25  # statements a realm's sample is chosen from


def samples(settings: Settings, bill_date: date, month: date, today: date) -> list[Sample]:
    """Per realm, the invoice of `bill_date` that shows the most (a name in Greek or
    Cyrillic, which the invoice's font prints, else a company's, else the first) and the
    statement of `month` (written once, as `jet account statement` writes it) with the
    most kinds of entries among the first companies, else customers whose names
    statements print (Latin-1, docs/statements.md)."""
    query = (
        select(Invoice.realm_id, Invoice.number, Account.id, Account.name, Account.kind)
        .join(Account, Account.id == Invoice.account_id)
        .where(Invoice.bill_date == bill_date, Invoice.kind == "invoice")
        .order_by(Invoice.realm_id, Invoice.number)
    )
    invoices: dict[str, tuple] = {}
    candidates: dict[str, list[tuple]] = {}
    with session(settings.db_url) as s:
        for realm, number, account, name, kind in s.execute(query):
            other, company = _non_latin(name), kind == "company"
            if realm not in invoices or (not other, not company) < invoices[realm][0]:
                invoices[realm] = ((not other, not company), (number, account, name))
            candidates.setdefault(realm, []).append(((other, not company), account, name))
        statements = {}
        for realm, found in candidates.items():
            found.sort(key=lambda c: c[0])  # stable: by invoice number within a rank
            docs = [(statement(s, a, month, today), a, n) for _, a, n in found[:CANDIDATES]]
            statements[realm] = max(docs, key=lambda d: len({ln.kind for ln in d[0].lines}))
    chosen = []
    for realm in sorted(invoices):
        number, account, name = invoices[realm][1]
        chosen.append(Sample(realm, "invoice", account, name, pdf_path(settings, realm, number)))
        doc, account, name = statements[realm]
        chosen.append(Sample(realm, "statement", account, name, write_statement(doc, settings)))
    return chosen


def paper_run(settings: Settings, bill_date: date) -> PaperRun | None:
    """`jet invoice print --date bill_date`: the merged PDF for the printer, or None."""
    done = print_run(settings, bill_date)
    if done is None:
        return None
    path, invoices = done
    return PaperRun(path, invoices, len(PdfReader(path).pages))


def exports(settings: Settings, first: date, last: date) -> tuple[Export, Export]:
    """`jet invoice export` (CSV) and `jet invoice journal` of [first, last], under
    JET_HOME/exports, named as the commands name them."""
    folder = settings.root / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    lines_path = folder / f"invoice-lines_{first}_{last}.csv"
    lines = export_invoices(settings, first, last, "csv", lines_path)
    journal_path = folder / f"gl-journal_{first}_{last}.csv"
    journal = export_journal(settings, first, last, journal_path)
    return (
        Export(lines_path, len(lines), len({r["invoice_number"] for r in lines})),
        Export(journal_path, len(journal), len({r["journal_id"] for r in journal})),
    )
