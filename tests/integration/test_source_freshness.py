"""Freshness end to end: batches landed through ingest.landing, the billing and rating jobs
in process, `dbt source freshness` and fct_source_freshness against DuckDB.

A source gone quiet is simulated by landing its batches with landing's clock set back
(monkeypatch of `ingest.landing.datetime`): the files are written by `land` as always,
only the `_landed_at` it stamps is earlier. The judging side runs at the real time."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta

import pyarrow as pa
import pytest
from dagster import AssetCheckKey, AssetCheckSeverity, AssetKey, DagsterInstance

from ingest import landing
from jet.config import PROJECT_ROOT
from jet.drivers.jobs import run_job
from jet.drivers.simulate import load_scenario
from jet.freshness import check_freshness, latest_freshness
from jet.warehouse import rate
from schemas.raw import NETFLOW, RADIUS, SOURCES, UPSTREAM_CSV

pytestmark = pytest.mark.integration

SCENARIO = PROJECT_ROOT / "examples" / "scenarios" / "01-flat-monthly-prorata.yaml"
EVENT = datetime(2026, 1, 31, 12, tzinfo=UTC)


def _table(schema: pa.Schema, **values) -> pa.Table:
    """Two rows of `schema`: the given columns, every other column null."""
    given = {name: pa.array([value] * 2, schema.field(name).type) for name, value in values.items()}
    return pa.table({f.name: given.get(f.name, pa.nulls(2, f.type)) for f in schema}, schema=schema)


def radius(nas_ip: str, nas_identifier: str) -> pa.Table:
    a, b, c, d = (int(part) for part in nas_ip.split("."))
    return _table(
        RADIUS,
        event_time=EVENT,
        status_type="Interim-Update",
        user_name="alice@demo",  # the scenario's account: the data contracts pass
        acct_session_id="s1",
        nas_ip=(a << 24) | (b << 16) | (c << 8) | d,
        nas_identifier=nas_identifier,
    )


def netflow(exporter: str) -> pa.Table:
    address = bytes(10) + b"\xff\xff" + bytes([192, 0, 2, 1])
    return _table(
        NETFLOW,
        exporter=exporter,
        first_ts=EVENT,
        last_ts=EVENT,
        src_addr=address,
        dst_addr=address,
        packets=1,
        bytes=100,
        sampling_interval=1,
    )


def upstream() -> pa.Table:
    return _table(UPSTREAM_CSV, account_id="alice", ts=EVENT, bytes_in=1, bytes_out=1, seconds=0)


def land_at(source: str, rows: pa.Table, batch: str, raw, ago: timedelta = timedelta(0)):
    """landing.land, with the `_landed_at` it stamps set `ago` before now."""
    moment = datetime.now(UTC) - ago

    class Clock(datetime):
        @classmethod
        def now(cls, tz=None):
            return moment

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(landing, "datetime", Clock)
        return landing.land(source, rows, batch, raw)


def _check_results(settings) -> dict[str, object]:
    """The latest evaluation of each freshness check, as Dagster's UI shows it."""
    keys = [
        AssetCheckKey(AssetKey("fct_invoice_drafts"), f"{source}_delivering") for source in SOURCES
    ]
    with DagsterInstance.get() as instance:
        records = instance.event_log_storage.get_latest_asset_check_execution_by_key(keys)
    return {
        key.name.removesuffix("_delivering"): records[key].event.dagster_event.event_specific_data
        for key in keys
    }


def _run_log(settings) -> list:
    """The events of the latest run, in order, as Dagster's run view lists them."""
    with DagsterInstance.get() as instance:
        run = instance.get_runs(limit=1)[0]
        return list(instance.all_logs(run.run_id))


def test_a_quiet_nas_and_a_stale_source_warn_and_invoices_are_still_issued(settings):
    load_scenario(SCENARIO, settings)
    land_at("radius", radius("10.0.0.1", "nas-a"), "r-a", settings.raw, ago=timedelta(days=3))
    land_at("radius", radius("10.0.0.2", "nas-b"), "r-b", settings.raw)
    land_at("netflow", netflow("192.0.2.9"), "n-1", settings.raw, ago=timedelta(hours=3))

    run_job(settings, "billing_cycle", date(2026, 2, 1), date(2026, 2, 1))

    found = {(f.source, f.sender): f for f in latest_freshness(settings)}
    assert {key: f.status for key, f in found.items()} == {
        ("radius", None): "pass",  # the source delivers: nas-b is fresh
        ("radius", "10.0.0.1"): "error",  # 3 days > 24 h
        ("radius", "10.0.0.2"): "pass",
        ("netflow", None): "warn",  # 3 hours > 1 h, < 6 h
        ("netflow", "192.0.2.9"): "warn",
    }  # upstream_csv landed nothing: not judged
    assert found[("radius", "10.0.0.1")].sender_name == "nas-a"
    assert found[("radius", "10.0.0.1")].silent_for > timedelta(days=3) - timedelta(minutes=5)

    checks = _check_results(settings)
    assert not checks["radius"].passed
    assert checks["radius"].severity == AssetCheckSeverity.WARN
    assert "radius NAS 10.0.0.1 (nas-a): error, last landed 3 d" in checks["radius"].description
    assert "10.0.0.2" not in checks["radius"].description
    assert not checks["netflow"].passed
    assert "netflow: warn, last landed 3 h" in checks["netflow"].description
    assert "netflow exporter 192.0.2.9: warn" in checks["netflow"].description
    assert checks["upstream_csv"].passed
    assert checks["upstream_csv"].description == "upstream_csv: nothing landed yet"

    # in the run's log, before the invoices were issued; a warning, never a block
    events = _run_log(settings)
    warned = [
        n
        for n, e in enumerate(events)
        if e.level == logging.WARNING and e.step_key == "raw_sources_delivering"
    ]
    issuing = next(
        n
        for n, e in enumerate(events)
        if e.step_key == "issued_invoices" and e.dagster_event and e.dagster_event.is_step_start
    )
    assert [events[n].user_message for n in warned] == [
        checks["radius"].description,
        *checks["netflow"].description.split("; "),
    ]
    assert max(warned) < issuing
    assert (settings.pdf_dir / "demo" / "DEMO-2026-000001.pdf").exists()


def test_a_fresh_lake_warns_about_nothing(settings):
    load_scenario(SCENARIO, settings)
    land_at("radius", radius("10.0.0.1", "nas-a"), "r-a", settings.raw)
    land_at("netflow", netflow("192.0.2.9"), "n-1", settings.raw)
    land_at("upstream_csv", upstream(), "u-1", settings.raw)
    rate(settings, "2026-02-01")

    found = check_freshness(settings)
    assert [(f.source, f.sender) for f in found] == [
        ("radius", None),
        ("radius", "10.0.0.1"),
        ("netflow", None),
        ("netflow", "192.0.2.9"),
        ("upstream_csv", None),
    ]
    assert [f.describe() for f in found if not f.ok] == []


def test_an_empty_lake_checks_without_failing(settings):
    run_job(settings, "rating", date(2026, 2, 1), date(2026, 2, 1))

    assert latest_freshness(settings) == []
    checks = _check_results(settings)
    assert all(check.passed for check in checks.values())
    assert checks["radius"].description == "radius: nothing landed yet"
