"""Rating at scale: the dbt build of invoice lines and draft invoices from 10 million
usage records of 100,000 subscriptions, against a bare DuckDB GROUP BY account over the
same landed Parquet, both measured in this run on this machine.

    python bench/bench_rating.py [--records N] [--subscriptions M]

Set-up (timed only to stderr, never in the figures): a throw-away JET_HOME with one
realm `bench` (fixed-date cycle on the 1st) whose catalog has a monthly flat fee, a
once-off setup fee, a graduated-tier data product on bytes_total in GB and a per-hour
duration product; M accounts (1% cost centres, 10% users under them, the rest on their
own) and M subscriptions (every account but the cost centres, plus 1% plan changes that
end one subscription and start another), bulk-inserted with SQLAlchemy Core executemany;
N usage records landed with ``ingest.landing.land`` in 10 batches, each batch a tenth
of the three months of usage (as upstream files would arrive); the ops snapshot.
Usage is generated with numpy and Arrow: account ids are one ``take`` from an Arrow
array of the M account ids (measured on 1M rows: 8 ms, against 0.22 s for numpy string
fancy indexing and 1.5 s for a Python list of f-strings).

What is measured (every figure is the second of two identical runs, so both sides read
a warm page cache and dbt has already imported and parsed the project):

- ``baseline_seconds``: a fresh in-memory ``duckdb.connect()`` runs
  ``select account_id, sum(bytes_in + bytes_out), sum(seconds), count(*) from
  read_parquet('<raw>/upstream_csv/date=*/*.parquet') group by account_id`` and
  fetches the result as Arrow.
- ``seconds`` (the primary figure): Jet's rating and invoice-line build from nothing,
  ``dbt run --select +fct_invoice_drafts --full-refresh`` in this process (dbtRunner,
  the arguments of ``jet.warehouse.dbt_args``), so the incremental usage aggregates are
  built whole, as on a home's first run. The selection is fct_invoice_drafts and
  everything upstream of it: fct_invoice_lines, the rating and invoicing intermediates,
  int_usage_by_cycle and the usage models, and the staging views. It includes dbt's own
  per-invocation cost, which is reported on its own as ``dbt_startup_seconds`` (a
  ``dbt run --select stg_ops__realms``, one trivial view), and the writes dbt does
  (tables in the warehouse file, the two marts as Parquet). Tests are not in it.
- ``hourly_seconds``: the hourly rating run after one more hour of usage (as many
  records as an hour of the three months holds, landed as one batch): ``dbt run
  --select +fct_invoice_drafts +fct_usage_daily``, incremental, the
  second of two such hours; ``hourly_model_seconds`` its slowest models. It checks that
  fct_usage_daily then holds every record.
- ``dbt_build_seconds``: ``jet.warehouse.run_dbt(settings, "build --full-refresh")``, the
  whole project with every data and unit test (a billing run runs the invoice marts'
  data tests, the nightly ``warehouse_tests`` job the others; ``dbt_test_seconds`` sums
  the tests' own times from its run_results.json).
- ``sql_seconds``: the compiled SQL of the same selected models, replayed without dbt
  in dependency order on one DuckDB connection whose database is a fresh file attached
  as ``warehouse`` (the name the compiled SQL refers to): views as views, tables as
  ``create table as``, marts as dbt-duckdb's external materialisation does them
  (table, ``copy`` to Parquet, view over the file). ``sql_model_seconds`` says which
  models the time goes to without dbt around them. The replay runs one model at a time,
  while dbt runs two at once (``threads: 2`` in profiles.yml), so on two cores
  ``sql_seconds`` can come out above ``seconds``: it is the SQL's own cost, not a floor.

Memory: ``peak_memory_mb`` is this process's peak RSS over the whole run (dbt and its
DuckDB run in-process, so they are counted); ``rating_peak_memory_mb`` is the peak
RSS during the Jet runs alone (VmHWM after resetting it through /proc/self/clear_refs),
when Linux allows the reset.

The run checks what it measured: every record reached fct_usage_daily with the
bare scan's byte total, there are usage, flat and once lines, and every billing account
has between one draft invoice and one per bill date.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import report  # noqa: E402
from ingest.landing import land  # noqa: E402
from jet.catalog import parse_catalog  # noqa: E402
from jet.config import Settings  # noqa: E402
from jet.realms import store_catalog  # noqa: E402
from jet.snapshot import write_snapshot  # noqa: E402
from jet.store.db import session  # noqa: E402
from jet.store.models import Account, Subscription  # noqa: E402
from jet.warehouse import WarehouseError, dbt_args, marts, run_dbt, write_as_of  # noqa: E402
from schemas.raw import write_schema_files  # noqa: E402

REALM = "bench"
USAGE_FROM = date(2026, 1, 1)
USAGE_DAYS = 90  # 2026-01-01 .. 2026-03-31
STARTS_FROM = date(2025, 11, 1)
STARTS_DAYS = 92  # subscriptions start 2025-11-01 .. 2026-01-31
PLAN_CHANGE = date(2026, 2, 15)
AS_OF = "2026-04-01"  # bills March's usage; bill dates 2025-11-01 .. 2026-04-01
BILL_DATES = 6
BATCHES = 10
SELECT = "+fct_invoice_drafts"  # fct_invoice_lines and every model upstream
HOURLY = f"{SELECT} +fct_usage_daily"  # and the daily usage, as the hourly rating job
TRIVIAL = "stg_ops__realms"

CATALOG = {
    "realm": {
        "id": REALM,
        "name": "Bench Broadband",
        "currency": "AUD",
        "tax_rate": "0.10",
        "cycle": "fixed_date",
        "cycle_day": 1,
    },
    "effective_from": "2025-01-01",
    "products": {
        "access": {"type": "flat", "price": "59.95", "period": "monthly"},
        "setup": {"type": "once", "price": "99.00"},
        "data": {
            "type": "usage",
            "metric": "bytes_total",
            "unit": "GB",
            "tiers": [
                {"upto": 100, "price": "0"},
                {"upto": 500, "price": "0.05"},
                {"price": "0.02"},
            ],
            "tier_mode": "graduated",
        },
        "airtime": {"type": "duration", "unit": "hour", "price": "1.50"},
    },
    "plans": {
        "home": {"products": ["access", "setup", "data"]},
        "hotspot": {"products": ["setup", "airtime"]},
    },
}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- peak memory of a section -------------------------------------------------------------


def reset_peak_rss() -> bool:
    """Reset this process's VmHWM (Linux >= 4.0); False where that is not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_rss_mb() -> float | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


# --- set-up -------------------------------------------------------------------------------


def account_ids(m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(cost centres, their users, accounts on their own): 1%, 10% and the rest of m."""
    centres = max(m // 100, 1)
    users = m // 10
    alone = m - centres - users
    if alone < 1:
        raise SystemExit(f"--subscriptions {m} is too small: use at least 100")

    def ids(prefix: str, n: int) -> np.ndarray:
        return np.char.add(prefix, np.char.zfill(np.arange(1, n + 1).astype(str), 7))

    return ids("cc-", centres), ids("u-", users), ids("a-", alone)


def store_ops(settings: Settings, m: int, rng: np.random.Generator) -> dict[str, int]:
    """Realm, catalog, m accounts and m subscriptions, bulk-inserted (Core executemany)."""
    centres, users, alone = account_ids(m)
    now = datetime.now(UTC)
    parents = rng.integers(0, len(centres), len(users))

    def account_rows(ids: np.ndarray, parent_ids: np.ndarray | None) -> list[dict]:
        return [
            {
                "id": a,
                "realm_id": REALM,
                "name": a,
                "parent_id": None if parent_ids is None else parent_ids[i],
                "status": "active",
                "email": None,
                "created_at": now,
            }
            for i, a in enumerate(ids.tolist())
        ]

    # every account but the cost centres subscribes once; the first 1% of those on their
    # own change plan: home ends on PLAN_CHANGE, hotspot starts on it
    subscribers = np.concatenate([users, alone]).tolist()
    changes = min(m - len(subscribers), len(alone))
    starts = STARTS_FROM.toordinal() + rng.integers(0, STARTS_DAYS, len(subscribers))
    plans = np.where(rng.random(len(subscribers)) < 0.8, "home", "hotspot").tolist()
    sub_rows = []
    for i, (account, start, plan) in enumerate(
        zip(subscribers, starts.tolist(), plans, strict=True)
    ):
        changed = i >= len(users) and i - len(users) < changes
        sub_rows.append(
            {
                "account_id": account,
                "plan_id": "home" if changed else plan,
                "start_date": date.fromordinal(start),
                "end_date": PLAN_CHANGE if changed else None,
            }
        )
    for account in alone[:changes].tolist():
        sub_rows.append(
            {
                "account_id": account,
                "plan_id": "hotspot",
                "start_date": PLAN_CHANGE,
                "end_date": None,
            }
        )

    catalog = parse_catalog(CATALOG, "bench catalog")
    with session(settings.db_url) as s:
        store_catalog(s, catalog, "bench catalog")
        s.flush()
        con = s.connection()
        con.execute(
            insert(Account.__table__), account_rows(centres, None) + account_rows(alone, None)
        )
        con.execute(insert(Account.__table__), account_rows(users, centres[parents]))
        con.execute(insert(Subscription.__table__), sub_rows)
    return {
        "accounts": len(centres) + len(users) + len(alone),
        "billing_accounts": len(centres) + len(alone),
        "subscriptions": len(sub_rows),
    }


def usage_rows(
    rng: np.random.Generator,
    ids: pa.Array,
    rows: int,
    start: datetime,
    span_us: int,
    name: str,
    first_row: int = 0,
) -> pa.Table:
    """Upstream usage of random accounts, uniform over [start, start + span)."""
    ts = np.sort(int(start.timestamp()) * 1_000_000 + rng.integers(0, span_us, rows))
    return pa.table(
        {
            "account_id": ids.take(pa.array(rng.integers(0, len(ids), rows))),
            "ts": pa.array(ts, pa.timestamp("us", tz="UTC")),
            # ~3 GB down and ~0.25 GB up per record: monthly totals cross every tier
            "bytes_in": pa.array(rng.integers(0, 6 * 10**9, rows, dtype=np.uint64)),
            "bytes_out": pa.array(rng.integers(0, 5 * 10**8, rows, dtype=np.uint64)),
            "seconds": pa.array(rng.integers(0, 7_200, rows, dtype=np.uint64)),
            "source_file": pa.repeat(pa.scalar(name), rows),
            "source_line": pa.array(
                np.arange(first_row + 1, first_row + rows + 1, dtype=np.uint32)
            ),
        }
    )


def every_account(m: int) -> pa.Array:
    return pa.array(np.concatenate(account_ids(m)))


def land_usage(settings: Settings, n: int, m: int, rng: np.random.Generator) -> int:
    """N records over every account (cost centres too: their usage is never rated)."""
    ids = every_account(m)
    files = 0
    done = 0
    for k in range(BATCHES):
        rows = n // BATCHES + (1 if k < n % BATCHES else 0)
        # the k-th tenth of the three months, as an upstream file would bring it
        span = USAGE_DAYS * 86_400_000_000 // BATCHES
        start = datetime(USAGE_FROM.year, USAGE_FROM.month, USAGE_FROM.day, tzinfo=UTC)
        table = usage_rows(
            rng,
            ids,
            rows,
            start + k * timedelta(microseconds=span),
            span,
            f"upstream-{k:02d}.csv",
            done,
        )
        result = land("upstream_csv", table, f"bench-{k:02d}", settings.raw)
        files += len(result.files)
        done += rows
    return files


# --- measurements -------------------------------------------------------------------------


def land_hour(settings: Settings, ids: pa.Array, rows: int, hour: int, rng) -> None:
    """One more hour of usage, the `hour`-th after the three months: as many records as
    an hour of them holds, as the hourly rating run would find."""
    start = datetime(2026, 4, 1, tzinfo=UTC) + timedelta(hours=hour)
    table = usage_rows(rng, ids, rows, start, 3_600_000_000, f"hour-{hour:02d}.csv")
    land("upstream_csv", table, f"hour-{hour:02d}", settings.raw)


def bare_scan(settings: Settings) -> tuple[float, pa.Table]:
    pattern = settings.raw / "upstream_csv" / "date=*" / "*.parquet"
    con = duckdb.connect()
    began = time.perf_counter()
    result = con.sql(
        "select account_id, sum(bytes_in + bytes_out) as bytes, sum(seconds) as seconds, "
        f"count(*) as records from read_parquet('{pattern}') group by account_id"
    ).to_arrow_table()
    elapsed = time.perf_counter() - began
    con.close()
    return elapsed, result


def dbt(settings: Settings, command: str, *extra: str):
    """`jet.warehouse.run_dbt` with a --select: same arguments, same in-process runner;
    returns dbt's result so per-model timings and compiled SQL can be read."""
    from dbt.cli.main import dbtRunner

    settings.export()
    os.environ.setdefault("DBT_LOG_PATH", str(settings.root / "dbt" / "logs"))
    result = dbtRunner().invoke(["--quiet", *dbt_args(settings, command), *extra])
    if not result.success:
        failed = [
            f"{r.node.name}: {r.message}"
            for r in getattr(result.result, "results", None) or []
            if str(r.status) in ("error", "fail")
        ]
        raise WarehouseError(f"dbt {command} failed: {'; '.join(failed) or result.exception}")
    return result.result.results


def twice(what: str, run):
    """Run twice, keep the second (warm) figure; log both."""
    first = run()
    second = run()
    t1 = first[0] if isinstance(first, tuple) else first
    t2 = second[0] if isinstance(second, tuple) else second
    log(f"{what}: {t1:.2f} s, then {t2:.2f} s (kept)")
    return second


def timed_dbt(settings: Settings, command: str, *extra: str):
    began = time.perf_counter()
    results = dbt(settings, command, *extra)
    return time.perf_counter() - began, results


def timed_build(settings: Settings) -> float:
    began = time.perf_counter()
    run_dbt(settings, "build --full-refresh")
    return time.perf_counter() - began


def in_dependency_order(results) -> list:
    nodes = {r.node.unique_id: r.node for r in results}
    ordered, seen = [], set()

    def visit(uid: str) -> None:
        if uid in seen:
            return
        seen.add(uid)
        for parent in nodes[uid].depends_on.nodes:
            if parent in nodes:
                visit(parent)
        ordered.append(nodes[uid])

    for uid in sorted(nodes):
        visit(uid)
    return ordered


def replay_sql(nodes: list, scratch: Path) -> tuple[float, dict[str, float]]:
    """The compiled SQL of `nodes`, materialised as dbt-duckdb does, on one connection."""
    shutil.rmtree(scratch, ignore_errors=True)
    (scratch / "marts").mkdir(parents=True)
    con = duckdb.connect()
    con.execute(f"attach '{scratch / 'warehouse.duckdb'}' as warehouse")
    con.execute("use warehouse")
    per_model: dict[str, float] = {}
    began = time.perf_counter()
    for node in nodes:
        name, sql = f'"warehouse"."main"."{node.name}"', node.compiled_code
        kind = node.config.materialized
        t = time.perf_counter()
        if node.name == "int_usage_changes":  # its pre-hook: nothing counted yet
            con.execute(
                'create table "warehouse"."main"."usage_counted" (consumer varchar, source '
                "varchar, batch_id varchar, as_of date, fingerprint varchar, counted_at "
                "timestamptz)"
            )
        if kind == "view":
            con.execute(f"create view {name} as (\n{sql}\n)")
        elif kind in ("table", "incremental"):  # compiled as a whole build
            con.execute(f"create table {name} as (\n{sql}\n)")
        elif kind == "external":
            tmp = f'"warehouse"."main"."{node.name}__dbt_tmp"'
            path = scratch / "marts" / f"{node.name}.parquet"
            con.execute(f"create table {tmp} as (\n{sql}\n)")
            con.execute(f"copy {tmp} to '{path}' (format parquet)")
            con.execute(f"create view {name} as select * from read_parquet('{path}')")
            con.execute(f"drop table {tmp}")
        else:
            raise RuntimeError(f"{node.name}: cannot replay a {kind} model")
        per_model[node.name] = time.perf_counter() - t
    elapsed = time.perf_counter() - began
    con.close()
    return elapsed, per_model


def top(times: dict[str, float], n: int = 8) -> dict[str, float]:
    return {k: round(v, 3) for k, v in sorted(times.items(), key=lambda kv: -kv[1])[:n]}


# --- sanity -------------------------------------------------------------------------------


def check(settings: Settings, ops: dict[str, int], n: int, scan: pa.Table) -> dict[str, int]:
    """Fail loudly if the rating measured nothing or lost records."""
    con = marts(settings)
    records, total_bytes = con.execute(
        "select sum(records), sum(bytes_in + bytes_out) from fct_usage_daily"
    ).fetchone()
    scan_bytes = scan.column("bytes").to_numpy().astype(object).sum()
    assert records == n, f"fct_usage_daily holds {records} records, {n} were landed"
    assert scan.num_rows == ops["accounts"], f"bare scan saw {scan.num_rows} accounts"
    # the mart holds HUGEINT sums as DOUBLE (Parquet has no 128-bit integer)
    assert math.isclose(total_bytes, int(scan_bytes), rel_tol=1e-12), (
        f"fct_usage_daily has {total_bytes} bytes, the bare scan {scan_bytes}"
    )
    kinds = dict(
        con.execute("select kind, count(*) from fct_invoice_lines group by kind").fetchall()
    )
    lines = sum(kinds.values())
    for kind in ("advance", "catch_up", "refund", "once", "usage", "duration"):
        assert kinds.get(kind, 0) > 0, f"no {kind} lines among {kinds}"
    invoices, billed, empty = con.execute(
        "select count(*), count(distinct billing_account_id), count(*) filter (line_count = 0) "
        "from fct_invoice_drafts"
    ).fetchone()
    assert billed == ops["billing_accounts"], (
        f"{billed} billing accounts have drafts, {ops['billing_accounts']} have subscriptions"
    )
    assert billed <= invoices <= billed * BILL_DATES, f"{invoices} drafts for {billed} accounts"
    assert empty == 0
    draft_lines = con.execute("select sum(line_count) from fct_invoice_drafts").fetchone()[0]
    assert draft_lines == lines, f"drafts count {draft_lines} lines, fct_invoice_lines {lines}"
    con.close()
    return {"lines": lines, "invoices": invoices, "usage_lines": kinds["usage"] + kinds["duration"]}


# --- main ---------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=10_000_000)
    parser.add_argument("--subscriptions", type=int, default=100_000)
    args = parser.parse_args()
    n, m = args.records, args.subscriptions
    os.environ.setdefault("DO_NOT_TRACK", "1")
    rng = np.random.default_rng(20260401)

    with tempfile.TemporaryDirectory(prefix="jet-bench-rating-") as tmp:
        settings = Settings(home=Path(tmp) / "home", database_url=None)
        settings.export()
        began = time.perf_counter()
        ops = store_ops(settings, m, rng)
        log(
            f"set-up: {ops['accounts']:,} accounts, {ops['subscriptions']:,} subscriptions "
            f"stored in {time.perf_counter() - began:.1f} s"
        )
        began = time.perf_counter()
        write_schema_files(settings.raw)
        files = land_usage(settings, n, m, rng)
        log(
            f"set-up: {n:,} usage records generated and landed as {files} files "
            f"in {time.perf_counter() - began:.1f} s"
        )
        began = time.perf_counter()
        with session(settings.db_url) as s:
            write_snapshot(s, settings.ops_snapshot)
        write_as_of(settings, AS_OF)
        log(f"set-up: ops snapshot in {time.perf_counter() - began:.1f} s")

        baseline, scan = twice("bare DuckDB GROUP BY account", lambda: bare_scan(settings))

        resettable = reset_peak_rss()
        build = twice("dbt build (whole project, tests)", lambda: timed_build(settings))
        # from nothing: the incremental aggregates built whole, as on a home's first run
        run_results = json.loads(
            (settings.root / "dbt" / "target" / "run_results.json").read_text()
        )["results"]
        test_seconds = sum(
            r["execution_time"] for r in run_results if r["unique_id"].startswith("test.")
        )
        seconds, results = twice(
            f"dbt run --select {SELECT} --full-refresh",
            lambda: timed_dbt(settings, "run", "--select", SELECT, "--full-refresh"),
        )
        startup, _ = twice(
            f"dbt run --select {TRIVIAL}", lambda: timed_dbt(settings, "run", "--select", TRIVIAL)
        )
        rating_peak = peak_rss_mb() if resettable else None

        nodes = in_dependency_order(results)
        sql_seconds, sql_models = twice(
            "compiled SQL replayed on one connection",
            lambda: replay_sql(nodes, Path(tmp) / "replay"),
        )
        dbt_models = {r.node.name: r.execution_time for r in results}
        log("per model (dbt run execution time | bare SQL):")
        for name, t in sorted(dbt_models.items(), key=lambda kv: -kv[1]):
            log(f"  {name:34s} {t:7.2f} s | {sql_models.get(name, 0):7.2f} s")

        figures = check(settings, ops, n, scan)
        log(f"checked: {figures}")

        hour_rows, hours = n // (USAGE_DAYS * 24), iter(range(24))

        def hourly() -> tuple[float, list]:
            land_hour(settings, every_account(m), hour_rows, next(hours), rng)
            return timed_dbt(settings, "run", "--select", HOURLY)

        hourly_seconds, hourly_results = twice(
            f"one more hour ({hour_rows:,} records), dbt run --select {HOURLY}", hourly
        )
        hourly_models = {r.node.name: r.execution_time for r in hourly_results}
        counted = marts(settings)
        held = counted.execute("select sum(records) from fct_usage_daily").fetchone()[0]
        counted.close()
        assert held == n + 2 * hour_rows, f"fct_usage_daily holds {held} records"

    sys.stderr.flush()
    report(
        "rating",
        f"{n:,} usage records, {ops['subscriptions']:,} subscriptions",
        seconds,
        "bare DuckDB GROUP BY account over the same Parquet",
        baseline,
        **figures,
        billing_accounts=ops["billing_accounts"],
        landed_files=files,
        hourly_seconds=round(hourly_seconds, 3),
        hourly_records=hour_rows,
        hourly_model_seconds=top(hourly_models),
        dbt_build_seconds=round(build, 3),
        dbt_test_seconds=round(test_seconds, 3),
        sql_seconds=round(sql_seconds, 3),
        sql_ratio=round(sql_seconds / baseline, 2),
        dbt_startup_seconds=round(startup, 3),
        model_seconds=top(dbt_models),
        sql_model_seconds=top(sql_models),
        rating_peak_memory_mb=rating_peak,
    )


if __name__ == "__main__":
    main()
