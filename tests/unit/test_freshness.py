"""Reading freshness results back (dbt's sources.json, the fct_source_freshness mart) and
the Dagster check's promise to warn, never fail, when it cannot check."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pyarrow.parquet as pq
from dagster import AssetCheckSeverity, build_op_context

import dagster_jet.freshness
from dagster_jet.resources import JetResource
from jet.freshness import latest_freshness
from jet.warehouse import WarehouseError, dbt_target

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
HOURS = {"warn_after": {"count": 6, "period": "hour"}, "error_after": {"count": 1, "period": "day"}}


def _sources_json(settings, results: list[dict]) -> None:
    path = dbt_target(settings) / "sources.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    report = {"metadata": {"generated_at": NOW.isoformat()}, "results": results}
    path.write_text(json.dumps(report))


def _mart(settings, rows: list[dict]) -> None:
    schema = pa.schema(
        [
            ("source", pa.string()),
            ("sender", pa.string()),
            ("sender_name", pa.string()),
            ("last_landed_at", pa.timestamp("us", tz="UTC")),
            ("checked_at", pa.timestamp("us", tz="UTC")),
            ("silent_seconds", pa.int64()),
            ("warn_after_seconds", pa.int32()),
            ("error_after_seconds", pa.int32()),
            ("status", pa.string()),
        ]
    )
    path = settings.marts / "fct_source_freshness.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema), path)


def test_latest_freshness_reads_sources_then_their_senders_quietest_first(settings):
    _sources_json(
        settings,
        [
            {
                "unique_id": "source.jet.raw.netflow",
                "status": "runtime error",
                "error": "IO Error: corrupt footer",
            },
            {
                "unique_id": "source.jet.raw.radius",
                "status": "pass",
                "max_loaded_at": (NOW - timedelta(minutes=5)).isoformat(),
                "snapshotted_at": NOW.isoformat(),
                "criteria": {**HOURS, "filter": None},
            },
        ],
    )
    sender = {"source": "radius", "sender_name": None, "checked_at": NOW, "silent_seconds": 0}
    limits = {"warn_after_seconds": 6 * 3600, "error_after_seconds": 24 * 3600}
    _mart(
        settings,
        [
            {**sender, **limits, "sender": "10.0.0.2", "last_landed_at": NOW, "status": "pass"},
            {
                **sender,
                **limits,
                "sender": "10.0.0.1",
                "sender_name": "nas-a",
                "last_landed_at": NOW - timedelta(hours=7, minutes=30),
                "status": "warn",
            },
        ],
    )

    assert [f.describe() for f in latest_freshness(settings)] == [
        "radius: pass, last landed 5 min ago, at 2026-03-01 11:55 UTC "
        "(warns after 6 h, errors after 1 d)",
        "radius NAS 10.0.0.1 (nas-a): warn, last landed 7 h 30 min ago, at 2026-03-01 04:30 UTC "
        "(warns after 6 h, errors after 1 d)",
        "radius NAS 10.0.0.2: pass, last landed 0 s ago, at 2026-03-01 12:00 UTC "
        "(warns after 6 h, errors after 1 d)",
        "netflow: freshness could not be checked: IO Error: corrupt footer",
    ]
    assert [f.ok for f in latest_freshness(settings)] == [True, False, True, False]


def test_nothing_checked_yet_is_no_result(settings):
    assert latest_freshness(settings) == []


def test_a_check_that_cannot_run_warns_instead_of_failing(settings, monkeypatch):
    def locked(*_args):
        raise WarehouseError("dbt source freshness failed: Could not set lock on file")

    monkeypatch.setattr(dagster_jet.freshness, "check_freshness", locked)
    check = dagster_jet.freshness.raw_sources_delivering
    results = list(check(build_op_context(), jet=JetResource(home=str(settings.root))))

    assert [r.check_name for r in results] == [
        "radius_delivering",
        "netflow_delivering",
        "upstream_csv_delivering",
    ]
    assert all(not r.passed and r.severity == AssetCheckSeverity.WARN for r in results)
    assert "Could not set lock on file" in results[0].description
