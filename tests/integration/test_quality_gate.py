"""The data quality gate end to end: `jet bill` (Dagster in process, dbt against DuckDB,
SQLite via Alembic, Great Expectations over the lake) on a lake holding a broken batch:
what it holds, waivers and their withdrawal, and the retention of validation results.

The batch is written the way a faulty collector or a hand-copied file gets into the
lake, not through `ingest.landing.land` (which refuses negative counters and files each
row under its own date): a Parquet file in landing's layout with a signed octets column
and its manifest, holding a negative counter, a row filed under the wrong day and a
user the store does not know."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from dagster import AssetCheckKey, AssetCheckSeverity, AssetKey, DagsterInstance
from sqlalchemy import select

from ingest.landing import land
from jet.cli import main
from jet.config import PROJECT_ROOT
from jet.drivers.simulate import load_scenario
from jet.store.db import session
from jet.store.models import Invoice
from schemas.raw import RADIUS, landed_schema

pytestmark = pytest.mark.integration

# demo realm, billed on the 1st; alice subscribes from 2026-01-15 (no usage product, so
# usage changes no amount: what matters is whether the invoice goes out)
SCENARIO = PROJECT_ROOT / "examples" / "scenarios" / "01-flat-monthly-prorata.yaml"
HELD = [
    "raw_radius.columns",  # the signed column: every row of its file
    "raw_radius.input_octets_not_negative",
    "raw_radius.event_time_in_partition",
    "raw_radius.known_account",
    "fct_usage_daily.bytes_out_not_negative",  # the negative counter, rated
    "fct_usage_daily.known_account",
]


def _at(day: int, hour: int) -> datetime:
    return datetime(2026, 1, day, hour, tzinfo=UTC)


def _radius(rows: list[dict], schema: pa.Schema = RADIUS) -> pa.Table:
    """RADIUS rows in `schema`: the given columns, the others null."""
    return pa.table(
        {f.name: pa.array([r.get(f.name) for r in rows], f.type) for f in schema}, schema=schema
    )


BROKEN_ROWS = [
    {  # a counter that went through a signed 64-bit column: negative
        "event_time": _at(20, 10),
        "status_type": "Interim-Update",
        "user_name": "alice@demo",
        "acct_session_id": "s1",
        "input_octets": -5000,
        "output_octets": 100,
    },
    {  # filed under 2026-01-20, but it is of the 21st
        "event_time": _at(21, 9),
        "status_type": "Interim-Update",
        "user_name": "alice@demo",
        "acct_session_id": "s1",
        "input_octets": 7000,
        "output_octets": 200,
    },
    {  # nobody in the store
        "event_time": _at(20, 11),
        "status_type": "Start",
        "user_name": "mallory@demo",
        "acct_session_id": "s2",
        "input_octets": 0,
        "output_octets": 0,
    },
]


def write_like_a_faulty_collector(raw, batch: str) -> None:
    """BROKEN_ROWS as `batch`: a file under date=2026-01-20 with a signed input_octets
    column, and a manifest that acknowledges it, as landing's layout has them."""
    signed = landed_schema("radius").set(
        RADIUS.get_field_index("input_octets"), pa.field("input_octets", pa.int64())
    )
    rows = [r | {"_batch_id": batch, "_landed_at": _at(20, 12)} for r in BROKEN_ROWS]
    relative = f"date=2026-01-20/{batch}.parquet"
    path = raw / "radius" / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(_radius(rows, signed), path)
    manifest = {
        "batch_id": batch,
        "source": "radius",
        "rows": len(rows),
        "landed_at": _at(20, 12).isoformat(),
        "files": [
            {
                "path": relative,
                "rows": len(rows),
                "bytes": path.stat().st_size,
                "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            }
        ],
    }
    (raw / "radius" / "_manifests").mkdir(parents=True, exist_ok=True)
    (raw / "radius" / "_manifests" / f"{batch}.json").write_text(json.dumps(manifest))


def age_results(quality: Path) -> dict[str, tuple[Path, Path]]:
    """Copies of the newest raw_radius validation result as if written days ago, with
    their Data Docs pages, one holding a check since retired; each name's result file
    and page."""
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ValidationResultIdentifier,
    )

    context = gx.get_context(mode="file", project_root_dir=quality)
    store = context.validation_results_store
    newest = max(
        (k for k in store.list_keys() if k.expectation_suite_identifier.name == "raw_radius"),
        key=lambda k: k.run_id.run_time,
    )
    now, aged = datetime.now(UTC), {}
    for name, days in [
        ("10 days", 10),
        ("100 days", 100),
        ("200 days, a retired check's latest", 200),
        ("300 days, the retired check again", 300),
    ]:
        result = store.get(newest)
        if "retired" in name:
            result.results[0].expectation_config.meta["check"] = "raw_radius.retired"
        run = RunIdentifier(run_name="__none__", run_time=now - timedelta(days=days))
        key = ValidationResultIdentifier(
            newest.expectation_suite_identifier, run, newest.batch_identifier
        )
        store.set(key, result)
        aged[name] = key
    context.build_data_docs(resource_identifiers=list(aged.values()))
    folder = Path(store.store_backend.full_base_directory)
    site = quality / "gx" / "uncommitted" / "data_docs" / "local_site" / "validations"
    files = {
        name: (
            folder.joinpath(*key.to_tuple()).with_suffix(".json"),
            site.joinpath(*key.to_tuple()).with_suffix(".html"),
        )
        for name, key in aged.items()
    }
    assert all(result.exists() and page.exists() for result, page in files.values())
    return files


def dead_links(site: Path) -> list[str]:
    """The pages the Data Docs index links to that do not exist."""
    index = (site / "index.html").read_text()
    links = re.findall(r"""(?:href="|'_table_row_link_path': ')([^"'#:]+\.html)""", index)
    assert any(link.startswith("validations/") for link in links)
    return [link for link in links if not (site / link).exists()]


def _jet(*args: str):
    return CliRunner().invoke(main, list(args))


def _issued(settings) -> list[tuple]:
    with session(settings.db_url) as s:
        return [
            (i.number, i.bill_date, str(i.total))
            for i in s.scalars(select(Invoice).order_by(Invoice.id))
        ]


def _latest_check(asset: str, name: str):
    key = AssetCheckKey(AssetKey(asset), name)
    with DagsterInstance.get() as instance:
        record = instance.event_log_storage.get_latest_asset_check_execution_by_key([key])[key]
    return record.event.dagster_event.event_specific_data


@pytest.fixture
def broken_lake(settings):
    load_scenario(SCENARIO, settings)
    good = _radius([{"event_time": _at(18, 8), "status_type": "Start", "user_name": "alice@demo"}])
    land("radius", good, "radius-good", settings.raw)
    write_like_a_faulty_collector(settings.raw, "collector-7")
    return settings


def test_a_broken_batch_holds_its_bill_date_until_it_is_fixed(broken_lake):
    settings = broken_lake
    result = _jet("bill", "--from", "2026-02-01", "--to", "2026-03-01")

    # 2026-02-01 bills January: held, with each failed check, its rows and what to do;
    # alice's invoice of 2026-03-01 waits for it, so that her invoices go out in order
    assert result.exit_code == 1, result.output
    assert _issued(settings) == []
    out = result.output
    assert "held these invoices" in out and "2026-02-01 demo: " + ", ".join(HELD) in out
    assert "2026-03-01 demo: after its held invoices of 2026-02-01" in out
    assert "raw_radius.columns (blocking): 3 of 4 rows fail" in out
    assert "_schema_mismatch=input_octets is INT64, landing writes UINT_64" in out
    assert "raw_radius.input_octets_not_negative (blocking): 1 of 4 rows fail" in out
    assert "input_octets=-5000" in out
    assert "raw_radius.event_time_in_partition (blocking): 1 of 4 rows fail" in out
    assert "_file=date=2026-01-20/collector-7.parquet _row=1 event_time=2026-01-21 09:00" in out
    assert "raw_radius.known_account (blocking): 1 of 4 rows fail" in out
    assert "_unknown_account=mallory@demo" in out
    assert "what to do: create the missing account" in out
    assert "bill them again: `jet bill --from 2026-02-01 --to 2026-03-01`" in out
    assert 'jet quality waive CHECK --date 2026-02-01 --reason "..."' in out
    assert str(settings.quality_docs) in out and settings.quality_docs.exists()

    # the same findings as Dagster asset checks on the tables they check
    known = _latest_check("raw_radius", "known_account")
    assert not known.passed and known.severity == AssetCheckSeverity.ERROR
    assert known.metadata["rows_failing"].value == 1
    assert "mallory@demo" in known.metadata["sample"].value
    assert _latest_check("raw_radius", "session_time_not_negative").passed
    gate = _latest_check("fct_invoice_drafts", "quality_gate")
    assert not gate.passed and gate.severity == AssetCheckSeverity.WARN

    status = _jet("quality", "status")
    assert status.exit_code == 0, status.output
    line = next(x for x in status.output.splitlines() if x.startswith("raw_radius.known_account "))
    assert "FAILED" in line and "1 of 4" in line and "every realm 2026-01-21..2026-02-20" in line
    aged = age_results(settings.quality)

    # fixed: the file goes, its records land again through landing (the counter as the
    # NAS sent it, the late row under its own day); mallory is nobody of ours
    (settings.raw / "radius" / "date=2026-01-20" / "collector-7.parquet").unlink()
    (settings.raw / "radius" / "_manifests" / "collector-7.json").unlink()
    fixed = [r | {"input_octets": abs(r["input_octets"])} for r in BROKEN_ROWS[:2]]
    land("radius", _radius(fixed), "collector-7-relanded", settings.raw)

    result = _jet("bill", "--from", "2026-02-01", "--to", "2026-03-01")
    assert result.exit_code == 0, result.output
    assert _issued(settings) == [
        ("DEMO-2026-000001", date(2026, 2, 1), "51.10"),
        ("DEMO-2026-000002", date(2026, 3, 1), "33.00"),
    ]
    assert _latest_check("raw_radius", "known_account").passed
    status = _jet("quality", "status").output
    assert "FAILED" not in status and "raw_radius.known_account " in status

    # the run pruned the results past 90 days, and their Data Docs pages, but for the
    # latest result of a check no later run has
    site = settings.quality_docs.parent
    kept = {name for name, (result, page) in aged.items() if result.exists() and page.exists()}
    assert kept == {"10 days", "200 days, a retired check's latest"}
    for name in ("100 days", "300 days, the retired check again"):
        result, page = aged[name]
        assert not result.parent.exists() and not page.parent.exists()
    assert dead_links(site) == []


def test_waived_checks_let_their_bill_date_go_out_until_withdrawn(broken_lake):
    settings = broken_lake
    refused = _jet("quality", "waive", "raw_radius.known_account", "--reason", " ")
    assert refused.exit_code == 1 and "needs a reason" in refused.output
    for check in HELD:
        waived = _jet(
            "quality", "waive", check, "--date", "2026-02-01", "--reason", "test NAS", "--by", "ops"
        )
        assert waived.exit_code == 0, waived.output

    # one waiver withdrawn: that check holds the date again, the others still let it go
    at_feb = ["raw_radius.known_account", "--date", "2026-02-01"]
    withdrawn = _jet(
        "quality", "unwaive", *at_feb, "--reason", "mallory is a real customer", "--by", "audit"
    )
    assert withdrawn.exit_code == 0, withdrawn.output
    assert "withdrew the waiver of raw_radius.known_account for 2026-02-01" in withdrawn.output
    again = _jet("quality", "unwaive", *at_feb, "--reason", "twice")
    assert again.exit_code == 1 and "no active waiver at 2026-02-01" in again.output
    assert "  raw_radius.columns 2026-02-01 (by ops: test NAS)" in again.output

    result = _jet("bill", "--from", "2026-02-01", "--to", "2026-02-01")
    assert result.exit_code == 1, result.output
    assert "2026-02-01 demo: raw_radius.known_account\n" in result.output
    assert _issued(settings) == []
    status = _jet("quality", "status").output
    line = next(x for x in status.splitlines() if x.startswith("raw_radius.known_account "))
    assert "FAILED" in line and "waived" not in line
    assert (
        "raw_radius.known_account 2026-02-01: by ops on " in status
        and "test NAS; WITHDRAWN by audit on " in status
        and ": mallory is a real customer" in status
    )

    # waived again: the checks fail on the same data, and the invoice goes out
    waived = _jet("quality", "waive", *at_feb, "--reason", "billed as usual", "--by", "ops")
    assert waived.exit_code == 0, waived.output
    result = _jet("bill", "--from", "2026-02-01", "--to", "2026-02-01")
    assert result.exit_code == 0, result.output
    assert _issued(settings) == [("DEMO-2026-000001", date(2026, 2, 1), "51.10")]
    assert not _latest_check("raw_radius", "known_account").passed

    status = _jet("quality", "status").output
    line = next(x for x in status.splitlines() if x.startswith("raw_radius.known_account "))
    assert "FAILED" in line and "(waived at 2026-02-01)" in line
    assert status.count(": test NAS") == len(HELD)
    assert "raw_radius.known_account 2026-02-01: by ops on " in status
    assert ": billed as usual" in status
