"""Landing throughput: ingest.landing.land() against a bare pyarrow Parquet write of the
same rows (the price of partitioning, fsync, rename and the manifest)."""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import report  # noqa: E402
from ingest.landing import land  # noqa: E402
from schemas.raw import RADIUS  # noqa: E402

ROWS = 2_000_000


def radius_table(rows: int) -> pa.Table:
    rng = np.random.default_rng(1)
    start = np.datetime64("2026-10-01T00:00:00", "us").astype(np.int64)
    ts = start + rng.integers(0, 7 * 86_400_000_000, rows)
    table = pa.table(
        {
            "event_time": pa.array(ts, pa.timestamp("us", tz="UTC")),
            "status_type": pa.array(rng.choice(["Start", "Interim-Update", "Stop"], rows)),
            "user_name": pa.array([f"acme-{i:05d}@acme" for i in rng.integers(0, 50_000, rows)]),
            "acct_session_id": pa.array(rng.integers(0, 10**9, rows).astype(str)),
            "nas_ip": pa.array(rng.integers(0, 2**32, rows, dtype=np.uint32)),
            "nas_identifier": pa.array(["bras-1"] * rows),
            "framed_ip": pa.array(rng.integers(0, 2**32, rows, dtype=np.uint32)),
            "input_octets": pa.array(rng.integers(0, 2**40, rows, dtype=np.uint64)),
            "output_octets": pa.array(rng.integers(0, 2**40, rows, dtype=np.uint64)),
            "session_time": pa.array(rng.integers(0, 86_400, rows, dtype=np.uint32)),
        }
    )
    for field in RADIUS:  # the columns billing does not read: null
        if field.name not in table.column_names:
            table = table.append_column(field, pa.nulls(rows, field.type))
    return table


def main() -> None:
    table = radius_table(ROWS)
    with tempfile.TemporaryDirectory() as tmp:
        began = time.perf_counter()
        pq.write_table(table, Path(tmp) / "bare.parquet", compression="zstd")
        bare = time.perf_counter() - began
        began = time.perf_counter()
        result = land("radius", table, "bench-1", Path(tmp) / "raw")
        landed = time.perf_counter() - began
    report(
        "landing",
        f"{ROWS:,} RADIUS rows over 7 days",
        landed,
        "pyarrow write_table, one file, zstd",
        bare,
        rows_per_second=round(result.rows / landed),
        files=len(result.files),
    )


if __name__ == "__main__":
    main()
