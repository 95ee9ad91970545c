"""Reports in every format, each opened by a real reader (openpyxl, DuckDB, pdftotext,
json; Chromium in tests/e2e/test_report_html.py); custom reports and their parameters;
and every way out of the marts tried through `jet sql` and a custom report: each is
refused or stopped, and nothing on disk changes."""

from __future__ import annotations

import io
import json
import subprocess
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from jet.cli import main
from jet.config import Settings
from jet.store.db import session
from reports.report_definitions import Report, ReportError, all_reports, chosen
from reports.report_formats import render
from reports.report_runs import ReportResult, run_report

CUSTOM = """\
/*---
title: Revenue per plan
description: What each plan billed, per month.
pack: money
parameters:
  realm: {type: string}
  since: {type: date, default: 2026-01-01}
  floor: {type: decimal, default: "0"}
chart: {kind: bar, x: month, y: billed, series: plan_id}
---*/
select realm_id, plan_id, month, billed from fct_plan_months
where realm_id = $realm and month >= $since and billed >= $floor
order by month, plan_id
"""


@pytest.fixture
def home(settings: Settings) -> Settings:
    """A home with one published mart and a custom report over it."""
    settings.marts.mkdir(parents=True, exist_ok=True)
    duckdb.sql(
        "select * from (values "
        "('acme', 'home', date '2026-01-01', 1234.50::decimal(18,2)), "
        "('acme', 'biz', date '2026-01-01', 99.99::decimal(18,2)), "
        "('acme', 'home', date '2026-02-01', 1300.00::decimal(18,2)), "
        "('skyfi', 'home', date '2026-02-01', 7.25::decimal(18,2))"
        ") t(realm_id, plan_id, month, billed)"
    ).write_parquet(str(settings.marts / "fct_plan_months.parquet"))
    (settings.root / "reports").mkdir(parents=True, exist_ok=True)
    (settings.root / "reports" / "plan_revenue.sql").write_text(CUSTOM, encoding="utf-8")
    with session(settings.db_url):
        pass  # the store exists, so that tests can see it unchanged
    return settings


def jet(*args: str):
    return CliRunner().invoke(main, list(args))


def test_a_custom_report_runs_with_its_typed_parameters(home):
    [report] = chosen(home, "plan_revenue")
    assert chosen(home, "money") == [report] and report.kind == "custom"
    result = run_report(home, report, {"realm": "acme", "since": "2026-01-15"})
    assert result.table.to_pylist() == [
        {"realm_id": "acme", "plan_id": "home", "month": result.table[2][0].as_py(),
         "billed": Decimal("1300.00")},
    ]  # fmt: skip
    assert result.parameters["floor"] == Decimal("0")
    with pytest.raises(ReportError, match="parameter since is a date, not 'June'"):
        run_report(home, report, {"realm": "acme", "since": "June"})
    with pytest.raises(ReportError, match="needs parameter realm"):
        run_report(home, report, {})
    with pytest.raises(ReportError, match="takes no parameter colour"):
        run_report(home, report, {"realm": "acme", "colour": "red"})


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("select 1", "starts with a YAML header"),
        ("/*---\ndescription: x\n---*/\nselect 1", "header.title: required"),
        ("/*---\ntitle: x\nparameters: {a: {type: money}}\n---*/\nselect 1",
         "header.parameters.a.type: give one of string"),
        ("/*---\ntitle: x\ncolour: red\n---*/\nselect 1", "header.colour: unknown key"),
        ("/*---\ntitle: x\nchart: {kind: pie, x: a}\n---*/\nselect 1", "chart: give kind"),
    ],
)  # fmt: skip
def test_a_bad_header_names_the_file_and_the_key(home, header, message):
    path = home.root / "reports" / "broken.sql"
    path.write_text(header, encoding="utf-8")
    with pytest.raises(ReportError, match=message) as caught:
        all_reports(home)
    assert str(path) in str(caught.value)


def test_every_format_is_read_back_by_a_real_reader(home, tmp_path):
    [report] = chosen(home, "plan_revenue")
    result = run_report(home, report, {"realm": "acme"})
    # csv: decimals as written
    assert render(result, "csv").decode().splitlines() == [
        '"realm_id","plan_id","month","billed"',
        '"acme","biz",2026-01-01,99.99',
        '"acme","home",2026-01-01,1234.50',
        '"acme","home",2026-02-01,1300.00',
    ]
    # json: decimals and dates as text, exact
    rows = json.loads(render(result, "json"))
    assert rows[1] == {"realm_id": "acme", "plan_id": "home", "month": "2026-01-01",
                       "billed": "1234.50"}  # fmt: skip
    # parquet: decimals stay decimals
    path = tmp_path / "r.parquet"
    path.write_bytes(render(result, "parquet"))
    total = duckdb.sql(f"select sum(billed), typeof(sum(billed)) from '{path}'").fetchall()
    assert total == [(Decimal("2634.49"), "DECIMAL(38,2)")]
    # xlsx: numbers with two places, a bold header, and what was asked on "About"
    book = load_workbook(io.BytesIO(render(result, "xlsx")))
    sheet = book["plan_revenue"]
    assert [c.value for c in sheet[1]] == ["realm_id", "plan_id", "month", "billed"]
    assert sheet["A1"].font.b and sheet["D3"].value == Decimal("1234.50")
    assert sheet["D3"].number_format == "#,##0.00"
    about = {row[0].value: row[1].value for row in book["About"].iter_rows()}
    assert about["Parameters"].startswith("realm = acme, since = 2026-01-01")
    # pdf: the title, the rows and the chart's legend, as pdftotext reads them
    path = tmp_path / "r.pdf"
    path.write_bytes(render(result, "pdf"))
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Revenue per plan" in text and "1234.50" in text and "1300.00" in text
    assert "skyfi" not in text
    # html: self-contained, the chart inline
    page = render(result, "html").decode()
    assert "<svg" in page and "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert "<td>1234.50</td>" in page and "<script" not in page


def test_jet_report_run_writes_the_file_and_lists_it(home, tmp_path):
    listed = jet("report", "list")
    assert listed.exit_code == 0 and "plan_revenue" in listed.output and "custom" in listed.output
    out = tmp_path / "plans.xlsx"
    ran = jet("report", "run", "plan_revenue", "--realm", "acme", "--param", "floor=100",
              "--format", "xlsx", "--out", str(out))  # fmt: skip
    assert ran.exit_code == 0, ran.output
    assert f"plan_revenue: 2 rows -> {out}" in ran.output
    assert load_workbook(out)["plan_revenue"].max_row == 3
    unknown = jet("report", "run", "nothing")
    assert unknown.exit_code == 1 and "no report or pack 'nothing'" in unknown.output


def _disk(home: Settings) -> dict[str, tuple[int, int]]:
    """Every file under the home: size and modification time."""
    return {
        str(p): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in Path(home.root).rglob("*")
        if p.is_file()
    }


ESCAPES = [
    ("create table stolen as select 1", "CREATE statements are refused"),
    ("delete from fct_plan_months", "DELETE statements are refused"),
    ("insert into fct_plan_months values ('x', 'y', current_date, 1)", "INSERT statements"),
    ("copy (select 1) to '{marts}/evil.parquet'", "COPY statements are refused"),
    ("attach '{root}/jet.db' as store", "ATTACH statements are refused"),
    ("attach '{root}/warehouse.duckdb'", "ATTACH statements are refused"),
    ("select * from read_csv('/etc/passwd')", "no other files"),
    ("select * from read_text('/etc/passwd')", "no other files"),
    ("select * from read_blob('{root}/jet.db')", "no other files"),
    ("select * from read_parquet('{marts}/../../jet.db')", "no other files"),
    ("set enable_external_access = true", "SET statements are refused"),
    ("pragma enable_profiling", "PRAGMA statements are refused"),
    ("install httpfs", "statements are refused"),
    ("load json", "statements are refused"),
    ("select 1; drop view fct_plan_months", "statements are refused"),
    ("with recursive r(n) as (select 1 union all select n + 1 from r) select count(*) from r",
     "stopped after 1 s"),
    ("select count(*) from range(100000000000000)", "stopped after 1 s"),
]  # fmt: skip


@pytest.mark.parametrize(("sql", "message"), ESCAPES)
def test_jet_sql_cannot_get_out_of_the_marts(home, sql, message):
    before = _disk(home)
    query = sql.format(root=home.root, marts=home.marts)
    ran = jet("sql", query, "--timeout", "1")
    assert ran.exit_code == 1 and message in ran.output, ran.output
    assert "Traceback" not in ran.output
    assert _disk(home) == before


@pytest.mark.parametrize(("sql", "message"), ESCAPES)
def test_a_custom_report_cannot_get_out_of_the_marts(home, sql, message, monkeypatch):
    monkeypatch.setenv("JET_SQL_TIMEOUT", "1")
    query = sql.format(root=home.root, marts=home.marts)
    (home.root / "reports" / "escape.sql").write_text(f"/*---\ntitle: x\n---*/\n{query}\n")
    before = _disk(home)
    ran = jet("report", "run", "escape", "--format", "csv", "--out", str(home.root / "x.csv"))
    assert ran.exit_code == 1 and message in ran.output, ran.output
    assert _disk(home) == before


def test_jet_sql_reads_the_marts(home):
    ran = jet("sql", "select sum(billed) as billed from fct_plan_months")
    assert ran.exit_code == 0 and "2641.74" in ran.output


def test_every_format_is_offered_by_the_cli_and_the_catalog():
    from typing import get_args

    from jet.catalog import ReportMail
    from jet.cli.report import FORMATS as CLI_FORMATS
    from reports.report_formats import FORMATS

    assert CLI_FORMATS == FORMATS
    assert set(get_args(ReportMail.model_fields["format"].annotation)) == set(FORMATS)


def test_pdfs_one_after_another_keep_every_script():
    """A Latin-only PDF, then one of Greek names, in one process: the second still has
    its glyphs (fpdf2's own output once cut the shared font down to the first's)."""
    report = Report(name="names", title="Names", description="", sql="", kind="standard")
    for names in (["plain ascii"], ["Γιώργος Παπαδόπουλος", "Ζωή Αλεξίου"]):
        result = ReportResult(report, pa.table({"name": names}), {}, datetime.now(UTC))
        pdf = render(result, "pdf")
        text = subprocess.run(
            ["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True
        ).stdout.decode()
        assert all(name in text for name in names)
