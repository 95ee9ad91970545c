"""The quality gate's parts without Dagster or Great Expectations: which bill dates a
usage day can be billed at, the contracts' SQL over a lake holding broken files, what
the gate holds from recorded findings and waivers (SQLite via Alembic), their withdrawal
and its migration, and which validation results retention removes."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.exc import IntegrityError

from ingest.landing import land
from jet.drivers.simulate import load_scenario
from jet.quality.frames import _MACROS, Frames, Hold, month_before
from jet.quality.gate import Gate, QualityError, unwaive, waive, waivers
from jet.quality.report import status
from jet.quality.results import Finding, latest, record
from jet.quality.retention import RetentionError, expired, prune
from jet.snapshot import write_snapshot
from jet.store.db import alembic_config, engine, session
from schemas.contracts import UPSTREAM_CSV
from schemas.raw import UPSTREAM_CSV as UPSTREAM_SCHEMA
from schemas.raw import landed_schema

SCENARIO = Path(__file__).parents[2] / "examples" / "scenarios" / "01-flat-monthly-prorata.yaml"


def _boundaries(anchor: int, year: int) -> list[date]:
    """Cycle boundaries of an anchor day, clamped to short months (billing-rules.md)."""
    found = []
    for month in range(1, 13):
        day = min(anchor, (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day)
        found.append(date(year, month, day))
    return found


def test_a_usage_day_holds_every_bill_date_that_can_bill_it():
    con = duckdb.connect()
    con.execute(_MACROS)
    days = [date(2027, 1, 1) + timedelta(days=n) for n in range(2 * 365)]
    until = dict(
        con.execute(
            "select d, holds_until(d) from unnest($days) as t(d)", {"days": days}
        ).fetchall()
    )
    assert until[date(2027, 1, 15)] == date(2027, 2, 15)
    assert until[date(2027, 1, 31)] == date(2027, 2, 28)
    assert until[date(2027, 2, 28)] == date(2027, 3, 31)  # anchor 31: [Feb 28, Mar 31)
    for anchor in range(1, 32):
        bounds = _boundaries(anchor, 2027) + _boundaries(anchor, 2028)[:2]
        for a, b in zip(bounds, bounds[1:], strict=False):
            for n in range((b - a).days):
                day = a + timedelta(days=n)
                assert day < b <= until[day], (anchor, day, b)
                assert month_before(b) <= a  # the run billing b reads day's partition


def _broken(raw: Path, rows: list[dict], folder: str, name: str) -> None:
    """A file of upstream_csv rows in `folder`, with `seconds` as a signed column."""
    schema = landed_schema("upstream_csv")
    schema = schema.set(schema.get_field_index("seconds"), pa.field("seconds", pa.int64()))
    table = pa.table({f.name: pa.array([r.get(f.name) for r in rows], f.type) for f in schema})
    path = raw / "upstream_csv" / folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)


def test_the_contracts_find_broken_rows_and_the_bill_dates_they_touch(settings):
    load_scenario(SCENARIO, settings)
    with session(settings.db_url) as s:
        write_snapshot(s, settings.ops_snapshot)
    ts = datetime(2026, 1, 20, 10, tzinfo=UTC)
    good = {"account_id": "alice", "ts": ts, "bytes_in": 1, "bytes_out": 1, "seconds": 1}
    land("upstream_csv", pa.Table.from_pylist([good], UPSTREAM_SCHEMA), "good", settings.raw)
    landed = {"_batch_id": "b", "_landed_at": ts, "source_file": "f.csv", "bytes_in": 1}
    _broken(
        settings.raw,
        [
            landed | {"account_id": "alice", "ts": ts, "seconds": -3, "source_line": 1},
            landed | {"account_id": "eve", "ts": ts + timedelta(days=2), "source_line": 2},
        ],
        "date=2026-01-20",
        "b.parquet",
    )
    copy = landed | {"account_id": "alice", "ts": ts, "source_line": 1}  # batch b's line 1
    _broken(settings.raw, [copy], "copied", "b.parquet")
    frames = Frames(settings, date(2026, 2, 1), date(2026, 2, 1), [])
    table = frames.read(UPSTREAM_CSV)
    assert table.num_rows == 4
    checks = {c.name: c for c in UPSTREAM_CSV.checks}

    def failing(name):
        return frames.failing(checks[name], UPSTREAM_CSV.sample)

    count, sample, _ = failing("columns")
    assert (
        count == 3 and sample[0]["_schema_mismatch"] == "seconds is INT64, landing writes UINT_64"
    )
    count, sample, holds = failing("seconds_not_negative")
    assert (count, sample[0]["seconds"]) == (1, "-3")
    assert holds == [Hold("demo", date(2026, 1, 21), date(2026, 2, 20))]
    count, sample, holds = failing("ts_in_partition")  # eve's row, and the one in no date=
    assert count == 2 and {r["_file"] for r in sample} == {
        "date=2026-01-20/b.parquet",
        "copied/b.parquet",
    }
    count, sample, holds = failing("known_account")
    assert (count, sample[0]["_unknown_account"]) == (1, "eve")
    assert holds == [Hold(None, date(2026, 1, 21), date(2026, 2, 22))]  # eve's day is the 22nd
    count, _, _ = failing("lines_landed_once")
    assert count == 2


def test_a_run_bills_the_days_of_its_arrears_windows_and_recently_written_ones(settings):
    load_scenario(SCENARIO, settings)
    with session(settings.db_url) as s:
        write_snapshot(s, settings.ops_snapshot)
    rows = pa.table({"event_time": [datetime(2025, 6, 1, tzinfo=UTC)]})
    for day in ("2025-06-01", "2026-01-01", "2026-02-01"):
        folder = settings.raw / "radius" / f"date={day}"
        folder.mkdir(parents=True)
        pq.write_table(rows, folder / "x.parquet")
    old = datetime(2025, 7, 1, tzinfo=UTC).timestamp()
    for day in ("2025-06-01", "2026-01-01", "2026-02-01"):
        os.utime(settings.raw / "radius" / f"date={day}", (old, old))
    frames = Frames(settings, date(2026, 2, 1), date(2026, 2, 1), [])
    assert [p.parent.name for p in frames._billed_files("radius")] == ["date=2026-01-01"]
    os.utime(settings.raw / "radius" / "date=2025-06-01")  # written into today: late usage
    assert [p.parent.name for p in frames._billed_files("radius")] == [
        "date=2025-06-01",
        "date=2026-01-01",
    ]


def _record(settings, first: date, last: date, failing: list[tuple[str, list[Hold], bool]]):
    """A run over [first, last]: one passing check and the `failing` ones."""
    checks = [("raw_radius.columns", [], True), *failing]
    findings = [
        Finding(
            check=check,
            blocking=blocking,
            rows_checked=10,
            rows_failing=1 if holds else 0,
            sample=[{"account_id": "x"}] if holds else [],
            holds=holds,
            error=None,
            checked_at=datetime.now(UTC),
            first_bill_date=first,
            last_bill_date=last,
        )
        for check, holds, blocking in checks
    ]
    with session(settings.db_url) as s:
        record(s, findings)


def _checks(findings: list[Finding]) -> list[str]:
    return [f.check for f in findings]


FEB, MAR = date(2026, 2, 1), date(2026, 3, 1)


def test_the_gate_holds_the_realms_and_dates_of_the_newest_run_over_them(settings):
    _record(
        settings,
        FEB,
        MAR,
        [
            ("raw_radius.known_account", [Hold(None, MAR, MAR)], True),
            ("raw_radius.input_octets_not_negative", [Hold("acme", FEB, FEB)], True),
            ("raw_radius.realm_of_account", [Hold("sky", FEB, MAR)], False),  # a warning
        ],
    )
    with session(settings.db_url) as s:
        holding = Gate(s, FEB, MAR).holding
        assert _checks(holding("acme", FEB)) == ["raw_radius.input_octets_not_negative"]
        assert holding("sky", FEB) == []
        assert _checks(holding("sky", MAR)) == ["raw_radius.known_account"]

    _record(settings, FEB, FEB, [])  # Feb 1 checked again, and passed; Mar 1 obeys the older run
    with session(settings.db_url) as s:
        assert Gate(s, FEB, MAR).holding("acme", FEB) == []
        assert _checks(Gate(s, FEB, MAR).holding("acme", MAR)) == ["raw_radius.known_account"]

    _record(settings, date(2026, 1, 1), date(2026, 12, 31), [])  # covers both: they go
    with session(settings.db_url) as s:
        assert Gate(s, FEB, MAR).holding("acme", MAR) == []
        assert _checks(latest(s)) == ["raw_radius.columns"]


def test_a_waiver_lets_one_check_pass_at_one_date(settings):
    today = datetime.now(UTC).date()
    first = today - timedelta(days=3)
    _record(
        settings,
        first,
        today,
        [
            ("raw_radius.known_account", [Hold(None, first, today + timedelta(days=9))], True),
            ("raw_radius.columns", [Hold("acme", first, today)], True),
        ],
    )
    with session(settings.db_url) as s:
        new, existing = waive(s, "raw_radius.known_account", "test users", "ops")
    assert new == [first + timedelta(days=n) for n in range(4)] and existing == []
    with session(settings.db_url) as s:
        new, existing = waive(s, "raw_radius.known_account", "again", "ops", today)
        assert new == [] and existing[0].reason == "test users"
        holding = Gate(s, first, today).holding
        assert _checks(holding("acme", today)) == ["raw_radius.columns"]
        assert holding("sky", today) == []

    with session(settings.db_url) as s, pytest.raises(QualityError, match="no check"):
        waive(s, "raw_radius.nope", "x", "ops")
    with session(settings.db_url) as s, pytest.raises(QualityError, match="is a warning"):
        waive(s, "raw_radius.status_type_known", "x", "ops")
    with session(settings.db_url) as s, pytest.raises(QualityError, match="holds no bill date"):
        waive(s, "fct_invoice_drafts.not_invoiced_already", "x", "ops")


def test_a_withdrawn_waiver_holds_again_and_stays_on_record(settings):
    check, today = "raw_radius.known_account", datetime.now(UTC).date()
    _record(settings, today, today, [(check, [Hold(None, today, today)], True)])
    with session(settings.db_url) as s:
        waive(s, check, "test users", "ops", today)
    with session(settings.db_url) as s:
        assert Gate(s, today, today).holding("acme", today) == []
        with pytest.raises(QualityError, match="needs a reason"):
            unwaive(s, check, " ", "ops")
        withdrawn = unwaive(s, check, "they were real", "audit")
        assert [w.bill_date for w in withdrawn] == [today]
    with session(settings.db_url) as s:
        assert _checks(Gate(s, today, today).holding("acme", today)) == [check]
        with pytest.raises(QualityError) as err:
            unwaive(s, check, "again", "audit", today)
        assert f"has no active waiver at {today} (its waiver of {today} was withdrawn by audit" in (
            str(err.value)
        )
        assert "no check has an active waiver: there is nothing to withdraw" in str(err.value)
        new, existing = waive(s, check, "checked: test users after all", "ops", today)
        assert new == [today] and existing == []  # a withdrawn waiver leaves room for a new one
    with session(settings.db_url) as s:
        with pytest.raises(QualityError) as err:
            unwaive(s, "raw_radius.nope", "x", "audit")
        assert "there is no check 'raw_radius.nope'" in str(err.value)
        assert "The active waivers, which `jet quality unwaive CHECK --date D" in str(err.value)
        assert f"  {check} {today} (by ops: checked: test users after all)" in str(err.value)
        history = waivers(s)
        shown = status(latest(s), history, Path("docs"))
    assert [(w.reason, w.withdrawn_by, w.withdrawal_reason) for w in history] == [
        ("test users", "audit", "they were real"),
        ("checked: test users after all", None, None),
    ]
    assert f"{check} {today}: by ops on " in shown
    assert "test users; WITHDRAWN by audit on " in shown and ": they were real" in shown
    assert f"(waived at {today})" in shown


def test_waivers_of_0007_stay_active_after_0008(settings):
    cfg = alembic_config(settings.db_url)
    command.upgrade(cfg, "0007")
    waiver = {"c": "raw_radius.columns", "d": FEB, "at": datetime.now(UTC)}
    insert = sa.text(
        'insert into quality_waivers ("check", bill_date, reason, waived_by, waived_at) '
        "values (:c, :d, 'r', 'ops', :at)"
    )
    with engine(settings.db_url).begin() as conn:
        conn.execute(insert, waiver)
    command.upgrade(cfg, "0008")
    with session(settings.db_url) as s:
        (kept,) = waivers(s)
        assert (kept.check, kept.bill_date, kept.active) == ("raw_radius.columns", FEB, True)
    with pytest.raises(IntegrityError), engine(settings.db_url).begin() as conn:
        conn.execute(insert, waiver)  # one active waiver per check and date
    with session(settings.db_url) as s:
        unwaive(s, "raw_radius.columns", "wrong date", "ops", FEB)
    with engine(settings.db_url).begin() as conn:
        conn.execute(insert, waiver)
    command.downgrade(cfg, "0007")  # keeps the active waivers, drops the withdrawn
    with engine(settings.db_url).connect() as conn:
        assert conn.execute(sa.text("select count(*) from quality_waivers")).scalar() == 1


def test_retention_keeps_the_window_and_each_checks_latest_result():
    now = datetime(2026, 6, 1, tzinfo=UTC)
    cutoff = now - timedelta(days=90)
    checks = {
        "new": {"a.x", "a.y"},  # the suite's newest: read, kept
        "inside": {"a.x", "a.y", "a.retired"},  # in the window, not read
        "retired": {"a.x", "a.retired"},  # old; no newer result read holds a.retired: kept
        "retired-before": {"a.retired"},
        "old": {"a.x"},
        "b-only": {"b.x"},  # a suite's only result: kept however old
    }
    days = {"new": 1, "inside": 89, "retired": 91, "retired-before": 200, "old": 95}
    results = [("a", now - timedelta(days=d), key) for key, d in days.items()]
    results.append(("b", now - timedelta(days=400), "b-only"))
    read = []

    def reading(key):
        read.append(key)
        return checks[key]

    assert sorted(expired(results, reading, cutoff)) == ["old", "retired-before"]
    assert "inside" not in read


def test_retention_prunes_nothing_outside_the_quality_folder(tmp_path):
    quality = tmp_path / "quality"
    for folder in (tmp_path / "elsewhere", quality / ".." / "elsewhere"):
        backend = SimpleNamespace(full_base_directory=str(folder))
        context = SimpleNamespace(validation_results_store=SimpleNamespace(store_backend=backend))
        with pytest.raises(RetentionError, match="not under .*nothing was pruned"):
            prune(context, quality, 90)
