"""The billing cycle through Dagster in process, dbt against DuckDB, SQLite via Alembic."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from datetime import date
from decimal import Decimal

import duckdb
from click.testing import CliRunner
from sqlalchemy import select

from jet.cli import main
from jet.config import PROJECT_ROOT
from jet.drivers.jobs import run_job
from jet.drivers.simulate import load_scenario
from jet.store.db import session
from jet.store.models import Event, Invoice, Realm

SCENARIO = PROJECT_ROOT / "examples" / "scenarios" / "01-flat-monthly-prorata.yaml"


def _invoices(settings):
    with session(settings.db_url) as s:
        return [
            (i.number, i.bill_date, i.total, len(i.lines))
            for i in s.scalars(select(Invoice).order_by(Invoice.id))
        ]


def test_running_a_bill_date_twice_issues_nothing_new(settings):
    load_scenario(SCENARIO, settings)

    # As in a job started in the background: SIGINT ignored. Dagster maps SIGTERM to
    # SIGINT's handler; the run must leave SIGTERM as it was, or the servers this process
    # starts next could not be stopped while they start.
    sigterm = signal.getsignal(signal.SIGTERM)
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        run_job(settings, "billing_cycle", date(2026, 2, 1), date(2026, 2, 1))
        assert signal.getsignal(signal.SIGTERM) == sigterm
        assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)
    first = _invoices(settings)
    assert first == [("DEMO-2026-000001", date(2026, 2, 1), Decimal("51.10"), 2)]

    steps: list[str] = []  # the console's progress: each step as it succeeds
    run_job(settings, "billing_cycle", date(2026, 2, 1), date(2026, 2, 1), on_step=steps.append)
    assert _invoices(settings) == first
    assert {"ops_snapshot", "warehouse_models", "issued_invoices", "invoice_pdfs"} <= set(steps)
    assert steps.index("issued_invoices") < steps.index("invoice_pdfs")

    run_job(settings, "billing_cycle", date(2026, 2, 2), date(2026, 3, 1))
    assert _invoices(settings) == [
        *first,
        ("DEMO-2026-000002", date(2026, 3, 1), Decimal("33.00"), 1),
    ]
    with session(settings.db_url) as s:
        assert s.get(Realm, "demo").last_invoice_number == 2
        assert len(s.scalars(select(Event).where(Event.topic == "invoice.issued")).all()) == 2

    pdf = settings.pdf_dir / "demo" / "DEMO-2026-000002.pdf"
    assert pdf.exists()
    if shutil.which("pdftotext"):
        text = subprocess.run(
            ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout
        assert "DEMO-2026-000002" in text and "33.00" in text

    # marts are Parquet on disk: a finance analyst's view of the same lines
    lines = duckdb.sql(
        f"select status, count(*) from read_parquet('{settings.marts}/fct_invoice_lines.parquet')"
        " group by all order by all"
    ).fetchall()
    assert lines == [("draft", 1), ("issued", 2)]  # 2026-03-01 issued after this snapshot

    # `jet rate --rebuild` rates from an empty warehouse: each usage aggregate has one
    # run on record, and the lines are the same
    result = CliRunner().invoke(main, ["rate", "--as-of", "2026-03-01", "--rebuild"])
    assert result.exit_code == 0, result.output
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        runs = con.execute(
            "select consumer, count(*) from usage_counted where source = 'run' group by all"
        ).fetchall()
    assert sorted(runs) == [("int_usage_by_cycle", 1), ("int_usage_daily", 1)]
    lines = duckdb.sql(
        f"select status, count(*) from read_parquet('{settings.marts}/fct_invoice_lines.parquet')"
        " group by all order by all"
    ).fetchall()
    assert lines == [("issued", 3)]


def test_dagster_definitions_validate():
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "dagster",
            "definitions",
            "validate",
            "-m",
            "dagster_jet.definitions",
        ],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All code locations passed validation" in result.stdout + result.stderr
