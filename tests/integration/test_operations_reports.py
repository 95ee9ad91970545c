"""The operations pack on what `jet demo` built, checked against totals taken elsewhere:
the daily usage mart, the landed upstream rows, the store's accounts, subscriptions and
NAS registrations (the ORM), and the unattributed-flows mart. Also the pack in PDF
through the CLI, and its dbt unit test."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

import duckdb
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from jet.cli import main
from jet.config import Settings
from jet.store.db import session
from jet.store.models import Account, NasClient, Subscription
from jet.warehouse import invoke_dbt
from reports.report_definitions import chosen
from reports.report_runs import build, run_report
from tests.demo_home import demo_home  # noqa: F401

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def operations(demo_home: Settings) -> Settings:  # noqa: F811
    build(demo_home, chosen(demo_home, "operations"))
    return demo_home


def report(settings: Settings, name: str, **given) -> list[dict]:
    [r] = chosen(settings, name)
    return run_report(settings, r, given).table.to_pylist()


def daily(settings: Settings) -> dict[tuple[str, date, str], int]:
    """Bytes per realm, month and account from the daily usage mart (int_usage_daily,
    another model than the reports read)."""
    rows = duckdb.sql(
        f"select a.realm_id, date_trunc('month', d.usage_date)::date, d.account_id, "
        f"sum(d.bytes_in + d.bytes_out)::bigint "
        f"from '{settings.marts}/fct_usage_daily.parquet' d "
        f"join '{settings.marts}/dim_accounts.parquet' a using (account_id) group by all"
    ).fetchall()
    return {(realm, month, account): total for realm, month, account, total in rows}


def per_realm(totals: dict[tuple, int]) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for (realm, *_), value in totals.items():
        out[realm] += value
    return dict(out)


def test_top_users_are_each_months_heaviest_in_order(operations):
    usage = daily(operations)
    rows = report(operations, "top_users")
    assert rows
    by_month: dict[tuple[str, date], list[dict]] = defaultdict(list)
    for row in rows:
        assert row["bytes_total"] == usage[(row["realm_id"], row["month"], row["account_id"])]
        by_month[(row["realm_id"], row["month"])].append(row)
    for (realm, month), ranked in by_month.items():
        ranked.sort(key=lambda r: r["rank"])
        assert [r["rank"] for r in ranked] == list(range(1, len(ranked) + 1))
        everyone = sorted(
            (v for (r, m, _), v in usage.items() if (r, m) == (realm, month)), reverse=True
        )
        assert [r["bytes_total"] for r in ranked] == everyone[:100]


def test_the_heatmap_traffic_and_settlement_add_up_to_the_daily_usage(operations):
    expected = per_realm(daily(operations))
    for name in ("usage_heatmap", "traffic", "realm_settlement"):
        rows = report(operations, name)
        got: dict[str, int] = defaultdict(int)
        for row in rows:
            got[row["realm_id"]] += row.get("bytes_total") or row["bytes_in"] + row["bytes_out"]
        assert dict(got) == expected, name
    heat = report(operations, "usage_heatmap", realm="acme")
    assert {r["hour"] for r in heat} == set(range(24))
    assert {r["weekday"] for r in heat} == set(range(1, 8))


def test_traffic_names_each_nas_as_the_store_registers_it(operations):
    with session(operations.db_url) as s:
        registered = {n.address: (n.name, n.realm_id) for n in s.scalars(select(NasClient))}
    rows = report(operations, "traffic")
    radius = [r for r in rows if r["source"] == "radius"]
    assert radius and registered
    for row in radius:
        assert (row["location"], row["nas_realm_id"]) == registered.get(
            row["collector"], (None, None)
        )
    settled = report(operations, "realm_settlement")
    for row in settled:
        if row["source"] != "radius":
            assert row["carried_by"] is None and not row["roaming"]
        else:
            assert row["roaming"] == (row["carried_by"] not in (None, row["realm_id"]))


def test_upstream_traffic_is_the_landed_rows(operations):
    """The upstream rows summed straight from the lake, per realm by the store's accounts."""
    with session(operations.db_url) as s:
        realm_of = dict(s.execute(select(Account.id, Account.realm_id)).all())
    landed = duckdb.sql(
        f"select account_id, sum(bytes_in + bytes_out)::bigint "
        f"from read_parquet('{operations.raw}/upstream_csv/**/*.parquet') group by all"
    ).fetchall()
    expected: dict[str, int] = defaultdict(int)
    for account, total in landed:
        if account in realm_of:
            expected[realm_of[account]] += total
    got: dict[str, int] = defaultdict(int)
    for row in report(operations, "traffic"):
        if row["source"] == "upstream_csv":
            got[row["realm_id"]] += row["bytes_in"] + row["bytes_out"]
    assert dict(got) == dict(expected) and expected


def test_cohorts_count_the_stores_subscribers_month_by_month(operations):
    with session(operations.db_url) as s:
        realm_of = dict(s.execute(select(Account.id, Account.realm_id)).all())
        subs = s.execute(
            select(Subscription.account_id, Subscription.start_date, Subscription.end_date)
        ).all()
    first: dict[str, date] = {}
    for account, start, _ in subs:
        first[account] = min(first.get(account, start), start)
    rows = report(operations, "churn_cohorts")
    for row in rows:
        last = (row["month"].replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        cohort = {
            a for a, f in first.items()
            if realm_of[a] == row["realm_id"] and f.replace(day=1) == row["cohort_month"]
        }  # fmt: skip
        active = {
            a for a, start, stop in subs
            if a in cohort and start <= last and (stop is None or stop > last)
        }  # fmt: skip
        assert (row["cohort_accounts"], row["active_accounts"]) == (len(cohort), len(active))
    starts = {r["cohort_month"] for r in rows if r["months_since"] == 0}
    assert sum(r["cohort_accounts"] for r in rows if r["months_since"] == 0) == len(first)
    assert starts


def test_unattributed_traffic_is_the_unowned_flows(operations):
    [(flows, total)] = duckdb.sql(
        f"select sum(flows)::bigint, sum(bytes)::bigint "
        f"from '{operations.marts}/fct_unattributed_flows.parquet'"
    ).fetchall()
    rows = report(operations, "unattributed_traffic")
    assert sum(r["bytes"] for r in rows) == total and sum(r["flows"] for r in rows) == flows


def test_settlement_alone_builds_the_traffic_it_reads(operations):
    """Built on its own it brings the on-demand model it reads, not the rating models."""
    traffic = operations.marts / "rpt_traffic.parquet"
    rating = {p: p.stat().st_mtime_ns for p in operations.marts.glob("[df]*_*.parquet")}
    traffic.unlink()
    build(operations, chosen(operations, "realm_settlement"))
    assert traffic.exists()
    assert rating and {p: p.stat().st_mtime_ns for p in rating} == rating
    assert report(operations, "realm_settlement")


def test_the_operations_pack_as_pdfs_through_the_cli(operations, tmp_path):
    ran = CliRunner().invoke(
        main,
        ["report", "run", "operations", "--format", "pdf", "--out", str(tmp_path), "--no-refresh"],
    )
    assert ran.exit_code == 0, ran.output
    names = {p.stem for p in tmp_path.glob("*.pdf")}
    assert names == {
        "top_users", "usage_heatmap", "traffic", "churn_cohorts", "unattributed_traffic",
        "realm_settlement",
    }  # fmt: skip


def test_the_operations_unit_tests_pass(operations):
    models = ("rpt_usage_heatmap", "rpt_churn_cohorts")
    result = invoke_dbt(operations, "test", "--select", *(f"{m},test_type:unit" for m in models))
    assert result.success and len(result.result.results) == 2
