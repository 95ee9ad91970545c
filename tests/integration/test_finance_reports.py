"""The finance pack on what `jet demo` built, each figure checked against totals taken
independently from the operational store (the ORM and jet.ledger, not the marts):
revenue billed is the issued invoices less credit notes, tax is their tax, receivables
are the ledger's open balances, payments are the ledger's payments, closing MRR is
the subscriptions in force priced by their catalogs. Also: the report
models' dbt unit tests, the pack in PDF through the CLI, and the demo's scheduled
e-mail of the finance pack, announced once per realm and month."""

from __future__ import annotations

import email
import email.policy
import mailbox
import subprocess
from collections import defaultdict
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import duckdb
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from jet import ledger
from jet.cli import main
from jet.config import Settings
from jet.realms import catalog_on
from jet.store.db import session
from jet.store.models import Account, Invoice, LedgerEntry, Subscription
from jet.warehouse import invoke_dbt
from reports.report_definitions import chosen
from reports.report_runs import build, run_report
from reports.report_schedule import Window, mail_reports
from tests.demo_home import demo_home  # noqa: F401

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def finance(demo_home: Settings) -> Settings:  # noqa: F811
    """The demo home with the finance pack built (the demo built it for its e-mails;
    building again must give the same)."""
    build(demo_home, chosen(demo_home, "finance"))
    return demo_home


def report(settings: Settings, name: str, **given) -> list[dict]:
    [r] = chosen(settings, name)
    return run_report(settings, r, given).table.to_pylist()


def by_realm(rows: list[dict], column: str) -> dict[tuple[str, str], Decimal]:
    totals: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for row in rows:
        totals[(row["realm_id"], row["currency"])] += row[column]
    return dict(totals)


def stored(settings: Settings, column, *where) -> dict[tuple[str, str], Decimal]:
    """The sum of `column` per realm and currency, added up here in Decimal (SQLite's
    own sum of a money column is a float)."""
    table = column.class_
    totals: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    with session(settings.db_url) as s:
        for realm, currency, value in s.execute(
            select(table.realm_id, table.currency, column).where(*where)
        ):
            totals[(realm, currency)] += value
    return dict(totals)


def test_the_report_models_unit_tests_pass(finance):
    result = invoke_dbt(finance, "test", "--select", "path:models/marts/reports,test_type:unit")
    assert result.success and len(result.result.results) >= 3


def test_revenue_billed_is_the_invoices_less_credit_notes(finance):
    issued = stored(finance, Invoice.subtotal)
    revenue = report(finance, "revenue")
    assert by_realm(revenue, "billed") == issued and len(issued) == 3
    # what was billed is earned or deferred: at the last month, earned + deferred = billed
    billed, earned = by_realm(revenue, "billed"), by_realm(revenue, "earned")
    last = max(row["month"] for row in revenue)
    deferred = by_realm([r for r in revenue if r["month"] == last], "deferred")
    for key, amount in billed.items():
        assert abs(earned[key] + deferred.get(key, 0) - amount) <= Decimal("0.01") * len(revenue)


def test_tax_collected_is_the_invoices_tax(finance):
    tax, total = stored(finance, Invoice.tax), stored(finance, Invoice.total)
    taxed = {key: (tax[key], total[key]) for key in tax}
    rows = report(finance, "tax_collected")
    assert {k: (v, by_realm(rows, "total")[k]) for k, v in by_realm(rows, "tax").items()} == taxed
    acme = [r for r in rows if r["realm_id"] == "acme"]
    assert {r["tax_rate"] for r in acme} == {Decimal("0.100000")}


def test_receivables_are_the_ledgers_open_balances(finance):
    rows = report(finance, "receivables_aging")
    assert rows, "the demo leaves money owed"
    as_of = rows[0]["as_of"]
    with session(finance.db_url) as s:
        for row in rows:
            assert row["balance"] == ledger.balance(s, row["billing_account_id"], as_of), row
        accounts = set(s.scalars(select(LedgerEntry.account_id).distinct()))
        owing = {a for a in accounts if ledger.balance(s, a, as_of) != 0}
    assert {r["billing_account_id"] for r in rows if r["balance"] != 0} == owing
    overdue = sum(r["days_over_90"] + r["days_61_90"] + r["days_31_60"] for r in rows)
    assert overdue > 0  # the demo's dunning has debts to chase


def test_payments_are_the_ledgers_payments(finance):
    paid = {
        k: -v for k, v in stored(finance, LedgerEntry.amount, LedgerEntry.kind == "payment").items()
    }
    rows = report(finance, "payments")
    assert by_realm(rows, "paid") == paid
    assert {r["method"] for r in rows} >= {"bank", "card", "sepa"}
    assert sum(r["bank_paid"] for r in rows) > 0  # statements were imported and matched


def test_mrr_moves_add_up_and_a_realm_filter_keeps_to_its_realm(finance):
    rows = report(finance, "mrr_movements", realm="skyfi", **{"from": date(2026, 9, 1)})
    assert rows and {r["realm_id"] for r in rows} == {"skyfi"}
    assert min(r["month"] for r in rows) == date(2026, 9, 1)
    for r in rows:
        moved = r["new"] + r["reactivation"] + r["expansion"] - r["contraction"] - r["churn"]
        assert r["closing_mrr"] == r["opening_mrr"] + moved


def month_end(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def monthly_prices(settings: Settings, day: date) -> dict[str, Decimal]:
    """Per realm, the flat prices over their months of every subscription in force on
    `day`, each priced by the catalog in effect on its start (from the store and the
    catalog, not the marts); six places, as the report keeps them."""
    six = Decimal("0.000001")
    totals: dict[str, Decimal] = defaultdict(Decimal)
    with session(settings.db_url) as s:
        for realm, plan, start in s.execute(
            select(Account.realm_id, Subscription.plan_id, Subscription.start_date)
            .join(Account, Account.id == Subscription.account_id)
            .where(Subscription.start_date <= day)
            .where((Subscription.end_date.is_(None)) | (Subscription.end_date > day))
        ):
            catalog = catalog_on(s, realm, start)
            for product in (catalog.products[p] for p in catalog.plans[plan].products):
                if product.type == "flat":
                    monthly = product.price / product.months
                    totals[realm] += monthly.quantize(six, rounding=ROUND_HALF_UP)
    return dict(totals)


def test_closing_mrr_is_the_active_subscriptions_monthly_prices(finance):
    rows = report(finance, "mrr_movements")
    for month in sorted({r["month"] for r in rows}):
        closing = {r["realm_id"]: r["closing_mrr"] for r in rows if r["month"] == month}
        expected = monthly_prices(finance, month_end(month))
        assert {k: v for k, v in closing.items() if v} == expected, month
    assert sum(r["churn"] for r in rows) > 0 and len(expected) == 3  # the demo churns some


def test_the_finance_pack_as_pdf_through_the_cli(finance, tmp_path):
    out = tmp_path / "finance"
    ran = CliRunner().invoke(
        main,
        ["report", "run", "finance", "--realm", "acme", "--format", "pdf", "--out", str(out),
         "--no-refresh"],
    )  # fmt: skip
    assert ran.exit_code == 0, ran.output
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "mrr_movements.pdf", "payments.pdf", "receivables_aging.pdf", "revenue.pdf",
        "tax_collected.pdf",
    ]  # fmt: skip
    text = subprocess.run(
        ["pdftotext", str(out / "revenue.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Revenue by realm, plan, product and month" in text and "realm = acme" in text


def test_the_demo_mailed_each_realms_finance_pack_once(finance):
    box = mailbox.Maildir(finance.root / "demo-mail", create=False)
    packs = [
        email.message_from_bytes(box.get_bytes(key), policy=email.policy.default)
        for key in box.iterkeys()
        if b"reports <" in box.get_bytes(key)[:2000]
    ]
    to = sorted(m["To"] for m in packs)
    assert to == ["buchhaltung@eurowave.example", "finance@acme.example"]
    for message in packs:
        attached = sorted(p.get_filename() for p in message.iter_attachments())
        assert "revenue.pdf" in attached and "tax_collected.pdf" in attached
        assert "2026-10" in message["Subject"]
    # the schedule run again for the same month announces nothing more
    again = mail_reports(finance, Window("month", date(2026, 10, 1), date(2026, 10, 31)))
    assert again == {"announced": 0, "files": 0}


def test_jet_sql_reads_a_report_mart(finance):
    with duckdb.connect() as con:
        path = finance.marts / "rpt_revenue.parquet"
        expected = con.sql(f"select count(*) from '{path}'").fetchall()[0][0]
    ran = CliRunner().invoke(main, ["sql", "select count(*) as n from rpt_revenue"])
    assert ran.exit_code == 0 and str(expected) in ran.output
