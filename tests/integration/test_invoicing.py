"""Issuing, late usage, credit notes and previews against the real models and store."""

from __future__ import annotations

import subprocess
from datetime import UTC, date, datetime
from decimal import Decimal

import pyarrow as pa
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from ingest.landing import land
from jet.cli import main
from jet.config import PROJECT_ROOT
from jet.drivers.simulate import load_scenario
from jet.invoicing import CreditError, credit_invoice, issue_invoices
from jet.store.db import session
from jet.store.models import Invoice
from jet.warehouse import rate

SCENARIOS = PROJECT_ROOT / "examples" / "scenarios"


def bill(settings, day: date):
    """The billing cycle of one bill date without Dagster: rate, then issue. (dbt `run`:
    the data tests run in the golden and billing-cycle tests.)"""
    rate(settings, day.isoformat(), "run")
    return issue_invoices(settings, day, day)


def invoices(settings, account=None):
    with session(settings.db_url) as s:
        query = select(Invoice).order_by(Invoice.id)
        if account:
            query = query.where(Invoice.account_id == account)
        return [
            {
                "number": i.number,
                "kind": i.kind,
                "bill_date": i.bill_date,
                "total": i.total,
                "tax": i.tax,
                "lines": [(ln.kind, ln.period_start, ln.quantity, ln.amount) for ln in i.lines],
            }
            for i in s.scalars(query)
        ]


def land_usage(settings, batch, account, ts, bytes_in=0, bytes_out=0, seconds=0):
    land(
        "upstream_csv",
        pa.table(
            {
                "account_id": [account],
                "ts": [ts],
                "bytes_in": [bytes_in],
                "bytes_out": [bytes_out],
                "seconds": [seconds],
                "source_file": [batch],
                "source_line": [1],
            }
        ),
        batch,
        settings.raw,
    )


def test_issuing_twice_issues_nothing_new(settings):
    load_scenario(SCENARIOS / "02-tiers-duration-once.yaml", settings)
    first = bill(settings, date(2026, 2, 1))
    assert first.issued == 2
    before = invoices(settings)
    again = bill(settings, date(2026, 2, 1))
    assert again.issued == 0
    assert invoices(settings) == before


def test_late_usage_is_billed_on_the_next_invoice_and_nowhere_else(settings):
    load_scenario(SCENARIOS / "02-tiers-duration-once.yaml", settings)
    bill(settings, date(2026, 1, 1))
    bill(settings, date(2026, 2, 1))
    january = invoices(settings, "bob")[1]
    data_line = [ln for ln in january["lines"] if ln[0] == "usage"]
    assert data_line == [("usage", date(2026, 1, 1), Decimal("25"), Decimal("2.20"))]

    # 5 MB more for January arrives after January's cycle was invoiced
    late = datetime(2026, 1, 20, 12, tzinfo=UTC)
    land_usage(settings, "late-1", "bob", late, bytes_in=5_000_000)
    bill(settings, date(2026, 3, 1))
    bob = invoices(settings, "bob")
    assert bob[1] == january  # issued invoices never change
    march = bob[2]
    late_lines = [ln for ln in march["lines"] if ln[1] == date(2026, 1, 1)]
    # graduated tiers re-priced on the whole: 30 MB costs 2.60, 2.20 was billed
    assert late_lines == [("usage", date(2026, 1, 1), Decimal("5"), Decimal("0.40"))]

    bill(settings, date(2026, 3, 1))
    bill(settings, date(2026, 4, 1))
    later = invoices(settings, "bob")[3:]
    assert all(ln[1] != date(2026, 1, 1) for inv in later for ln in inv["lines"])


def test_a_credit_note_reverses_exactly_what_it_names(settings):
    load_scenario(SCENARIOS / "02-tiers-duration-once.yaml", settings)
    bill(settings, date(2026, 2, 1))
    bob = invoices(settings, "bob")[0]  # fee 20.00, setup 50.00, data 2.20, time 2.25

    whole = CliRunner().invoke(main, ["invoice", "credit", bob["number"], "--reason", "test"])
    assert whole.exit_code == 0, whole.output
    note = invoices(settings, "bob")[1]
    assert note["kind"] == "credit_note"
    assert note["total"] == -bob["total"] and note["tax"] == -bob["tax"]
    assert sorted(ln[3] for ln in note["lines"]) == sorted(-ln[3] for ln in bob["lines"])
    pdf = settings.pdf_dir / "demo" / f"{note['number']}.pdf"
    text = subprocess.run(["pdftotext", pdf, "-"], capture_output=True, text=True, check=True)
    assert "Credit note" in text.stdout and "Tax invoice" not in text.stdout
    assert f"Credits invoice {bob['number']}: test" in text.stdout

    with pytest.raises(CreditError, match="credited already"):
        credit_invoice(settings, bob["number"], "again", [1])
    with pytest.raises(CreditError, match="no invoice is numbered"):
        credit_invoice(settings, "DEMO-2026-999999", "typo")


def test_a_partial_credit_taxes_only_its_lines(settings):
    load_scenario(SCENARIOS / "02-tiers-duration-once.yaml", settings)
    bill(settings, date(2026, 2, 1))
    bob = invoices(settings, "bob")[0]
    position = 1 + [ln[0] for ln in bob["lines"]].index("once")  # the 50.00 setup fee
    note = credit_invoice(settings, bob["number"], "setup waived", [position])
    assert (note.subtotal, note.tax, note.total) == (
        Decimal("-50.00"),
        Decimal("-5.00"),
        Decimal("-55.00"),
    )
    numbers = [inv["number"] for inv in invoices(settings)]
    assert numbers == ["DEMO-2026-000001", "DEMO-2026-000002", "DEMO-2026-000003"]


def test_preview_prints_the_draft_and_issues_nothing(settings):
    load_scenario(SCENARIOS / "01-flat-monthly-prorata.yaml", settings)
    result = CliRunner().invoke(
        main, ["invoice", "preview", "alice", "--date", "2026-01-20", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert '"bill_date": "2026-02-01"' in result.output and '"total": "51.10"' in result.output
    assert invoices(settings) == []
    assert not list(settings.marts.glob("*.parquet"))  # nothing published either
