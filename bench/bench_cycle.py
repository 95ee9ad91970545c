"""A whole billing cycle: one monthly `jet bill` in a fresh process, stage by stage,
against its floor measured in the same run.

    python bench/bench_cycle.py [--accounts N | --all]

Set-up (timed only to stderr): a throw-away JET_HOME with the acme catalog
(examples/catalogs/acme.yaml); N accounts from `tests/account_files.account_rows` (of
every 50: a company, its two cost-centres and 16 users on the business plan, and 31
people on the home plan, every tenth of them resold on home-wholesale) imported as `jet
import accounts` does, every subscription from 1 March 2026; a /32 for each business
user (`jet.addresses.assign`) so that NetFlow attributes their flows. March's usage, 100
records for each subscribed account, landed with `ingest.landing.land` in batches as
production lands them: RADIUS for home (10 sessions of Start, 8 Interim-Updates, Stop)
a batch an hour; NetFlow for business users and the wholesale partner's CSV rows for
home-wholesale a batch a day. Then `jet bill` for 1 March, so that the measured run
bills a steady month (April's access fees and March's usage, nothing caught up, with
last month's invoices in the store); its time is reported as `first_run_seconds`.

Measured: `jet bill --from 2026-04-01 --to 2026-04-01` as a child process, from its
start to its exit, cut into stages that add up to it, read from the run's own records
(nothing is added to production code for them):
- Dagster's event log (JET_HOME/dagster): the run's creation (before it, `process_start`:
  interpreter, imports, definitions), the first step's start (before it, `run_start`:
  Dagster's planned events and resources), each step's start and end (`between_steps`
  is what lies between them), and dagster-dbt's "Running dbt command" message.
- In the dbt step: `dbt_prepare` up to that message; `dbt_start` from it to dbt's
  invocation start (run_results.json: its interpreter and imports); `dbt_parse` from
  there to dbt.log's FoundStats line (the manifest loaded); then each node's compile
  and execute times from run_results.json: `rating_models` (staging and intermediate),
  `publish_marts` (the marts, whose queries rate through the intermediate views and
  write the published Parquet) and `data_tests`; dbt runs two nodes at once, and where
  nodes overlap each has its share. `dbt_other` is the rest of the step: dbt's
  connections and wrap-up, and the step recording dbt's events.
- `run_end`: from the last step's end to the process exit.
- `bill_peak_memory_mb`: the largest process of the run (`jet bill`, or its dbt
  child), from the child's rusage; `slowest_dbt_nodes`, the six longest dbt nodes.

The floor: a bare DuckDB query over the same Parquet computing each account's bytes and
records (a RADIUS session's last counters, the flows to and from a business user's
address, the CSV rows), and fpdf2 writing as many one-page invoices as the run issued
in a plain loop (Helvetica, a dozen cells each). The run checks that Jet's
fct_usage_daily holds the bare query's bytes and records.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
from fpdf import FPDF
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import report  # noqa: E402
from ingest.landing import land  # noqa: E402
from ingest.netflow.collector import flows_table  # noqa: E402
from ingest.netflow.decode import Flows  # noqa: E402
from jet.account_import import import_accounts  # noqa: E402
from jet.addresses import assign  # noqa: E402
from jet.audit import Actor  # noqa: E402
from jet.catalog import load_catalog_file  # noqa: E402
from jet.config import PROJECT_ROOT, Settings  # noqa: E402
from jet.realms import store_catalog  # noqa: E402
from jet.store.db import session  # noqa: E402
from jet.store.models import Invoice  # noqa: E402
from jet.warehouse import dbt_target, marts  # noqa: E402
from schemas.raw import RADIUS, UPSTREAM_CSV  # noqa: E402
from tests.account_files import account_rows  # noqa: E402

CATALOG = PROJECT_ROOT / "examples" / "catalogs" / "acme.yaml"
SIZES = (2_000, 20_000, 100_000)
MONTH = datetime(2026, 3, 1, tzinfo=UTC)  # the usage month
DAYS = 31
PREVIOUS, BILL_DATE = "2026-03-01", "2026-04-01"  # set-up run, measured run
RECORDS = 100  # per subscribed account and month
SESSIONS = 10  # RADIUS sessions a month, RECORDS // SESSIONS records each
WHOLESALE = 10  # every tenth person on the home plan is resold (home-wholesale)
BUSINESS_NET = (100 << 24) | (64 << 16)  # 100.64.0.0: a /32 for each business user
EXPORTER = "10.0.0.250"
MONTH_US = int(MONTH.timestamp()) * 1_000_000
DAY_US = 86_400 * 1_000_000
HOUR_US = 3_600 * 1_000_000


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- set-up -------------------------------------------------------------------------------


def store_accounts(settings: Settings, n: int) -> dict[str, list[str]]:
    """The acme catalog and n accounts as an operator imports them; the logins of each
    plan with a usage source."""
    rows = list(account_rows(n))
    people = 0
    for row in rows:
        if row.get("plan"):
            row["plan_from"] = MONTH.date().isoformat()
        if row.get("plan") == "home":
            if people % WHOLESALE == 0:
                row["plan"] = "home-wholesale"
            people += 1
    metered = ("home", "business", "home-wholesale")
    plans = {plan: [r["login"] for r in rows if r.get("plan") == plan] for plan in metered}
    with session(settings.db_url) as s:
        store_catalog(s, load_catalog_file(CATALOG), str(CATALOG))
        import_accounts(s, Actor.here("import"), rows)
        for i, login in enumerate(plans["business"]):
            assign(s, login, _dotted(BUSINESS_NET + i))
    return plans


def _dotted(ip: int) -> str:
    return ".".join(str((ip >> shift) & 255) for shift in (24, 16, 8, 0))


def radius_records(rng: np.random.Generator, logins: list[str]) -> pa.Table:
    """SESSIONS sessions an account, one in each tenth of the month, each a Start,
    Interim-Updates at even steps and a Stop, with counters that grow to its total."""
    per = RECORDS // SESSIONS
    sessions = len(logins) * SESSIONS
    slot = DAYS * DAY_US // SESSIONS
    start = (
        MONTH_US
        + np.tile(np.arange(SESSIONS), len(logins)) * slot
        + rng.integers(0, slot // 2, sessions)
    )
    length = rng.integers(HOUR_US // 2, slot // 2, sessions)
    total = rng.lognormal(
        np.log(30e9), 1.0, sessions
    )  # ~500 GB a month on average: the included 500 GB and past it
    session = np.repeat(np.arange(sessions), per)
    step = np.tile(np.arange(per), sessions) / (per - 1)
    octets = total[session] * step
    status = np.where(step == 0, 0, np.where(step == 1, 2, 1))
    n = session.size
    known = {
        "event_time": pa.array(
            start[session] + (length[session] * step).astype(np.int64),
            RADIUS.field("event_time").type,
        ),
        "status_type": pa.array(["Start", "Interim-Update", "Stop"]).take(status),
        "user_name": pa.array([f"{login}@acme" for login in logins]).take(session // SESSIONS),
        "acct_session_id": pa.array(session.astype(str)),
        "nas_ip": np.full(n, (10 << 24) | 1, np.uint32),
        "nas_identifier": pa.repeat("acme-bras-01", n),
        "input_octets": (octets * 0.1).astype(np.uint64),
        "output_octets": (octets * 0.9).astype(np.uint64),
        "session_time": (length[session] * step / 1_000_000).astype(np.uint32),
    }
    known["received_at"] = known["event_time"]
    return pa.table([known.get(f.name, pa.nulls(n, f.type)) for f in RADIUS], schema=RADIUS)


def netflow_records(rng: np.random.Generator, users: int) -> pa.Table:
    """RECORDS flows a business user, two in three to its address (download), through
    the collector's own conversion to the landed schema."""
    n = users * RECORDS
    owner = np.repeat(np.arange(users), RECORDS)
    download = rng.random(n) < 2 / 3
    last_ms = MONTH_US // 1000 + rng.integers(0, DAYS * DAY_US // 1000, n)
    local = BUSINESS_NET + owner
    remote = rng.integers(23 << 24, 99 << 24, n)
    src, dst = np.where(download, remote, local), np.where(download, local, remote)
    nbytes = rng.lognormal(np.log(2e8), 1.0, n).astype(np.uint64)
    flows = Flows(
        first_ms=last_ms - rng.integers(0, 600_000, n),
        last_ms=last_ms,
        src_addr=_mapped(src),
        dst_addr=_mapped(dst),
        src_port=np.where(download, 443, 50_000).astype(np.uint16),
        dst_port=np.where(download, 50_000, 443).astype(np.uint16),
        protocol=np.full(n, 6, np.uint8),
        packets=np.maximum(1, nbytes // 1200),
        bytes=nbytes,
        sampling_interval=np.ones(n, np.uint32),
        exporter=np.zeros(n, np.int32),
    )
    return flows_table(flows, [EXPORTER])


def _mapped(v4: np.ndarray) -> np.ndarray:
    """IPv4 addresses as 16-byte IPv4-mapped IPv6 (::ffff:a.b.c.d), as decoders give them."""
    out = np.zeros((v4.size, 16), np.uint8)
    out[:, 10:12] = 0xFF
    out[:, 12:] = v4.astype(">u4").view(np.uint8).reshape(-1, 4)
    return out


def csv_records(rng: np.random.Generator, logins: list[str]) -> pa.Table:
    """RECORDS rows an account in the wholesale partner's daily files."""
    n = len(logins) * RECORDS
    ts = MONTH_US + rng.integers(0, DAYS * DAY_US, n)
    order = np.argsort(ts)
    account, ts = np.repeat(np.arange(len(logins)), RECORDS)[order], ts[order]
    day = (ts - MONTH_US) // DAY_US
    line = np.arange(n) - np.searchsorted(day, day) + 2  # under each file's header
    volume = rng.lognormal(np.log(3e9), 1.0, n)
    files = [f"wholesale-{MONTH.date() + timedelta(days=d)}.csv" for d in range(DAYS)]
    return pa.table(
        {
            "account_id": pa.array(logins).take(account),
            "ts": pa.array(ts, UPSTREAM_CSV.field("ts").type),
            "bytes_in": (volume * 0.85).astype(np.uint64),
            "bytes_out": (volume * 0.15).astype(np.uint64),
            "seconds": rng.integers(60, 7_200, n).astype(np.uint64),
            "source_file": pa.array(files).take(day),
            "source_line": line.astype(np.uint32),
        },
        schema=UPSTREAM_CSV,
    )


def land_batches(settings: Settings, source: str, table: pa.Table, column: str, every: int) -> int:
    """Land `table` a batch per `every` microseconds of `column`, in time order."""
    micros = table.column(column).cast(pa.int64()).to_numpy()
    order = np.argsort(micros, kind="stable")
    key = micros[order] // every
    table = table.take(order)
    bounds = np.append(np.flatnonzero(np.diff(key, prepend=key[0] - 1)), key.size)
    for begin, end in zip(bounds[:-1], bounds[1:], strict=True):
        moment = datetime.fromtimestamp(key[begin] * every / 1e6, UTC)
        land(source, table.slice(begin, end - begin), f"{source}-{moment:%Y%m%dT%H}", settings.raw)
    return bounds.size - 1


def set_up(settings: Settings, n: int) -> tuple[dict[str, list[str]], int]:
    """The store and the lake: the logins of each plan and the usage records landed."""
    rng = np.random.default_rng(20260401)
    settings.export()
    began = time.perf_counter()
    plans = store_accounts(settings, n)
    log(f"set-up: {n:,} accounts imported in {time.perf_counter() - began:.1f} s")
    began = time.perf_counter()
    tables = {
        "radius": (radius_records(rng, plans["home"]), "event_time", HOUR_US),
        "netflow": (netflow_records(rng, len(plans["business"])), "last_ts", DAY_US),
        "upstream_csv": (csv_records(rng, plans["home-wholesale"]), "ts", DAY_US),
    }
    for source, (table, column, every) in tables.items():
        batches = land_batches(settings, source, table, column, every)
        log(f"set-up: {table.num_rows:,} {source} records landed in {batches} batches")
    log(f"set-up: usage landed in {time.perf_counter() - began:.1f} s")
    return plans, sum(table.num_rows for table, _, _ in tables.values())


def run_bill(settings: Settings, bill_date: str) -> tuple[float, float, float]:
    """`jet bill` for one bill date in a child process: its start and end (epoch
    seconds) and the peak resident memory of its largest process, in MiB."""
    out = settings.root / "logs" / f"bench-bill-{bill_date}.out"
    out.parent.mkdir(parents=True, exist_ok=True)
    jet = str(Path(sys.executable).with_name("jet"))
    command = [jet, "bill", "--from", bill_date, "--to", bill_date]
    with out.open("wb") as output:
        began = time.time()
        child = subprocess.Popen(
            command, env=os.environ | settings.env(), stdout=output, stderr=subprocess.STDOUT
        )
        _, status, usage = os.wait4(child.pid, 0)
        ended = time.time()
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise SystemExit(f"jet bill for {bill_date} failed:\n{out.read_text()[-3000:]}")
    return began, ended, round(usage.ru_maxrss / 1024, 1)


# --- the run's own records ----------------------------------------------------------------

# Dagster steps by what they do; a step not named here is reported under its own key.
STEPS = {
    "ops_snapshot": "snapshot",
    "data_contracts": "quality_checks",
    "raw_sources_delivering": "source_freshness",
    "usage_warnings": "usage_warnings",
    "issued_invoices": "issue",
    "invoice_pdfs": "pdfs",
}


def dagster_run(settings: Settings) -> tuple[float, dict[str, tuple[float, float]], float | None]:
    """The last run's creation, each step's (start, end), and when dagster-dbt launched
    dbt (its "Running dbt command" message), all in epoch seconds."""
    from dagster import DagsterInstance

    with DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        run = instance.get_runs(limit=1)[0]
        created = instance.get_run_record_by_id(run.run_id).create_timestamp.timestamp()
        steps = {
            s.step_key: (s.start_time, s.end_time) for s in instance.get_run_step_stats(run.run_id)
        }
        launched = next(
            (
                r.event_log_entry.timestamp
                for r in instance.get_records_for_run(run.run_id).records
                if r.event_log_entry.user_message.startswith("Running dbt command")
            ),
            None,
        )
    return created, steps, launched


def _epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp).replace(tzinfo=UTC).timestamp()


def dbt_invocation(settings: Settings) -> tuple[float, float | None, dict[str, float], bool]:
    """From the last dbt build's artifacts: when dbt started (after its imports), when
    its manifest was loaded (dbt.log's FoundStats line), the wall time of each kind of
    node, and whether dbt had to parse the whole project."""
    target = dbt_target(settings)
    results = json.loads((target / "run_results.json").read_text())
    invocation = results["metadata"]["invocation_id"]
    events = [
        json.loads(line)["info"]
        for line in (target / "dbt.log").read_text().splitlines()
        if line.startswith("{") and invocation in line
    ]
    loaded = next((_epoch(e["ts"]) for e in events if e["name"] == "FoundStats"), None)
    whole = any(e["name"] == "UnableToPartialParse" for e in events)
    manifest = json.loads((target / "manifest.json").read_text())
    published = {uid for uid, node in manifest["nodes"].items() if node["fqn"][1] == "marts"}

    def kind(uid: str) -> str:
        if uid in published:
            return "publish_marts"
        return "rating_models" if uid.startswith("model.") else "data_tests"

    nodes = [
        (
            kind(r["unique_id"]),
            _epoch(r["timing"][0]["started_at"]),
            _epoch(r["timing"][-1]["completed_at"]),
        )
        for r in results["results"]
        if r["timing"]
    ]
    started = _epoch(results["metadata"]["invocation_started_at"])
    return started, loaded, shares(nodes), whole


def slowest_nodes(settings: Settings, count: int = 6) -> dict[str, float]:
    """The dbt nodes that took longest in the last build: where the SQL time goes."""
    results = json.loads((dbt_target(settings) / "run_results.json").read_text())["results"]
    times = {r["unique_id"].split(".")[2]: r["execution_time"] for r in results}
    return {k: round(v, 2) for k, v in sorted(times.items(), key=lambda kv: -kv[1])[:count]}


def shares(intervals: list[tuple[str, float, float]]) -> dict[str, float]:
    """Wall time of each kind of interval; where several overlap, each has its share."""
    edges = sorted({t for _, begin, end in intervals for t in (begin, end)})
    out: dict[str, float] = {}
    for low, high in zip(edges, edges[1:], strict=False):
        running = [kind for kind, begin, end in intervals if begin <= low and end >= high]
        for kind in running:
            out[kind] = out.get(kind, 0.0) + (high - low) / len(running)
    return out


def stages(settings: Settings, spawned: float, exited: float) -> tuple[dict[str, float], bool]:
    """The run's wall time, from the child's start to its exit, in stages that add up to
    it; and whether dbt parsed the whole project."""
    created, steps, launched = dagster_run(settings)
    dbt_started, dbt_loaded, nodes, whole = dbt_invocation(settings)
    if dbt_loaded is None:
        log("dbt.log has no FoundStats line for the build: its parse is counted in dbt_other")
    ordered = sorted(steps.items(), key=lambda kv: kv[1][0])
    out = {"process_start": created - spawned, "run_start": ordered[0][1][0] - created}
    for key, (begin, end) in ordered:
        if not begin <= dbt_started <= end:
            out[STEPS.get(key, key)] = end - begin
            continue
        launched = launched or begin
        dbt = {
            "dbt_prepare": launched - begin,  # dagster-dbt, before it starts dbt
            "dbt_start": dbt_started - launched,  # dbt's interpreter and imports
            "dbt_parse": (dbt_loaded or dbt_started) - dbt_started,
            **nodes,
        }
        # dbt's connections, its wrap-up, and the step recording dbt's events as it goes
        out |= dbt | {"dbt_other": end - begin - sum(dbt.values())}
    gaps = zip(ordered, ordered[1:], strict=False)
    out["between_steps"] = sum(b[0] - a[1] for (_, a), (_, b) in gaps)
    out["run_end"] = exited - ordered[-1][1][1]
    return out, whole


# --- the floor ----------------------------------------------------------------------------


def floor_query(settings: Settings, business: list[str]) -> tuple[float, pa.Table]:
    """Each account's bytes and records from the landed Parquet, in one bare query: a
    RADIUS session's last counters, the flows to and from a business user's address,
    the CSV rows' sums."""
    raw = settings.raw
    addresses = _mapped(BUSINESS_NET + np.arange(len(business)))
    owners = pa.table(
        {
            "address": pa.array([bytes(a) for a in addresses], pa.binary(16)),
            "account_id": pa.array(business),
        }
    )
    con = duckdb.connect()
    con.register("owners", owners)
    began = time.perf_counter()
    totals = con.sql(
        f"""
        with radius as (
            select split_part(user_name, '@', 1) as account_id,
                max(input_octets + output_octets) as bytes, count(*) as records
            from read_parquet('{raw}/radius/date=*/*.parquet')
            group by user_name, acct_session_id
        ),
        flows as (
            select src_addr, dst_addr, bytes from read_parquet('{raw}/netflow/date=*/*.parquet')
        ),
        netflow as (
            select account_id, bytes, 1 as records
            from flows join owners on flows.dst_addr = owners.address
            union all
            select account_id, bytes, 1 from flows join owners on flows.src_addr = owners.address
        ),
        csv as (
            select account_id, bytes_in + bytes_out as bytes, 1 as records
            from read_parquet('{raw}/upstream_csv/date=*/*.parquet')
        )
        select account_id, sum(bytes) as bytes, sum(records) as records
        from (from radius union all from netflow union all from csv)
        group by account_id
        """
    ).to_arrow_table()
    elapsed = time.perf_counter() - began
    con.close()
    return elapsed, totals


FLOOR_LINES = (
    ("Home access", "69.00"),
    ("Home data", "12.34"),
    ("Subtotal", "81.34"),
    ("Tax 10%", "8.13"),
    ("Total", "89.47"),
)


def floor_pdfs(count: int, folder: Path) -> float:
    """`count` one-page invoices from fpdf2 in a plain loop, each written to a file."""
    folder.mkdir()
    began = time.perf_counter()
    for i in range(count):
        pdf = FPDF()
        pdf.add_page()
        pdf.set_font("helvetica", style="B", size=22)
        pdf.cell(0, 10, "Acme Broadband", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("helvetica", size=10)
        heading = ("Tax invoice", f"ACME-2026-{i:06d}", BILL_DATE, f"p{i:06d} - Person {i}")
        for text in heading:
            pdf.cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
        for what, amount in FLOOR_LINES:
            pdf.cell(120, 6, what)
            pdf.cell(0, 6, amount, align="R", new_x="LMARGIN", new_y="NEXT")
        (folder / f"{i}.pdf").write_bytes(pdf.output())
    return time.perf_counter() - began


# --- one size -----------------------------------------------------------------------------


def check(settings: Settings, totals: pa.Table, records: int) -> None:
    """Fail loudly unless Jet rated every record and byte the bare query counted."""
    con = marts(settings)
    con.register("floor", totals)
    jet, bare = con.execute(
        "select (select (sum(bytes_in + bytes_out), sum(records)) from fct_usage_daily), "
        "(select (sum(bytes), sum(records)) from floor)"
    ).fetchall()[0]
    con.close()
    assert bare[1] == records, f"the bare query counted {bare[1]} records, {records} were landed"
    assert jet == bare, f"Jet rated (bytes, records) {jet}, the bare query {bare}"


def measure(n: int) -> None:
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="jet-bench-cycle-") as tmp:
        settings = Settings(home=Path(tmp) / "home", database_url=None)
        plans, records = set_up(settings, n)
        began, ended, _ = run_bill(settings, PREVIOUS)
        first = ended - began
        log(f"set-up: jet bill for {PREVIOUS}, the home's first run, in {first:.1f} s")
        spawned, exited, peak = run_bill(settings, BILL_DATE)
        seconds = exited - spawned
        parts, whole = stages(settings, spawned, exited)
        slowest = slowest_nodes(settings)
        with session(settings.db_url) as s:
            invoices = s.scalar(
                select(func.count())
                .select_from(Invoice)
                .where(Invoice.bill_date == date.fromisoformat(BILL_DATE))
            )
        query_seconds, totals = floor_query(settings, plans["business"])
        pdf_seconds = floor_pdfs(invoices, Path(tmp) / "floor")
        check(settings, totals, records)
    log(f"jet bill for {BILL_DATE}: {seconds:.1f} s")
    for stage, t in parts.items():
        log(f"  {stage:18s} {t:7.2f} s")
    log(f"floor: bare query {query_seconds:.2f} s, {invoices} PDFs {pdf_seconds:.2f} s")
    report(
        "billing_cycle",
        f"one monthly `jet bill`, {n:,} accounts, {records:,} usage records, {invoices:,} invoices",
        seconds,
        "bare DuckDB per-account totals over the same Parquet + fpdf2 one-page invoices in a loop",
        query_seconds + pdf_seconds,
        stages={stage: round(t, 2) for stage, t in parts.items()},
        floor_query_seconds=round(query_seconds, 3),
        floor_pdf_seconds=round(pdf_seconds, 3),
        accounts=n,
        records=records,
        invoices=invoices,
        dbt_whole_parse=whole,
        slowest_dbt_nodes=slowest,
        bill_peak_memory_mb=peak,
        first_run_seconds=round(first, 1),
        load_average=[round(load, 2), round(os.getloadavg()[0], 2)],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=SIZES[0])
    parser.add_argument("--all", action="store_true", help=f"run {SIZES} accounts in turn")
    args = parser.parse_args()
    os.environ.setdefault("DO_NOT_TRACK", "1")
    for n in SIZES if args.all else (args.accounts,):
        measure(n)


if __name__ == "__main__":
    main()
