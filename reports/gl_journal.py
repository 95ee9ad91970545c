"""The general-ledger journal for accountants (`jet invoice journal`, docs/exports.md): a
balanced double entry per invoice, credit note and money movement in a window of days,
as CSV, on the account codes of each realm's catalog (`ledger_accounts`, jet/gl_accounts.py).

- An invoice debits receivables with its total and credits each revenue account with
  the amounts of its lines (a product's own account, else `revenue`) and tax payable
  with its tax: the lines of the invoice export, summed per account. A credit note, or an
  invoice whose refunds outweigh its charges, is the same entry reversed: a negative
  amount goes to the other side.
- A payment or top-up debits the bank and credits receivables; a refund or reversal (a
  returned debit, a charge-back) the other way round; a write-off debits `write_offs`
  and credits receivables (`fct_ledger_entries`).
- A prepaid account's usage deductions are not posted: they move credit inside the
  account's receivables, and the invoice of their cycle posts the revenue and tax.

Every entry's debits equal its credits (`check_balanced` refuses a journal otherwise)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from sqlalchemy.orm import Session

from jet.config import Settings
from jet.money import minor_units
from jet.store.db import session
from jet.warehouse import marts
from reports.invoice_export import (
    ZERO,
    ExportError,
    RealmCatalogs,
    check_window,
    columns,
    export_rows,
    write_rows,
)

JOURNAL_COLUMNS = columns(
    "journal_id", "entry_date:date", "realm_id", "currency", "source", "document",
    "billing_account_id", "account_code", "account_role", "debit:money", "credit:money",
    "memo",
)  # fmt: skip

# Ledger entry kinds that move money or give up a debt: the account the entry's amount
# is posted against, opposite receivables (an entry's amount is what the customer owes
# more, so receivables take it as it is and that account its negative).
_COUNTER_ACCOUNTS = {
    "payment": "bank",
    "top_up": "bank",
    "refund": "bank",
    "reversal": "bank",
    "write_off": "write_offs",
}

_ENTRIES = """
    select entry_id, entry_date, realm_id, currency, kind, amount, account_id, method,
           reference, reason
    from fct_ledger_entries
    where kind in ({kinds}) and entry_date between ? and ? and (? is null or realm_id = ?)
    order by entry_date, entry_id
"""


def journal_rows(
    settings: Settings, s: Session, first: date, last: date, realm: str | None = None
) -> list[dict[str, Any]]:
    """The journal of invoices and credit notes billed, and money moved, in [first, last]
    (both days included), of `realm` or every realm; JOURNAL_COLUMNS' order, by date."""
    check_window(s, first, last, realm)
    entries: list[list[dict[str, Any]]] = []
    invoices: dict[str, list[dict]] = defaultdict(list)
    for line in export_rows(settings, s, first, last, realm):
        invoices[line["invoice_number"]].append(line)
    for number, lines in invoices.items():
        entries.append(_invoice_entry(number, lines))
    catalogs = RealmCatalogs(s)
    con = marts(settings)
    try:
        kinds = ", ".join(f"'{kind}'" for kind in _COUNTER_ACCOUNTS)
        found = con.execute(_ENTRIES.format(kinds=kinds), [first, last, realm, realm]).fetchall()
    finally:
        con.close()
    for (
        entry_id,
        day,
        realm_id,
        currency,
        kind,
        amount,
        account,
        method,
        reference,
        reason,
    ) in found:
        accounts = catalogs.ledger_accounts(realm_id, day)
        counter = _COUNTER_ACCOUNTS[kind]
        memo = " ".join(part for part in (kind.replace("_", "-"), method, reason) if part)
        head = {
            "journal_id": f"entry-{entry_id}",
            "entry_date": day,
            "realm_id": realm_id,
            "currency": currency,
            "source": kind,
            "document": reference or str(entry_id),
            "billing_account_id": account,
            "memo": memo,
            "_places": minor_units(currency),
        }
        entries.append(
            _postings(
                head,
                [
                    ("receivables", accounts.receivables, amount),
                    (counter, getattr(accounts, counter), -amount),
                ],
            )
        )
    entries = sorted(filter(None, entries), key=lambda e: (e[0]["entry_date"], e[0]["journal_id"]))
    rows = [row for entry in entries for row in entry]
    check_balanced(rows)
    return rows


def _invoice_entry(number: str, lines: list[dict]) -> list[dict]:
    """Receivables by the total, revenue per account by its lines, tax payable by the tax."""
    first = lines[0]
    revenue: dict[str, Decimal] = defaultdict(Decimal)
    for line in lines:
        revenue[line["revenue_account"]] += line["amount"]
    total = sum((line["line_total"] for line in lines), ZERO)
    tax = sum((line["tax"] for line in lines), ZERO)
    accounts = first["_accounts"]
    kind = first["document_kind"].replace("_", " ")
    head = {
        "journal_id": number,
        "entry_date": first["bill_date"],
        "realm_id": first["realm_id"],
        "currency": first["currency"],
        "source": first["document_kind"],
        "document": number,
        "billing_account_id": first["billing_account_id"],
        "memo": f"{kind} to {first['billing_account_name'] or first['billing_account_id']}",
        "_places": first["_places"],
    }
    return _postings(
        head,
        [
            ("receivables", accounts.receivables, total),
            *[("revenue", code, -amount) for code, amount in sorted(revenue.items())],
            ("tax_payable", accounts.tax_payable, -tax),
        ],
    )


def _postings(head: dict, amounts: list[tuple[str, str, Decimal]]) -> list[dict]:
    """A row per (role, account code, amount): a debit when the amount is positive, a
    credit of its size when negative; zero amounts are left out."""
    return [
        {
            **head,
            "account_code": code,
            "account_role": role,
            "debit": amount if amount > 0 else None,
            "credit": -amount if amount < 0 else None,
        }
        for role, code, amount in amounts
        if amount
    ]


def check_balanced(rows: list[dict]) -> None:
    """Refuse a journal in which an entry's debits differ from its credits."""
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        sums[row["journal_id"]] += (row["debit"] or ZERO) - (row["credit"] or ZERO)
    wrong = [journal_id for journal_id, left in sums.items() if left]
    if wrong:
        raise ExportError(
            f"journal entries {', '.join(wrong[:5])} do not balance; publish the marts again "
            "(`jet rate`) and try again"
        )


def write_journal(rows: list[dict], out: Path | IO[bytes]) -> None:
    write_rows(rows, JOURNAL_COLUMNS, "csv", out)


def export_journal(
    settings: Settings, first: date, last: date, out: Path | IO[bytes], realm: str | None = None
) -> list[dict[str, Any]]:
    """Write the journal of [first, last] as CSV to `out`; return its rows."""
    with session(settings.db_url) as s:
        rows = journal_rows(settings, s, first, last, realm)
    write_journal(rows, out)
    return rows
