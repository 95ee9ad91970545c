"""`jet import usage` through the real CLI: the good rows of a file land (and reach the
usage mart), the bad ones are quarantined with their lines and reasons, and a second
import changes nothing."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pyarrow.parquet as pq
from click.testing import CliRunner

from jet.cli import main
from jet.config import PROJECT_ROOT, Settings
from jet.drivers.simulate import load_scenario
from jet.warehouse import marts, rate

SCENARIO = PROJECT_ROOT / "examples" / "scenarios" / "01-flat-monthly-prorata.yaml"

USAGE = (
    "account_id,timestamp,bytes_in,bytes_out,seconds\n"
    "alice,2026-02-03T10:00:00Z,1000000,200000,600\n"  # 2
    "alice,2026-02-03T23:30:00-02:00,5,6,7\n"  # 3: 2026-02-04 01:30 UTC
    "bob,2026-02-03T11:00:00Z,1,2,3\n"  # 4: no such account
    "\n"
    "alice,03/02/2026 12:00,1,2,3\n"  # 6: not ISO 8601
    "alice,2026-02-05T08:00:00Z,-7,2.5,3\n"  # 7: negative, fractional
    "alice,2026-02-05T09:00:00Z,1,2\n"  # 8: a field short
    "alice,2026-02-05T10:00:00Z,300,400,60\n"  # 9
)


def _import(file: Path, profile: str = "wholesale"):
    return CliRunner().invoke(main, ["import", "usage", str(file), "--profile", profile])


def _lake(settings: Settings) -> dict[str, str]:
    """Every file of the landed upstream usage (data and manifests), by its sha256."""
    root = settings.raw / "upstream_csv"
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != "_landing.lock"
    }


def _landed(settings: Settings) -> list[dict]:
    files = sorted((settings.raw / "upstream_csv").glob("date=*/*.parquet"))
    rows = [row for f in files for row in pq.read_table(f).to_pylist()]
    return sorted(rows, key=lambda r: r["source_line"])


def test_good_rows_land_bad_rows_are_quarantined_and_a_second_import_changes_nothing(
    settings, tmp_path
):
    load_scenario(SCENARIO, settings)  # the realm demo with the account alice
    file = tmp_path / "upstream-2026-02.csv"
    file.write_text(USAGE)

    result = _import(file)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(f"3 rows landed from {file} as batch usage-")
    batch = lines[0].rsplit(" ", 1)[1]
    quarantine = settings.quarantine / f"upstream-2026-02-{batch}.csv"
    assert lines[1] == f"4 rows quarantined in {quarantine}:"
    assert lines[2:] == [
        "  line 4: account_id: 'bob' is not an account in Jet (add it, then import the quarantine)",
        "  line 6: timestamp: '03/02/2026 12:00' is not an ISO 8601 timestamp such as "
        "2026-08-03T10:00:00Z",
        "  line 7: bytes_in: '-7' is negative; bytes_out: '2.5' B is not a whole number of "
        "bytes (the profile's `round: true` would round it)",
        "  line 8: expected 5 fields, got 4",
    ]

    assert [
        (r["account_id"], r["ts"].isoformat(), r["bytes_in"], r["bytes_out"], r["seconds"])
        for r in _landed(settings)
    ] == [
        ("alice", "2026-02-03T10:00:00+00:00", 1000000, 200000, 600),
        ("alice", "2026-02-04T01:30:00+00:00", 5, 6, 7),
        ("alice", "2026-02-05T10:00:00+00:00", 300, 400, 60),
    ]
    assert [r["source_line"] for r in _landed(settings)] == [2, 3, 9]
    assert {r["source_file"] for r in _landed(settings)} == {file.name}

    assert quarantine.read_text().splitlines() == [
        "account_id,timestamp,bytes_in,bytes_out,seconds,jet_line,jet_reasons",
        "bob,2026-02-03T11:00:00Z,1,2,3,4,"
        "\"account_id: 'bob' is not an account in Jet (add it, then import the quarantine)\"",
        "alice,03/02/2026 12:00,1,2,3,6,"
        "timestamp: '03/02/2026 12:00' is not an ISO 8601 timestamp such as "
        "2026-08-03T10:00:00Z",
        "alice,2026-02-05T08:00:00Z,-7,2.5,3,7,"
        "bytes_in: '-7' is negative; bytes_out: '2.5' B is not a whole number of bytes "
        "(the profile's `round: true` would round it)",
        'alice,2026-02-05T09:00:00Z,1,2,8,"expected 5 fields, got 4"',
    ]

    lake = _lake(settings)
    quarantined = quarantine.stat()
    again = _import(file)
    assert again.exit_code == 0, again.output
    assert again.output.startswith("already imported on ")
    assert again.output.rstrip().endswith(f"as batch {batch} (3 rows landed); nothing changed")
    assert _lake(settings) == lake
    assert quarantine.stat().st_mtime_ns == quarantined.st_mtime_ns
    assert sorted(p.name for p in settings.quarantine.iterdir()) == [quarantine.name]

    # the landed rows are usage like any other: the staging model and the daily mart
    rate(settings, "2026-03-01", "run")
    daily = marts(settings).execute(
        "select usage_date::varchar, bytes_in, bytes_out, seconds, records "
        "from fct_usage_daily where source = 'upstream_csv' order by usage_date"
    )
    assert daily.fetchall() == [
        ("2026-02-03", 1000000, 200000, 600, 1),
        ("2026-02-04", 5, 6, 7, 1),
        ("2026-02-05", 300, 400, 60, 1),
    ]


def test_an_operators_profile_a_file_with_no_good_row_and_a_file_that_does_not_fit(
    settings, tmp_path
):
    load_scenario(SCENARIO, settings)
    settings.profiles.mkdir(parents=True)
    (settings.profiles / "partner.yaml").write_text(
        """
description: A partner's semicolon file without a header, volumes in MB
delimiter: ";"
header: false
account: {column: 1, kind: user_name}
timestamp: {column: 2, format: "%d.%m.%Y %H:%M", timezone: Europe/Berlin}
bytes: {in: 3, unit: MB}
duration: {column: 4, unit: min}
"""
    )
    file = tmp_path / "partner.txt"
    file.write_text("alice@demo;03.02.2026 10:00;1.5;2.5\nalice@demo;03.08.2026 10:00;0,5;1\n")
    result = _import(file, "partner")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0].startswith("1 row landed")
    assert "line 2: column 3: '0,5' is not a number" in result.output
    [row] = _landed(settings)
    assert (row["ts"].isoformat(), row["bytes_in"], row["bytes_out"], row["seconds"]) == (
        "2026-02-03T09:00:00+00:00",
        1_500_000,
        0,
        150,
    )

    nobody = tmp_path / "nobody.csv"
    nobody.write_text("account_id,timestamp,bytes_in,bytes_out,seconds\nzed,2026-02-03,1,2,3\n")
    result = _import(nobody)
    assert result.exit_code == 1
    assert result.output.startswith(f"1 row quarantined in {settings.quarantine}/nobody-")
    assert f"nothing landed from {nobody}: every row was quarantined" in result.output

    other = tmp_path / "partner-march.txt"
    other.write_text("alice@demo;03.03.2026 10:00;1;1\n")
    result = _import(other)  # the partner's layout read as the wholesale one
    assert result.exit_code == 1
    assert "partner-march.txt does not fit profile 'wholesale': account.column is 'account_id'" in (
        result.output
    )
    result = _import(file)  # a landed file with another profile would count twice
    assert result.exit_code == 1
    assert "already imported with another profile" in result.output
    result = _import(file, "no-such-profile")
    assert result.exit_code == 1
    assert "known profiles: partner, wholesale" in result.output
