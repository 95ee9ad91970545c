"""The invoice lines for accountants (`jet invoice export`, docs/exports.md): one row per
line of every invoice and credit note issued in a window of bill dates, with its
invoice's fields, its tax code and its share of the invoice's tax, as CSV, xlsx, JSON or
Parquet.

Issued invoices are read from the published marts (`fct_invoices`, `fct_invoice_lines`,
`dim_accounts`), so an export says what the marts say; what the marts do not hold of a
realm (the rate, payment terms and ledger accounts of the catalog in effect on a bill
date) comes from the core (`jet.realms.catalog_on`).

Tax is per invoice (billing-rules.md): `round(sum of taxable lines x rate)`. A line's
`tax` is its share of its invoice's tax, allocated in proportion to the taxable amounts
by running totals, so a line's tax may differ by a minor unit from its own amount x rate
while an invoice's lines always add up to its tax, and amount + tax to its total."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import groupby
from operator import itemgetter
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import select
from sqlalchemy.orm import Session

from jet.catalog import Catalog
from jet.config import Settings
from jet.errors import JetError
from jet.gl_accounts import LedgerAccounts
from jet.ledger_documents import due_date
from jet.money import round_money
from jet.realms import catalog_on
from jet.store.db import session
from jet.store.models import Realm
from jet.tax_categories import tax_category
from jet.warehouse import marts

FORMATS = ("csv", "xlsx", "json", "parquet")
ZERO = Decimal(0)


class ExportError(JetError, ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Column:
    """A column of an export: its name and kind, which each format writes its own way:
    text, date, money (the currency's minor-unit places), quantity, rate, integer."""

    name: str
    kind: str


def columns(*spec: str) -> tuple[Column, ...]:
    """Columns from "name:kind" (kind text when left off)."""
    return tuple(Column(*(item.split(":") if ":" in item else (item, "text"))) for item in spec)


LINE_COLUMNS = columns(
    "invoice_number", "document_kind", "credited_invoice_number", "realm_id", "currency",
    "bill_date:date", "issue_date:date", "due_date:date", "billing_account_id",
    "billing_account_name", "tax_id", "line_number:integer", "line_account_id",
    "line_account_name", "product_id", "line_kind", "description", "period_start:date",
    "period_end:date", "quantity:quantity", "amount:money", "tax_category", "tax_rate:rate",
    "tax:money", "line_total:money", "revenue_account",
)  # fmt: skip

# The marts' names for what is not computed here are the export's names.
_LINES = """
    select i.invoice_number, i.document_kind,
           i.credits_invoice_number as credited_invoice_number, i.realm_id, i.currency,
           i.bill_date, i.issued_at, i.billing_account_id,
           billing.account_name as billing_account_name, billing.tax_id,
           i.subtotal as invoice_subtotal, i.tax as invoice_tax, i.total as invoice_total,
           l.account_id as line_account_id, users.account_name as line_account_name,
           l.product_id, l.kind as line_kind, l.description, l.period_start, l.period_end,
           l.quantity, l.amount, l.taxable, l.minor_units as places
    from fct_invoices i
    inner join fct_invoice_lines l
        on l.status = 'issued' and l.invoice_number = i.invoice_number
    left join dim_accounts billing on billing.account_id = i.billing_account_id
    left join dim_accounts users on users.account_id = l.account_id
    where i.bill_date between ? and ? and (? is null or i.realm_id = ?)
    order by i.bill_date, i.realm_id, i.invoice_number, l.line_id
"""


class RealmCatalogs:
    """The catalog of a realm in effect on a day, read once per (realm, day) from the store."""

    def __init__(self, s: Session) -> None:
        self.s = s
        self._found: dict[tuple[str, date], Catalog] = {}
        self._due: dict[tuple[str, date], date] = {}

    def due(self, realm_id: str, bill_date: date) -> date:
        """`jet.ledger_documents.due_date`, once per (realm, bill date): each call parses the
        catalog, 80 % of an export of the demo's 3,759 invoices when made per invoice."""
        key = (realm_id, bill_date)
        if key not in self._due:
            self._due[key] = due_date(self.s, realm_id, bill_date)
        return self._due[key]

    def on(self, realm_id: str, day: date) -> Catalog:
        key = (realm_id, day)
        if key not in self._found:
            catalog = catalog_on(self.s, realm_id, day)
            if catalog is None:
                raise ExportError(
                    f"realm {realm_id} has no catalog; load one with `jet catalog load FILE`"
                )
            self._found[key] = catalog
        return self._found[key]

    def ledger_accounts(self, realm_id: str, day: date) -> LedgerAccounts:
        return self.on(realm_id, day).realm.ledger_accounts or LedgerAccounts()


def check_window(s: Session, first: date, last: date, realm: str | None) -> None:
    """Refuse a window that ends before it starts and a realm the store does not know."""
    if first > last:
        raise ExportError(f"--from {first} is after --to {last}; give the first day, then the last")
    if realm is not None and catalog_on(s, realm, last) is None:
        known = ", ".join(s.scalars(select(Realm.id).order_by(Realm.id))) or "none yet"
        raise ExportError(f"there is no realm {realm!r} with a catalog; the realms are: {known}")


def export_rows(
    settings: Settings, s: Session, first: date, last: date, realm: str | None = None
) -> list[dict[str, Any]]:
    """One row per issued line of the invoices and credit notes billed in [first, last]
    (bill date, both days included), of `realm` or every realm; LINE_COLUMNS' order."""
    check_window(s, first, last, realm)
    con = marts(settings)
    try:
        cursor = con.execute(_LINES, [first, last, realm, realm])
        names = [d[0] for d in cursor.description]
        found = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
    finally:
        con.close()
    catalogs = RealmCatalogs(s)
    rows: list[dict[str, Any]] = []
    for _, lines in groupby(found, key=itemgetter("invoice_number")):
        rows += _invoice_rows(s, catalogs, list(lines))
    return rows


def _invoice_rows(s: Session, catalogs: RealmCatalogs, lines: list[dict]) -> list[dict]:
    """The rows of one invoice's lines: its tax shared among them, its realm's codes."""
    head = lines[0]
    places, tax = head["places"], head["invoice_tax"]
    if (
        sum((line["amount"] for line in lines), ZERO) != head["invoice_subtotal"]
        or head["invoice_subtotal"] + tax != head["invoice_total"]
    ):
        raise ExportError(
            f"the lines of {head['invoice_number']} do not add up to its subtotal in the "
            "published marts; publish them again (`jet rate`) and export again"
        )
    catalog = catalogs.on(head["realm_id"], head["bill_date"])
    rate = catalog.realm.tax_rate
    accounts = catalog.realm.ledger_accounts or LedgerAccounts()
    shares = allocate_tax(tax, [ln["amount"] if ln["taxable"] else None for ln in lines], places)
    due = None
    if head["document_kind"] == "invoice":
        due = catalogs.due(head["realm_id"], head["bill_date"])
    rows = []
    for position, (line, share) in enumerate(zip(lines, shares, strict=True), start=1):
        quantity = line["quantity"]
        rows.append(
            {c.name: line.get(c.name) for c in LINE_COLUMNS}
            | {
                "issue_date": _utc_day(line["issued_at"]),
                "due_date": due,
                "line_number": position,
                "quantity": None if quantity is None else Decimal(f"{quantity.normalize():f}"),
                "amount": round_money(line["amount"], places),
                "tax_category": tax_category(line["taxable"], rate),
                "tax_rate": rate if line["taxable"] else ZERO,
                "tax": share,
                "line_total": round_money(line["amount"] + share, places),
                "revenue_account": accounts.revenue_account(line["product_id"]),
                "_places": places,  # for the writers and the journal
                "_accounts": accounts,
            }
        )
    return rows


def allocate_tax(tax: Decimal, amounts: Sequence[Decimal | None], places: int) -> list[Decimal]:
    """An invoice's `tax` shared among its lines (`None`: not taxable, no share) in
    proportion to their amounts, each share rounded to `places` by running totals:
    share i = round(tax x (a1 + ... + ai) / S) - round(tax x (a1 + ... + ai-1) / S), with S
    the sum of the taxable amounts. The shares always add up to `tax` exactly."""
    taxable = sum((a for a in amounts if a is not None), ZERO)
    zero = round_money(ZERO, places)
    shares = [zero] * len(amounts)
    if not tax:
        return shares
    positions = [i for i, a in enumerate(amounts) if a is not None]
    if not positions:
        raise ExportError(f"an invoice has tax {tax} but no taxable line; nothing to share it to")
    if not taxable:  # the taxable lines cancel out: the tax stays with the last one
        shares[positions[-1]] = round_money(tax, places)
        return shares
    running, before = ZERO, zero
    for i in positions:
        running += amounts[i]  # type: ignore[operator]
        upto = round_money(tax * running / taxable, places)
        shares[i] = upto - before
        before = upto
    return shares


def _utc_day(moment: datetime | None) -> date | None:
    if moment is None:
        return None
    return (moment.astimezone(UTC) if moment.tzinfo else moment).date()


# --- writing ---------------------------------------------------------------------------


def write_rows(
    rows: list[dict[str, Any]], cols: Sequence[Column], fmt: str, out: Path | IO[bytes]
) -> None:
    """Write `rows` in `fmt` to a file path or a binary stream."""
    writers = {"csv": _csv, "xlsx": _xlsx, "json": _json, "parquet": _parquet}
    if fmt not in writers:
        raise ExportError(f"there is no export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    writers[fmt](rows, cols, out)


def text(value: Any, kind: str, places: int) -> str:
    """A value as CSV and JSON write it: money with exactly the minor-unit places."""
    if value is None:
        return ""
    if kind == "money":
        return f"{round_money(value, places):f}"
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _binary(out: Path | IO[bytes], data: bytes) -> None:
    if isinstance(out, Path):
        out.write_bytes(data)
    else:
        out.write(data)


def _csv(rows: list[dict], cols: Sequence[Column], out: Path | IO[bytes]) -> None:
    import io

    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([c.name for c in cols])
    for row in rows:
        writer.writerow([text(row[c.name], c.kind, row["_places"]) for c in cols])
    _binary(out, buffer.getvalue().encode("utf-8"))


def _json(rows: list[dict], cols: Sequence[Column], out: Path | IO[bytes]) -> None:
    def value(row: dict, c: Column) -> Any:
        v = row[c.name]
        if v is None or c.kind == "integer":
            return v
        return text(v, c.kind, row["_places"])

    data = [{c.name: value(row, c) for c in cols} for row in rows]
    _binary(out, (json.dumps(data, indent=1, ensure_ascii=False) + "\n").encode("utf-8"))


_ARROW = {
    "text": pa.string(),
    "date": pa.date32(),
    "integer": pa.int64(),
    "money": pa.decimal128(18, 3),  # as the marts hold money: exact for 0, 2 and 3 places
    "quantity": pa.decimal128(38, 9),
    "rate": pa.decimal128(9, 6),
}


def _parquet(rows: list[dict], cols: Sequence[Column], out: Path | IO[bytes]) -> None:
    schema = pa.schema([(c.name, _ARROW[c.kind]) for c in cols])
    table = pa.Table.from_pylist([{c.name: row[c.name] for c in cols} for row in rows], schema)
    pq.write_table(table, out)


def _xlsx(rows: list[dict], cols: Sequence[Column], out: Path | IO[bytes]) -> None:
    """Numbers as numbers (money with its currency's places shown), dates as dates."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    sheet = book.create_sheet("lines")
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for c in cols:
        cell = WriteOnlyCell(sheet, value=c.name)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    formats = {"date": "yyyy-mm-dd", "rate": "0.00####", "quantity": "0.#########"}
    for row in rows:
        money = "0" if row["_places"] == 0 else "0." + "0" * row["_places"]
        cells = []
        for c in cols:
            cell = WriteOnlyCell(sheet, value=row[c.name])
            if row[c.name] is not None and c.kind != "text":
                cell.number_format = money if c.kind == "money" else formats.get(c.kind, "0")
            cells.append(cell)
        sheet.append(cells)
    book.save(out)


def export_invoices(
    settings: Settings,
    first: date,
    last: date,
    fmt: str,
    out: Path | IO[bytes],
    realm: str | None = None,
) -> list[dict[str, Any]]:
    """Write the invoice lines billed in [first, last] as `fmt` to `out`; return the rows."""
    if fmt not in FORMATS:
        raise ExportError(f"there is no export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    with session(settings.db_url) as s:
        rows = export_rows(settings, s, first, last, realm)
    write_rows(rows, LINE_COLUMNS, fmt, out)
    return rows
