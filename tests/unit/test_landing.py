"""The landing lake's promises: date partitions, a manifest as the acknowledgement,
idempotent replays, clear schema errors, and nothing half-landed after a SIGKILL."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from ingest.landing import (
    LandingError,
    LandingResult,
    content_batch_id,
    land,
    landed_batches,
    recover,
)
from schemas.raw import RADIUS, landed_schema

DAY_US = 86_400_000_000
START = datetime(2024, 1, 1, tzinfo=UTC)
PROJECT = Path(__file__).resolve().parents[2]


def make_radius(n: int, days: int = 3, seed: int = 0, start: datetime = START) -> pa.Table:
    """Deterministic RADIUS rows spread over ``days`` UTC days, in shuffled time order
    (the columns billing reads; the rest null)."""
    rng = np.random.default_rng(seed)
    t0 = int(start.timestamp()) * 1_000_000
    ts = t0 + rng.integers(0, days * DAY_US, n)
    users = np.array([f"u{i}@isp.example" for i in range(100)])
    received = {
        "event_time": pa.array(ts, pa.timestamp("us", tz="UTC")),
        "status_type": pa.array(
            np.array(["Start", "Interim-Update", "Stop"])[rng.integers(0, 3, n)]
        ),
        "user_name": pa.array(users[rng.integers(0, 100, n)]),
        "acct_session_id": pa.array(np.char.add("s", rng.integers(0, 10**6, n).astype(str))),
        "nas_ip": pa.array(rng.integers(0, 2**32, n, dtype=np.uint32)),
        "nas_identifier": pa.array(np.full(n, "nas-1")),
        "framed_ip": pa.array(rng.integers(0, 2**32, n, dtype=np.uint32)),
        "input_octets": pa.array(rng.integers(0, 2**40, n, dtype=np.uint64)),
        "output_octets": pa.array(rng.integers(0, 2**40, n, dtype=np.uint64)),
        "session_time": pa.array(rng.integers(0, 86_400, n, dtype=np.uint32)),
    }
    return pa.table(
        {f.name: received.get(f.name, pa.nulls(n, f.type)) for f in RADIUS}, schema=RADIUS
    )


def read_glob(raw: Path, source: str = "radius") -> pa.Table:
    """What dbt sees: every ``date=*/*.parquet`` of the source, hive-partitioned."""
    return duckdb.sql(
        f"select * from read_parquet('{raw}/{source}/date=*/*.parquet', hive_partitioning=true)"
    ).to_arrow_table()


def visible_files(raw: Path, source: str = "radius") -> set[str]:
    return {p.relative_to(raw / source).as_posix() for p in raw.glob(f"{source}/date=*/*.parquet")}


def manifest_files(raw: Path, source: str = "radius") -> set[str]:
    return {
        entry["path"]
        for m in (raw / source / "_manifests").glob("*.json")
        for entry in json.loads(m.read_text())["files"]
    }


def all_files(raw: Path) -> list[Path]:
    return sorted(p for p in raw.rglob("*") if p.is_file() and p.name != "_landing.lock")


def test_batch_lands_in_utc_date_partitions_with_a_checksummed_manifest(tmp_path: Path) -> None:
    table = make_radius(5_000, days=3)
    result = land("radius", table, "b1", tmp_path)

    assert result == LandingResult("b1", 5_000, result.files, False)
    assert [p.relative_to(tmp_path).as_posix() for p in result.files] == [
        f"radius/date=2024-01-0{d}/b1.parquet" for d in (1, 2, 3)
    ]
    manifest = json.loads((tmp_path / "radius/_manifests/b1.json").read_text())
    assert manifest["batch_id"] == "b1" and manifest["source"] == "radius"
    assert manifest["rows"] == 5_000
    landed_at = datetime.fromisoformat(manifest["landed_at"])
    assert landed_at.tzinfo is not None

    days = pc.floor_temporal(table["event_time"], unit="day")
    for entry, path in zip(manifest["files"], result.files, strict=True):
        assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"]
        assert path.stat().st_size == entry["bytes"]
        part = pq.read_table(path)
        assert part.schema.equals(landed_schema("radius"))
        assert part.num_rows == entry["rows"]
        day = datetime.fromisoformat(path.parent.name.removeprefix("date=")).replace(tzinfo=UTC)
        expected = table.filter(pc.equal(days, pa.scalar(day, days.type)))
        assert part.num_rows == expected.num_rows
        # every row sits in its own UTC day, in arrival order, stamped with the batch
        assert part.select(RADIUS.names).equals(expected)
        assert part["_batch_id"].unique().to_pylist() == ["b1"]
        assert part["_landed_at"].unique().to_pylist() == [landed_at]
    assert landed_batches("radius", tmp_path) == {"b1"}
    assert not list((tmp_path / "radius/_tmp").iterdir())


def test_partition_is_the_utc_date_whatever_the_input_zone(tmp_path: Path) -> None:
    plus2 = timezone(timedelta(hours=2))
    edge = [
        datetime(2024, 3, 1, 1, 30, tzinfo=plus2),  # 2024-02-29 23:30 UTC
        datetime(2024, 2, 29, 23, 59, 59, 999_999, tzinfo=UTC),
        datetime(2024, 3, 1, 0, 0, tzinfo=UTC),
        datetime(1969, 12, 31, 23, 0, tzinfo=UTC),  # floor, not truncation, before the epoch
    ]
    table = make_radius(len(edge)).set_column(
        0, "event_time", pa.array(edge, pa.timestamp("us", tz=plus2))
    )
    result = land("radius", table, "edges", tmp_path)
    rows = {p.parent.name: pq.read_table(p).num_rows for p in result.files}
    assert rows == {"date=1969-12-31": 1, "date=2024-02-29": 2, "date=2024-03-01": 1}


def test_landing_twice_lands_once(tmp_path: Path) -> None:
    table = make_radius(2_000, days=2)
    first = land("radius", table, "replayed", tmp_path)
    before = {p: p.stat().st_mtime_ns for p in all_files(tmp_path)}

    again = land("radius", table, "replayed", tmp_path)

    assert again.already_landed and not first.already_landed
    assert (again.rows, again.files) == (first.rows, first.files)
    assert {p: p.stat().st_mtime_ns for p in all_files(tmp_path)} == before
    assert len(visible_files(tmp_path)) == 2
    assert read_glob(tmp_path).num_rows == 2_000


def test_record_batches_and_lists_of_dicts_land_too(tmp_path: Path) -> None:
    table = make_radius(10, days=1)
    assert land("radius", table.to_batches()[0], "rb", tmp_path).rows == 10
    # plain Python values are cast to the contract: naive datetimes are UTC, ints range-checked
    rows = [
        {**row, "event_time": row["event_time"].replace(tzinfo=None)} for row in table.to_pylist()
    ]
    assert land("radius", rows, "dicts", tmp_path).rows == 10
    got = pq.read_table(tmp_path / "radius/date=2024-01-01/dicts.parquet")
    assert got.select(RADIUS.names).equals(table)  # one day: arrival order kept


def test_an_empty_batch_is_acknowledged_without_files(tmp_path: Path) -> None:
    assert land("radius", [], "empty", tmp_path) == LandingResult("empty", 0, [], False)
    assert land("radius", RADIUS.empty_table(), "empty", tmp_path).already_landed
    assert landed_batches("radius", tmp_path) == {"empty"}
    assert visible_files(tmp_path) == set()


@pytest.mark.parametrize(
    ("change", "needles"),
    [
        (lambda t: t.drop_columns(["nas_ip"]), ["radius", "'nas_ip'", "uint32", "missing"]),
        (
            lambda t: t.set_column(4, "nas_ip", pa.array(["10.0.0.1"] * t.num_rows)),
            ["radius", "'nas_ip'", "uint32", "got string"],
        ),
        (
            lambda t: t.set_column(7, "input_octets", pa.array([-1] * t.num_rows)),
            ["radius", "'input_octets'", "uint64", "not in range"],
        ),
        (  # epoch numbers have no unit: refuse rather than guess seconds or micros
            lambda t: t.set_column(0, "event_time", pa.array([1_700_000_000] * t.num_rows)),
            ["radius", "'event_time'", "timestamp[us, tz=UTC]", "got int64"],
        ),
        (
            lambda t: t.set_column(2, "user_name", pa.array([42] * t.num_rows)),
            ["radius", "'user_name'", "string", "got int64"],
        ),
        (
            lambda t: t.append_column("_batch_id", pa.array(["x"] * t.num_rows)),
            ["radius", "unexpected column", "_batch_id"],
        ),
        (
            lambda t: t.set_column(
                0, "event_time", pa.nulls(t.num_rows, pa.timestamp("us", tz="UTC"))
            ),
            ["radius", "'event_time'", "no"],
        ),
    ],
    ids=["missing", "mistyped", "out-of-range", "epoch-int", "int-as-name", "extra", "null-ts"],
)
def test_schema_errors_name_the_column_and_write_nothing(
    tmp_path: Path, change, needles: list[str]
) -> None:
    with pytest.raises(LandingError) as err:
        land("radius", change(make_radius(20)), "bad", tmp_path)
    assert isinstance(err.value, ValueError)
    for needle in needles:
        assert needle in str(err.value)
    assert list(tmp_path.iterdir()) == []
    assert landed_batches("radius", tmp_path) == set()


@pytest.mark.parametrize("batch_id", ["", "../escape", "a/b", ".hidden", "sp ace", "x" * 201])
def test_unsafe_batch_ids_are_refused(tmp_path: Path, batch_id: str) -> None:
    with pytest.raises(LandingError, match="safe file name"):
        land("radius", make_radius(3), batch_id, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_unknown_source_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LandingError, match="unknown source 'radios'"):
        land("radios", make_radius(3), "b", tmp_path)


def test_content_batch_id_is_stable_and_safe() -> None:
    a = content_batch_id("radius-nas1-", b"payload")
    assert a == content_batch_id("radius-nas1-", b"payload")
    assert a.startswith("radius-nas1-") and len(a) == len("radius-nas1-") + 16
    assert a != content_batch_id("radius-nas1-", b"payload2")
    with pytest.raises(LandingError):
        content_batch_id("../", b"x")


def test_relanding_after_a_crash_before_the_manifest_replaces_the_files(tmp_path: Path) -> None:
    # A first attempt wrote days 1-3, then died before acknowledging.
    land("radius", make_radius(900, days=3, seed=1), "again", tmp_path)
    (tmp_path / "radius/_manifests/again.json").unlink()
    stale_tmp = tmp_path / "radius/_tmp/again.deadbeef.tmp"
    stale_tmp.write_bytes(b"PAR1 half a file")
    # The retry carries only days 1-2 (the sender re-read its spool differently).
    table = make_radius(600, days=2, seed=2)

    result = land("radius", table, "again", tmp_path)

    assert not result.already_landed and result.rows == 600
    assert (
        visible_files(tmp_path)
        == manifest_files(tmp_path)
        == {
            "date=2024-01-01/again.parquet",
            "date=2024-01-02/again.parquet",
        }
    )
    assert read_glob(tmp_path).num_rows == 600
    assert not stale_tmp.exists()


def test_recover_removes_tmp_and_unacknowledged_files_only(tmp_path: Path) -> None:
    kept = land("radius", make_radius(300, days=2, seed=1), "kept", tmp_path)
    orphan = land("radius", make_radius(300, days=4, seed=2), "orphan", tmp_path)
    (tmp_path / "radius/_manifests/orphan.json").unlink()
    leftover = tmp_path / "radius/_tmp/kept.0123.tmp"
    leftover.write_bytes(b"partial")

    removed = recover(tmp_path)

    assert set(removed) == {leftover, *orphan.files}
    assert visible_files(tmp_path) == manifest_files(tmp_path)
    assert sorted(tmp_path.glob("radius/date=*/*.parquet")) == sorted(kept.files)
    assert not (tmp_path / "radius/date=2024-01-04").exists()  # emptied day dirs go too
    assert read_glob(tmp_path).num_rows == 300
    assert recover(tmp_path) == []


def test_duckdb_reads_the_landed_lake_with_hive_partitions(tmp_path: Path) -> None:
    a = make_radius(1_000, days=3, seed=1)
    b = make_radius(500, days=2, seed=2, start=START + timedelta(days=2))
    land("radius", a, "a", tmp_path)
    land("radius", b, "b", tmp_path)
    con = duckdb.connect()
    glob = f"{tmp_path}/radius/date=*/*.parquet"
    rows = con.execute(
        f"""
        select date, _batch_id, count(*) as n,
               sum(input_octets)::hugeint as octets,
               bool_and(date = date '1970-01-01'
                        + (epoch_us(event_time) // {DAY_US})::integer) as in_its_day
        from read_parquet('{glob}', hive_partitioning = true)
        group by all order by all
        """
    ).fetchall()
    assert sum(n for _, _, n, _, _ in rows) == 1_500
    assert all(ok for *_, ok in rows)
    assert {(str(d), batch) for d, batch, *_ in rows} == {
        ("2024-01-01", "a"),
        ("2024-01-02", "a"),
        ("2024-01-03", "a"),
        ("2024-01-03", "b"),
        ("2024-01-04", "b"),
    }
    total = sum(o for *_, o, _ in rows)
    assert total == pc.sum(a["input_octets"]).as_py() + pc.sum(b["input_octets"]).as_py()


def test_a_million_rows_land_in_seconds(tmp_path: Path) -> None:
    table = make_radius(1_000_000, days=7)
    started = time.perf_counter()
    result = land("radius", table, "big", tmp_path)
    elapsed = time.perf_counter() - started
    assert result.rows == 1_000_000 and len(result.files) == 7
    assert elapsed < 5, f"landing 1M rows took {elapsed:.2f}s"


# --- interruption -----------------------------------------------------------------------

CHILD_PRELUDE = """
import os, sys, time
from pathlib import Path
sys.path.insert(0, {tests!r})
from test_landing import make_radius
from ingest import landing
raw = Path({raw!r})
landing.land("radius", make_radius(1_000, days=2, seed=1), "first", raw)
print("acked", flush=True)
"""

BIG_DAYS = 300


def big_batch() -> pa.Table:
    return make_radius(BIG_DAYS * 200, days=BIG_DAYS, seed=7)


def spawn(raw: Path, body: str) -> subprocess.Popen[str]:
    code = CHILD_PRELUDE.format(tests=str(Path(__file__).parent), raw=str(raw))
    code += textwrap.dedent(body)
    proc = subprocess.Popen(
        [sys.executable, "-c", code], cwd=PROJECT, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline() == "acked\n"
    return proc


def assert_first_batch_intact_and_nothing_unacknowledged(raw: Path) -> None:
    assert visible_files(raw) == manifest_files(raw)
    assert not list((raw / "radius/_tmp").iterdir())
    manifest = json.loads((raw / "radius/_manifests/first.json").read_text())
    for entry in manifest["files"]:
        data = (raw / "radius" / entry["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
    seen = read_glob(raw)
    first = seen.filter(pc.equal(pc.field("_batch_id"), "first"))
    assert first.num_rows == manifest["rows"] == 1_000
    assert set(seen["_batch_id"].unique().to_pylist()) == landed_batches("radius", raw)


def reland_big_once(raw: Path) -> None:
    result = land("radius", big_batch(), "big", raw)
    assert not result.already_landed and result.rows == BIG_DAYS * 200
    assert len(result.files) == BIG_DAYS
    assert land("radius", big_batch(), "big", raw).already_landed
    assert visible_files(raw) == manifest_files(raw)
    assert read_glob(raw).num_rows == 1_000 + BIG_DAYS * 200
    assert landed_batches("radius", raw) == {"first", "big"}


def test_sigkill_between_partitions_leaves_nothing_after_recover(tmp_path: Path) -> None:
    """Deterministic: the child stops (inside its own patched os.rename) with one day of
    the big batch renamed into place and the other days' files and the manifest fsynced in
    _tmp/, then dies."""
    proc = spawn(
        tmp_path,
        """
        real_rename, renames = os.rename, []
        def paused_rename(src, dst):
            if str(dst).endswith("/big.parquet"):
                renames.append(dst)
                if len(renames) == 2:
                    print("paused", flush=True)
                    time.sleep(600)
            real_rename(src, dst)
        os.rename = paused_rename
        landing.land("radius", make_radius(60_000, days=300, seed=7), "big", raw)
        print("finished", flush=True)
        """,
    )
    try:
        assert proc.stdout.readline() == "paused\n"
    finally:
        proc.kill()  # SIGKILL: no finally blocks, no atexit in the child
        proc.wait()

    # The crash is real: a whole but unacknowledged day is visible to readers, tmps linger.
    assert visible_files(tmp_path) - manifest_files(tmp_path) == {"date=2024-01-01/big.parquet"}
    tmps = [p.name.split(".")[0] for p in (tmp_path / "radius/_tmp").iterdir()]
    assert set(tmps) == {"big"} and len(tmps) == BIG_DAYS  # the other 299 days, the manifest
    assert landed_batches("radius", tmp_path) == {"first"}

    removed = recover(tmp_path)  # the kernel dropped the dead child's lock: no wait here

    assert len(removed) == 1 + BIG_DAYS
    assert_first_batch_intact_and_nothing_unacknowledged(tmp_path)
    reland_big_once(tmp_path)


def test_sigkill_at_a_polled_moment_leaves_nothing_after_recover(tmp_path: Path) -> None:
    """Unpatched code, killed as soon as the big batch's first tmp file shows up
    (possibly mid-write)."""
    proc = spawn(
        tmp_path,
        """
        landing.land("radius", make_radius(60_000, days=300, seed=7), "big", raw)
        print("finished", flush=True)
        """,
    )
    tmp_dir = tmp_path / "radius/_tmp"
    try:
        deadline = time.monotonic() + 60
        while not any(p.name.startswith("big.") for p in tmp_dir.iterdir()):
            assert proc.poll() is None, "the child finished before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.0005)
    finally:
        proc.kill()
        proc.wait()
    assert "big" not in landed_batches("radius", tmp_path)

    recover(tmp_path)

    assert_first_batch_intact_and_nothing_unacknowledged(tmp_path)
    reland_big_once(tmp_path)
