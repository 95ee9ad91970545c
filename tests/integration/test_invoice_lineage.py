"""Lineage on what `jet demo` built: for 100 random metered lines of issued invoices, the
records `jet invoice explain` lists add up exactly to the quantity the store holds, and
each record is read back from the landed file and row it names (the account it is of,
its time and counters)."""

from __future__ import annotations

import json
import random
from decimal import ROUND_HALF_UP, Decimal

import duckdb
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from jet.cli import main
from jet.config import Settings
from jet.store.db import session
from jet.store.models import Invoice, InvoiceLine
from jet.warehouse import LINEAGE, build_on_demand, invoke_dbt
from reports.invoice_lineage import LINEAGE_MART
from tests.demo_home import demo_home  # noqa: F401

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def sampled(demo_home: Settings) -> list[tuple[str, int, InvoiceLine]]:  # noqa: F811
    """100 random usage and duration lines of issued invoices, as (number, position, line)."""
    with session(demo_home.db_url) as s:
        invoices = s.scalars(select(Invoice).where(Invoice.kind == "invoice")).all()
        metered = [
            (inv.number, n, line)
            for inv in invoices
            for n, line in enumerate(inv.lines, 1)
            if line.kind in ("usage", "duration")
        ]
    assert len(metered) >= 100
    return random.Random(19).sample(metered, 100)


def explained(number: str, refresh: bool = False) -> dict:
    args = ["invoice", "explain", number, "--json"] + ([] if refresh else ["--no-refresh"])
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_the_records_explain_lists_add_up_to_each_line_exactly(demo_home, sampled):  # noqa: F811
    numbers = sorted({number for number, _, _ in sampled})
    shown = {numbers[0]: explained(numbers[0], refresh=True)}
    shown |= {n: explained(n) for n in numbers[1:]}
    with_records = 0
    for number, position, line in sampled:
        [item] = [x for x in shown[number]["lines"] if x["line"] == position]
        base = sum(r["base_quantity"] for r in item["records"])
        assert Decimal(item["quantity"]) == line.quantity
        if line.quantity == 0:
            assert item["records"] == [], (number, position)
            continue
        with_records += 1
        units = (Decimal(base) / item["unit_divisor"]).quantize(Decimal("1e-9"), ROUND_HALF_UP)
        assert units == line.quantity, (number, position)
        assert Decimal(item["records_quantity"]) == line.quantity
        for r in item["records"]:
            assert line.period_start.isoformat() <= r["ts"][:10] < line.period_end.isoformat()
    assert with_records >= 90


def test_each_record_is_the_landed_row_it_names(demo_home, sampled):  # noqa: F811
    """Read each named file and row straight from the lake: a RADIUS record is of the
    line's account; a flow or an upstream row holds at least what it is said to add."""
    number, position, line = next(x for x in sampled if x[2].quantity > 0)
    records = [x for x in explained(number)["lines"] if x["line"] == position][0]["records"]
    con = duckdb.connect()
    for r in records[:50]:
        [row] = (
            con.sql(
                "select * from read_parquet($file, file_row_number = true) "
                "where file_row_number = $row",
                params={"file": r["file"], "row": r["row"]},
            )
            .to_arrow_table()
            .to_pylist()
        )
        if r["source"] == "radius":
            assert row["user_name"].split("@")[0] == line.account_id
        elif r["source"] == "netflow":
            assert row["bytes"] * max(row["sampling_interval"] or 1, 1) >= r["base_quantity"]
        else:
            assert row["account_id"] == line.account_id


def test_the_mart_is_rebuilt_for_analysts_and_covers_every_metered_line(demo_home):  # noqa: F811
    """The lineage mart holds a row per record of every issued metered line with usage,
    and is published beside the other marts for SQL (`jet sql`)."""
    build_on_demand(demo_home, [LINEAGE_MART])
    con = duckdb.connect()
    mart = f"{demo_home.marts}/{LINEAGE_MART}.parquet"
    lines = f"{demo_home.marts}/fct_invoice_lines.parquet"
    missing = (
        con.sql(
            f"select count(*) from '{lines}' where kind in ('usage', 'duration') "
            f"and quantity <> 0 and line_key not in (select line_key from '{mart}')"
        )
        .to_arrow_table()
        .column(0)[0]
        .as_py()
    )
    assert missing == 0
    result = CliRunner().invoke(main, ["sql", f"select count(*) as n from {LINEAGE_MART}"])
    assert result.exit_code == 0, result.output


def test_the_lineage_unit_test_passes(demo_home):  # noqa: F811
    """Late usage split by landing time, periods, dates and sources (its YAML says how)."""
    result = invoke_dbt(demo_home, "test", "--select", f"{LINEAGE},test_type:unit")
    assert result.success and len(result.result.results) == 1


def test_a_wrong_line_or_an_unknown_number_is_refused_with_what_to_do(demo_home):  # noqa: F811
    result = CliRunner().invoke(main, ["invoice", "explain", "NO-SUCH-1", "--no-refresh"])
    assert result.exit_code == 1
    assert "no invoice is numbered NO-SUCH-1" in result.output
    with session(demo_home.db_url) as s:
        invoice = s.scalars(select(Invoice).where(Invoice.kind == "invoice")).first()
        count = len(invoice.lines)
    result = CliRunner().invoke(
        main, ["invoice", "explain", invoice.number, "--line", str(count + 1), "--no-refresh"]
    )
    assert result.exit_code == 1
    assert f"has lines 1 to {count}" in result.output
