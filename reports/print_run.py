"""The paper run: one PDF of every invoice of a bill date that goes out on paper (the
account's delivery is `paper`, or it has no e-mail address), for the printer."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from pypdf import PdfWriter
from sqlalchemy import or_, select

from jet.config import Settings
from jet.errors import JetError
from jet.store.db import session
from jet.store.models import Account, Invoice
from reports.issued_invoices import pdf_path


def print_run(settings: Settings, day: date, out: Path | None = None) -> tuple[Path, int] | None:
    """Merge the paper invoices of bill date `day` into `out` (by default
    JET_HOME/print/invoices-DAY.pdf), by number; the file and how many, or None if none."""
    query = (
        select(Invoice.realm_id, Invoice.number)
        .join(Account, Account.id == Invoice.account_id)
        .where(Invoice.bill_date == day)
        .where(or_(Account.delivery == "paper", Account.email.is_(None), Account.email == ""))
        .order_by(Invoice.realm_id, Invoice.number)
    )
    with session(settings.db_url) as s:
        invoices = list(s.execute(query))
    if not invoices:
        return None
    files = [pdf_path(settings, realm, number) for realm, number in invoices]
    missing = [f.stem for f in files if not f.exists()]
    if missing:
        raise JetError(
            f"{len(missing)} paper invoices of {day} have no PDF yet ({', '.join(missing[:5])}"
            f"{' ...' if len(missing) > 5 else ''}): run the billing cycle for {day} first"
        )
    out = out or settings.root / "print" / f"invoices-{day}.pdf"
    out.parent.mkdir(parents=True, exist_ok=True)
    writer = PdfWriter()
    for f in files:
        writer.append(f)
    with open(out, "wb") as fh:
        writer.write(fh)
    return out, len(files)
