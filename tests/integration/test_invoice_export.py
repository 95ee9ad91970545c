"""The exports for accountants against a really billed store: invoice lines as CSV, xlsx
(read back by openpyxl), JSON and Parquet (read back by DuckDB), and the general-ledger
journal, all adding up to `fct_invoices` to the cent (docs/exports.md)."""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from datetime import date
from decimal import Decimal

import duckdb
import openpyxl
import pytest
from click.testing import CliRunner

from jet.cli import main
from jet.config import Settings
from jet.drivers.simulate import load_scenario
from jet.invoicing import credit_invoice, issue_invoices
from jet.warehouse import marts, rate

NORTH = """
realm:
  id: north
  name: North Net
  currency: AUD
  tax_rate: "0.10"
  cycle: fixed_date
  cycle_day: 1
  payment_terms: 30
  ledger_accounts:
    receivables: "1200"
    tax_payable: 2210
    bank: "1010"
    revenue: "4000"
    products: {access: "4010", setup: "4090"}
catalog:
  products:
    access: {type: flat, price: "59.95", period: monthly}
    setup: {type: once, price: "49.99"}
    data: {type: usage, metric: bytes_total, unit: MB, price: "0.013"}
  plans:
    home: {products: [access, setup, data]}
accounts:
  - {id: acme-co, name: Acme Pty Ltd, kind: company, country: AU, tax_id: "51824753556"}
  - {id: ann, name: Ann, parent: acme-co}
  - {id: bea, name: Bea Example}
subscriptions:
  - {account: ann, plan: home, start: 2026-01-10}
  - {account: bea, plan: home, start: 2026-01-21}
usage:
  - {account: ann, ts: "2026-01-12T08:00:00Z", bytes_in: 123456789, bytes_out: 1000000}
  - {account: bea, ts: "2026-01-25T08:00:00Z", bytes_in: 7777777, bytes_out: 0}
line_items:
  - {account: ann, date: 2026-01-15, description: Router, amount: "0.05"}
  - {account: ann, date: 2026-01-16, description: Cable, amount: "0.05"}
  - {account: ann, date: 2026-01-17, description: Stamp duty, amount: "12.34", taxable: false}
  - {account: bea, date: 2026-01-22, description: Goodwill, amount: "-5.00"}
"""

SOUTH = """
realm: {id: south, currency: JPY, tax_rate: "0", cycle: fixed_date, cycle_day: 1}
catalog:
  products:
    access: {type: flat, price: "3300", period: monthly}
  plans:
    home: {products: [access]}
accounts:
  - {id: kenji, name: Kenji}
subscriptions:
  - {account: kenji, plan: home, start: 2026-01-05}
"""

BILL_DATE = date(2026, 2, 1)


def jet(*args: str, code: int = 0) -> str:
    done = CliRunner().invoke(main, list(args))
    assert done.exit_code == code, done.output
    return done.output


@pytest.fixture(scope="module")
def billed(tmp_path_factory: pytest.TempPathFactory):
    """Two realms billed at 2026-02-01, a partial credit note, a payment and a write-off,
    published to the marts, once for the module (two dbt runs); returns the settings and
    the window that holds them all."""
    folder = tmp_path_factory.mktemp("export")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JET_HOME", str(folder / "home"))
        patch.delenv("JET_DATABASE_URL", raising=False)
        settings = Settings()
        settings.export()
        for name, text in (("north", NORTH), ("south", SOUTH)):
            path = folder / f"{name}.yaml"
            path.write_text(text + "until: 2026-02-01\n")
            load_scenario(path, settings)
        rate(settings, BILL_DATE.isoformat(), "run")
        assert issue_invoices(settings, BILL_DATE, BILL_DATE).issued == 3
        numbers = invoice_totals(settings, published=False)
        acme = next(n for n, (*_, account) in numbers.items() if account == "acme-co")
        note = credit_invoice(settings, acme, "data overcharged", [3])  # the data line
        said = jet("payment", "record", "bea", "20.00", "--method", "bank",
                   "--reference", "BANK-77", "--date", "2026-02-10")  # fmt: skip
        paid = said.split()[1].rstrip(":")
        jet("payment", "refund", paid, "--amount", "5.00", "--reason", "overpaid",
            "--date", "2026-02-12")  # fmt: skip
        south = next(n for n in numbers if n.startswith("SOUTH"))
        jet("payment", "write-off", south, "--reason", "gone away")
        rate(settings, BILL_DATE.isoformat(), "run")  # publishes what was issued and paid
        yield settings, BILL_DATE, max(note.bill_date, date.today())


def invoice_totals(settings, published: bool = True) -> dict[str, tuple]:
    """fct_invoices: number -> (subtotal, tax, total, billing account)."""
    if not published:
        from sqlalchemy import select

        from jet.store.db import session
        from jet.store.models import Invoice

        with session(settings.db_url) as s:
            return {
                i.number: (i.subtotal, i.tax, i.total, i.account_id)
                for i in s.scalars(select(Invoice))
            }
    con = marts(settings)
    rows = con.execute(
        "select invoice_number, subtotal, tax, total, billing_account_id from fct_invoices"
    ).fetchall()
    return {number: tuple(rest) for number, *rest in rows}


def sums(rows, number="invoice_number") -> dict[str, tuple[Decimal, Decimal, Decimal]]:
    found: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0)] * 3)
    for row in rows:
        for i, name in enumerate(("amount", "tax", "line_total")):
            found[row[number]][i] += Decimal(str(row[name]))
    return {k: tuple(v) for k, v in found.items()}


def expected(settings) -> dict[str, tuple[Decimal, Decimal, Decimal]]:
    return {n: (sub, tax, total) for n, (sub, tax, total, _) in invoice_totals(settings).items()}


def test_every_format_adds_up_to_fct_invoices(billed, tmp_path):
    settings, first, last = billed
    want = expected(settings)
    assert len(want) == 4  # three invoices and a credit note
    window = ["--from", first.isoformat(), "--to", last.isoformat()]
    files = {}
    for fmt in ("csv", "xlsx", "json", "parquet"):
        files[fmt] = tmp_path / f"lines.{fmt}"
        said = jet("invoice", "export", *window, "--format", fmt, "--out", str(files[fmt]))
        assert "4 invoices and credit notes" in said

    with files["csv"].open(newline="") as f:
        by_csv = list(csv.DictReader(f))
    assert sums(by_csv) == want

    by_json = json.loads(files["json"].read_text())
    assert sums(by_json) == want
    assert all(isinstance(row["amount"], str) for row in by_json)

    sheet = openpyxl.load_workbook(files["xlsx"], read_only=True)["lines"]
    header, *values = sheet.iter_rows(values_only=True)
    by_xlsx = [dict(zip(header, row, strict=True)) for row in values]
    assert all(isinstance(row["amount"], int | float) for row in by_xlsx)  # not text
    assert sums(by_xlsx) == want
    cells = openpyxl.load_workbook(files["xlsx"])["lines"]
    amount = 1 + header.index("amount")
    shown = {cells.cell(row, 5).value: cells.cell(row, amount).number_format
             for row in range(2, cells.max_row + 1)}  # fmt: skip
    assert shown == {"AUD": "0.00", "JPY": "0"}  # the currency's places
    assert cells.cell(2, 1 + header.index("bill_date")).is_date

    parquet = duckdb.sql(
        f"select invoice_number, sum(amount), sum(tax), sum(line_total), typeof(sum(amount))"
        f" from read_parquet('{files['parquet']}') group by all"
    ).fetchall()
    assert {n: (a, t, lt) for n, a, t, lt, _ in parquet} == want
    assert {kind for *_, kind in parquet} == {"DECIMAL(38,3)"}
    overall = duckdb.sql(
        f"select sum(line_total) from read_parquet('{files['parquet']}')"
    ).fetchall()
    assert overall[0][0] == sum(total for *_, total in want.values())

    # what an accountant reads of each line
    ann = [r for r in by_csv if r["line_account_id"] == "ann" and r["document_kind"] == "invoice"]
    assert {r["tax_category"] for r in ann} == {"S", "E"}
    duty = next(r for r in ann if r["description"] == "Stamp duty")
    assert (duty["tax_category"], duty["tax_rate"], duty["tax"]) == ("E", "0", "0.00")
    access = next(r for r in ann if r["product_id"] == "access")
    assert access["revenue_account"] == "4010" and access["tax_rate"] == "0.10"
    assert ann[0]["billing_account_id"] == "acme-co" and ann[0]["tax_id"] == "51824753556"
    assert ann[0]["due_date"] == "2026-03-03" and ann[0]["billing_account_name"] == "Acme Pty Ltd"
    note = [r for r in by_csv if r["document_kind"] == "credit_note"]
    assert len(note) == 1 and note[0]["credited_invoice_number"] == ann[0]["invoice_number"]
    assert note[0]["due_date"] == ""
    third = next(r for r in ann if r["line_number"] == "3")  # as printed: `credit --line 3`
    assert third["product_id"] == note[0]["product_id"] == "data"
    kenji = next(r for r in by_csv if r["realm_id"] == "south")
    assert (kenji["currency"], kenji["tax_category"], kenji["tax"]) == ("JPY", "Z", "0")
    assert "." not in kenji["amount"]  # yen have no minor unit
    assert kenji["revenue_account"] == "4000"  # no ledger_accounts: the defaults


def test_the_journal_balances_and_its_receivables_are_the_invoices(billed, tmp_path):
    settings, first, last = billed
    out = tmp_path / "journal.csv"
    jet("invoice", "journal", "--from", first.isoformat(), "--to", last.isoformat(),
        "--out", str(out))  # fmt: skip
    with out.open(newline="") as f:
        rows = list(csv.DictReader(f))

    def amount(row) -> Decimal:
        return Decimal(row["debit"] or 0) - Decimal(row["credit"] or 0)

    balance: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        assert bool(row["debit"]) != bool(row["credit"])
        balance[row["journal_id"]] += amount(row)
    assert set(balance.values()) == {Decimal(0)}
    assert sum(Decimal(r["debit"] or 0) for r in rows) == sum(
        Decimal(r["credit"] or 0) for r in rows
    )

    invoices = invoice_totals(settings)
    receivables = defaultdict(Decimal)
    for row in rows:
        if row["account_role"] == "receivables" and row["source"] in ("invoice", "credit_note"):
            receivables[row["journal_id"]] += amount(row)
    assert receivables == {n: total for n, (_, _, total, _) in invoices.items()}

    note = [r for r in rows if r["source"] == "credit_note"]  # reversed: revenue debited
    assert {(r["account_role"], r["account_code"], bool(r["debit"])) for r in note} == {
        ("receivables", "1200", False),
        ("revenue", "4000", True),
        ("tax_payable", "2210", True),
    }
    paid = [(r["account_role"], r["account_code"], r["debit"], r["credit"])
            for r in rows if r["source"] == "payment"]  # fmt: skip
    assert sorted(paid) == [("bank", "1010", "20.00", ""), ("receivables", "1200", "", "20.00")]
    assert {r["document"] for r in rows if r["source"] == "payment"} == {"BANK-77"}
    refund = [(r["account_role"], r["debit"], r["credit"]) for r in rows if r["source"] == "refund"]
    assert sorted(refund) == [("bank", "", "5.00"), ("receivables", "5.00", "")]
    written_off = {r["account_role"]: r for r in rows if r["source"] == "write_off"}
    assert written_off["write_offs"]["account_code"] == "6900"
    south = next(total for n, (_, _, total, _) in invoices.items() if n.startswith("SOUTH"))
    assert written_off["receivables"]["credit"] == f"{south:.0f}"  # yen: no minor unit


def test_bad_windows_formats_and_realms_are_refused_clearly(billed):
    settings, first, last = billed
    err = jet("invoice", "export", "--from", "2026-03-01", "--to", "2026-02-01", code=1)
    assert "--from 2026-03-01 is after --to 2026-02-01" in err
    err = jet("invoice", "export", "--from", "2026-02-01", "--to", "2026-02-01",
              "--format", "pdf", code=2)  # fmt: skip
    assert "'pdf' is not one of 'csv', 'xlsx', 'json', 'parquet'" in err
    err = jet("invoice", "journal", "--from", "2026-02-01", "--to", "2026-02-01",
              "--realm", "nowhere", code=1)  # fmt: skip
    assert "there is no realm 'nowhere' with a catalog; the realms are: north, south" in err
    # one realm's, to stdout
    only = jet("invoice", "export", "--from", first.isoformat(), "--to", last.isoformat(),
               "--realm", "south", "--out", "-")  # fmt: skip
    assert only.splitlines()[0].startswith("invoice_number,document_kind,")
    assert len(only.splitlines()) == 3 and "SOUTH-2026-000001" in only  # header, 2 lines
