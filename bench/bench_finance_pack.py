"""The finance pack for a large ISP: `jet report run finance --format pdf` over N accounts
(default 1,000,000) and a year of monthly invoices (an advance access fee and a usage line
each), their payments (bank, card and SEPA, most matched to bank-statement lines), and
some churn, against the issue's target of 60 s.

The operational snapshot is generated straight into Parquet (a store of a million
accounts would take far longer to fill than to report on), then the models the reports
read are built as a billing run would (not timed). Timed: building the five report models
with their dbt data tests, then running each report and rendering it as PDF.

    .venv/bin/python bench/bench_finance_pack.py [--accounts 1000000] [--months 12]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import duckdb  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

from bench.common import report  # noqa: E402
from jet.catalog import load_catalog_file  # noqa: E402
from jet.config import PROJECT_ROOT, Settings  # noqa: E402
from jet.snapshot import catalog_rows  # noqa: E402
from jet.warehouse import REPORTS, invoke_dbt, write_as_of  # noqa: E402
from reports.report_definitions import chosen  # noqa: E402
from reports.report_formats import render  # noqa: E402
from reports.report_runs import build, run_report  # noqa: E402
from schemas.ops import OPS_TABLES  # noqa: E402

AS_OF = "2026-12-01"


def snapshot(settings: Settings, accounts: int, months: int) -> dict[str, int]:
    """The ops snapshot of one realm (acme's catalog): accounts on home or business,
    started over the year, a twentieth ended; an invoice a month each, most paid."""
    folder = settings.ops_snapshot
    folder.mkdir(parents=True, exist_ok=True)
    catalog = load_catalog_file(PROJECT_ROOT / "examples" / "catalogs" / "acme.yaml")
    tables = {name: [] for name in OPS_TABLES} | catalog_rows(catalog)
    tables["realms"] = [
        {"realm_id": "acme", "name": "Acme", "currency": "AUD", "minor_units": 2,
         "tax_rate": Decimal("0.1"), "cycle": "fixed_date", "cycle_day": 1, "invoice_prefix": "A"}
    ]  # fmt: skip
    for name, rows in tables.items():
        pq.write_table(
            pa.Table.from_pylist(rows, schema=OPS_TABLES[name]), folder / f"{name}.parquet"
        )
    con = duckdb.connect()
    con.execute("set memory_limit = '12GB'; set preserve_insertion_order = false")
    first = f"date '{AS_OF}' - interval {months} month"
    con.execute(f"""
        create table accounts as
        select
            'a' || lpad(i::varchar, 7, '0') as account_id, i,
            ({first} + interval (i % {months}) month)::date as start_date,
            case when i % 20 = 7 then ({first} + interval (i % {months} + 3) month)::date end
                as end_date,
            case when i % 10 = 0 then 'business' else 'home' end as plan_id
        from range({accounts}) t(i)
    """)
    con.execute(f"""
        create table bills as
        select a.*, b.bill_date::date as bill_date,
            row_number() over () as n,
            (5 + (a.i * 7 + year(b.bill_date) * 13 + month(b.bill_date)) % 40)::decimal(18, 2)
                as usage_amount
        from accounts a, generate_series({first}, date '{AS_OF}' - interval 1 month,
                                         interval 1 month) b(bill_date)
        where b.bill_date >= a.start_date and (a.end_date is null or b.bill_date < a.end_date)
    """)
    money = "decimal(38, 9)"

    def write(name: str, sql: str) -> None:
        columns = ", ".join(f'"{f.name}"' for f in OPS_TABLES[name])
        con.execute(f"copy (select {columns} from ({sql})) to '{folder / name}.parquet'")

    write("accounts", "select account_id, 'acme' as realm_id, account_id as name, "
          "null::varchar as parent_id, case when end_date is null then 'active' else 'closed' "
          "end as status, false as prepaid, null::varchar as tax_id from accounts")  # fmt: skip
    write("subscriptions", "select i as subscription_id, account_id, plan_id, start_date, "
          "end_date from accounts")  # fmt: skip
    fee = "case when plan_id = 'home' then 69.00 else 79.00 end"
    write(
        "invoices",
        f"""
        select 'A-' || n as invoice_number, 'invoice' as document_kind,
            null::varchar as credits_invoice_number, 'acme' as realm_id, account_id,
            bill_date, 'AUD' as currency, ({fee} + usage_amount)::{money} as subtotal,
            round(({fee} + usage_amount) * 0.1, 2)::{money} as tax,
            (({fee} + usage_amount) + round(({fee} + usage_amount) * 0.1, 2))::{money} as total,
            bill_date::timestamptz as issued_at
        from bills""",
    )
    write(
        "issued_lines",
        f"""
        select 'A-' || n || '-' || k as line_key, 'A-' || n as invoice_number,
            'invoice' as document_kind, account_id as billing_account_id, 'acme' as realm_id,
            bill_date, account_id, i as subscription_id,
            case k when 1 then plan_id || '-access' else 'home-data' end as product_id,
            case k when 1 then 'advance' else 'usage' end as kind,
            'line' as description,
            case k when 1 then bill_date else (bill_date - interval 1 month)::date end
                as period_start,
            case k when 1 then (bill_date + interval 1 month)::date else bill_date end
                as period_end,
            1::{money} as quantity,
            (case k when 1 then {fee} else usage_amount end)::{money} as amount,
            true as taxable, n * 2 + k as line_id
        from bills, (values (1), (2)) t(k)""",
    )
    total = f"({fee} + usage_amount + round(({fee} + usage_amount) * 0.1, 2))"
    paid = f"n % 17 <> 0 and bill_date < date '{AS_OF}' - interval 1 month"
    method = "case n % 5 when 0 then 'card' when 1 then 'sepa' else 'bank' end"
    write(
        "ledger_entries",
        f"""
        select n * 2 as entry_id, account_id, 'acme' as realm_id, 'AUD' as currency,
            'invoice' as kind, {total}::{money} as amount, bill_date as entry_date,
            bill_date::timestamptz as recorded_at, 'A-' || n as invoice_number,
            null::bigint as target_entry_id, null::bigint as related_entry_id,
            null::varchar as method, null::varchar as reference, null::varchar as reason
        from bills
        union all
        select n * 2 + 1, account_id, 'acme', 'AUD', 'payment', (-{total})::{money},
            (bill_date + 10)::date, (bill_date + 10)::timestamptz, null, n * 2, null,
            {method}, null, null
        from bills where {paid}""",
    )
    write(
        "allocations",
        f"""
        select n as allocation_id, n * 2 + 1 as credit_entry_id, n * 2 as debit_entry_id,
            {total}::{money} as amount, (bill_date + 10)::timestamptz as allocated_at
        from bills where {paid}""",
    )
    write(
        "statement_lines",
        f"""
        select n as line_id, 'S-' || strftime(bill_date, '%Y%m') as statement_id,
            'acme' as realm_id, (bill_date + 10)::date as booked_on, {total}::{money} as amount,
            'AUD' as currency, 'paid' as status, account_id, n * 2 + 1 as entry_id,
            'A-' || n as reference
        from bills where {paid} and {method} <> 'card' and n % 101 <> 0""",
    )
    return {
        "accounts": accounts,
        "invoices": con.execute("select count(*) from bills").fetchall()[0][0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--months", type=int, default=12)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="jet-bench-finance-") as tmp:
        settings = Settings(home=Path(tmp) / "home")
        settings.export()
        tick = time.monotonic()
        counts = snapshot(settings, args.accounts, args.months)
        write_as_of(settings, AS_OF)
        generated = time.monotonic() - tick
        print(f"snapshot: {counts['invoices']:,} invoices in {generated:.1f} s", flush=True)
        reports = chosen(settings, "finance")
        models = " ".join(f"+{r.model}" for r in reports)
        tick = time.monotonic()
        ran = invoke_dbt(settings, "run", "--select", models, "--exclude", REPORTS)
        assert ran.success, ran.exception
        upstream = time.monotonic() - tick
        print(f"the models the reports read (as billing builds them): {upstream:.1f} s")
        tick = time.monotonic()
        build(settings, reports, on_step=print)
        built = time.monotonic() - tick
        rows, pages = {}, 0
        for r in reports:
            result = run_report(settings, r, {})
            pdf = render(result, "pdf")
            rows[r.name] = result.table.num_rows
            pages += pdf.count(b"/Type /Page\n")
        seconds = time.monotonic() - tick
        print(f"finance pack: built in {built:.1f} s, all in {seconds:.1f} s; rows {rows}")
        report(
            "finance_pack",
            f"{args.accounts:,} accounts, {counts['invoices']:,} invoices over "
            f"{args.months} months: build the 5 report models with their tests, run, PDF",
            seconds,
            "the upstream models (billing's build)",
            upstream,
            build_seconds=round(built, 1),
            rows=rows,
            target_seconds=60,
        )


if __name__ == "__main__":
    main()
