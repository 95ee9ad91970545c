"""`jet import usage`: mapping profiles, exact units, time zones, and a reason for every
kind of bad row."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_FLOOR, Decimal, localcontext
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest.csv.conversions import MAX_QUANTITY, quantities
from ingest.csv.profiles import (
    BYTE_UNITS,
    SHIPPED,
    ProfileError,
    find_profile,
    load_profile,
    parse_profile,
    read_profile,
)
from ingest.csv.usage import UsageFileError, import_usage, read_usage, usage_batch_id
from ingest.landing import landed_batches
from jet.accounts import add_accounts
from jet.catalog import load_catalog_file
from jet.config import PROJECT_ROOT
from jet.realms import store_catalog
from jet.store.db import session

NOW = datetime(2026, 11, 1, tzinfo=UTC)
WHOLESALE = read_profile(SHIPPED / "wholesale.yaml")
HEADER = "account_id,timestamp,bytes_in,bytes_out,seconds\n"
ACCOUNTS = {"alice": "acme", "bob": "acme"}


def _lookup(ids: list[str]) -> dict[str, str]:
    return {i: ACCOUNTS[i] for i in ids if i in ACCOUNTS}


def _profile(text: str):
    return parse_profile(text, "test.yaml", "test")


def _read(text: str | bytes, profile=WHOLESALE):
    data = text.encode() if isinstance(text, str) else text
    checked = read_usage(data, "partner.csv", profile, _lookup, NOW)
    return checked.good.to_pylist(), {r.line: r.reasons for r in checked.rejected}


MINIMAL = """
account: {column: user}
timestamp: {column: time}
bytes: {in: down}
"""


# --- profiles ----------------------------------------------------------------------------


def test_the_shipped_profile_reads_the_wholesale_layout():
    assert WHOLESALE.name == "wholesale"
    assert WHOLESALE.columns() == {
        "account.column": "account_id",
        "timestamp.column": "timestamp",
        "bytes.in": "bytes_in",
        "bytes.out": "bytes_out",
        "duration.column": "seconds",
    }


def test_every_problem_of_a_profile_is_listed_with_its_key_path():
    text = """
delimiter: ";;"
encoding: utf-16
colour: red
account: {column: user, kind: email}
timestamp: {column: time, format: "%Q", timezone: Mars/Olympus}
bytes: {in: 0, unit: TB}
duration: {column: secs, unit: day}
"""
    with pytest.raises(ProfileError) as err:
        _profile(text)
    problems = dict(err.value.problems)
    assert set(problems) == {
        "delimiter",
        "encoding",
        "colour",
        "account.kind",
        "timestamp.format",
        "timestamp.timezone",
        "bytes.in",
        "bytes.unit",
        "duration.unit",
    }
    assert problems["colour"].startswith("unknown key; expected one of: description, delimiter")
    assert "'TB'" in problems["bytes.unit"] and "'GiB'" in problems["bytes.unit"]
    assert "Europe/Berlin" in problems["timestamp.timezone"]
    assert "cannot read back what it writes" in problems["timestamp.format"]
    assert "position counting from 1, got 0" in problems["bytes.in"]
    assert str(err.value).startswith("test.yaml: usage profile refused\n  delimiter: ")


@pytest.mark.parametrize(
    ("text", "path", "message"),
    [
        (MINIMAL.replace("{in: down}", "{unit: MB}"), "bytes.in", "bytes in, of bytes out"),
        ("header: false\n" + MINIMAL, "account.column", "position (1 = first), not 'user'"),
        (
            MINIMAL.replace("{in: down}", "{in: down, out: time}"),
            "bytes.out",
            "column 'time' is already timestamp.column",
        ),
        (
            MINIMAL.replace(
                "{column: time}", "{column: time, format: epoch, timezone: Asia/Tokyo}"
            ),
            "timestamp.timezone",
            "UTC by definition",
        ),
        (MINIMAL.replace("account: {column: user}\n", ""), "account", "required, but missing"),
        (MINIMAL + "round: maybe\n", "round", "valid boolean"),
        (MINIMAL + "account: {column: x}\n", "line 5", "duplicate key 'account'"),
        ("- a list\n", "(document)", "expected a YAML mapping"),
    ],
)
def test_a_profile_mistake_names_its_key(text, path, message):
    with pytest.raises(ProfileError) as err:
        _profile(text)
    problems = dict(err.value.problems)
    assert message in problems[path]


def test_a_profile_is_found_in_the_operators_folder_first(tmp_path):
    own = tmp_path / "profiles"
    own.mkdir()
    assert find_profile("wholesale", own) == SHIPPED / "wholesale.yaml"
    (own / "wholesale.yaml").write_text(MINIMAL)
    (own / "mine.yaml").write_text(MINIMAL)
    assert find_profile("wholesale", own) == own / "wholesale.yaml"
    assert load_profile(str(own / "mine.yaml"), tmp_path / "elsewhere").name == "mine"
    with pytest.raises(ProfileError, match=r"known profiles: mine, wholesale"):
        find_profile("nope", own)
    with pytest.raises(ProfileError, match=r"no such file"):
        find_profile(str(tmp_path / "missing.yaml"), own)


def test_the_batch_id_follows_the_file_and_what_the_profile_means():
    data = (HEADER + "alice,2026-08-03T10:00:00Z,1,2,3\n").encode()
    described = _profile(MINIMAL + "description: anything\n")
    assert usage_batch_id(data, described) == usage_batch_id(data, _profile(MINIMAL))
    in_mb = _profile(MINIMAL.replace("{in: down}", "{in: down, unit: MB}"))
    assert usage_batch_id(data, in_mb) != usage_batch_id(data, _profile(MINIMAL))
    file_part = usage_batch_id(data, WHOLESALE).rsplit("-", 1)[0]
    assert usage_batch_id(data, in_mb).startswith(file_part + "-")
    assert usage_batch_id(data + b"\n", WHOLESALE) != usage_batch_id(data, WHOLESALE)


# --- units -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "unit", "expected"),
    [
        ("1834221", "B", 1834221),
        ("1.5", "MB", 1_500_000),
        ("12.50", "KB", 12_500),
        ("2", "GB", 2_000_000_000),
        ("1", "GiB", 2**30),
        ("0.5", "KiB", 512),
        ("0.0009765625", "KiB", 1),  # 1/1024
        ("0.000000000931322574615478515625", "GiB", 1),  # 2**-30
        ("8589934591.999999999068677425384521484375", "GiB", 2**63 - 1),
        ("9223372036854775807", "B", 2**63 - 1),
        ("007", "B", 7),
        (" 42 ", "B", 42),
    ],
)
def test_units_convert_exactly(text, unit, expected):
    converted = quantities(pa.array([text]), unit, BYTE_UNITS[unit], "bytes", False)
    assert converted.values.to_pylist() == [expected]
    assert not any(mask.any() for mask, _ in converted.problems)


@given(
    st.lists(
        st.tuples(
            st.integers(0, 10**19), st.integers(0, 10**6 - 1), st.sampled_from(sorted(BYTE_UNITS))
        ),
        min_size=1,
        max_size=20,
    ),
    st.booleans(),
)
def test_units_agree_with_decimal_arithmetic(rows, round_):
    """Whatever path a column takes (plain digits or decimals), every value is the exact
    product, refused when fractional unless rounded (halves up), or past BIGINT."""
    for unit in {u for _, _, u in rows}:
        texts = [
            f"{whole}.{fraction:06d}" if fraction else str(whole) for whole, fraction, _ in rows
        ]
        converted = quantities(pa.array(texts), unit, BYTE_UNITS[unit], "bytes", round_)
        for text, value in zip(texts, converted.values.to_pylist(), strict=True):
            with localcontext(prec=80):
                exact = Decimal(text) * BYTE_UNITS[unit]
                expected = int((exact + Decimal("0.5")).to_integral_value(rounding=ROUND_FLOOR))
            if (exact != expected and not round_) or expected > MAX_QUANTITY:
                expected = None
            assert value == expected, (text, unit)


def test_fractions_are_refused_unless_the_profile_rounds():
    text = HEADER + "alice,2026-08-03T10:00:00Z,0.5,2,3\n"
    rows, rejected = _read(text)
    assert rows == []
    assert rejected == {
        2: "bytes_in: '0.5' B is not a whole number of bytes (the profile's `round: true` "
        "would round it)"
    }
    rounding = WHOLESALE.model_copy(update={"round": True})
    rows, rejected = _read(text, rounding)
    assert (rows[0]["bytes_in"], rejected) == (1, {})


def test_a_total_column_counts_as_its_side_and_durations_scale():
    profile = _profile(
        """
account: {column: user}
timestamp: {column: time}
bytes: {out: volume, unit: MiB}
duration: {column: online, unit: min}
"""
    )
    rows, rejected = _read("user,time,volume,online\nbob,2026-08-03T10:00:00Z,1.5,2.5\n", profile)
    assert rejected == {}
    assert [(r["bytes_in"], r["bytes_out"], r["seconds"]) for r in rows] == [(0, 1_572_864, 150)]


# --- time zones --------------------------------------------------------------------------


def _stamps(values: list[str], timestamp: str) -> tuple[list[str], dict[int, str]]:
    profile = _profile(f"account: {{column: a}}\ntimestamp: {timestamp}\nbytes: {{in: b}}\n")
    text = "a,t,b\n" + "".join(f'alice,"{v}",1\n' for v in values)
    rows, rejected = _read(text, profile)
    return [r["ts"].isoformat() for r in rows], rejected


def test_timestamps_without_an_offset_are_read_in_the_profiles_zone():
    stamps, rejected = _stamps(
        [
            "2026-08-03T10:00:00",  # summer: +02:00
            "2026-01-15 10:00:00",  # winter: +01:00, a space for the T
            "2026-08-03T10:00:00Z",  # an offset wins over the zone
            "2026-08-03T10:00:00.250+05:30",
        ],
        "{column: t, format: iso8601, timezone: Europe/Berlin}",
    )
    assert rejected == {}
    assert stamps == [
        "2026-08-03T08:00:00+00:00",
        "2026-01-15T09:00:00+00:00",
        "2026-08-03T10:00:00+00:00",
        "2026-08-03T04:30:00.250000+00:00",
    ]


def test_strftime_and_epoch_timestamps():
    stamps, rejected = _stamps(
        ["03/08/2026 10:00", "15/01/2026 23:30"],
        '{column: t, format: "%d/%m/%Y %H:%M", timezone: Australia/Sydney}',
    )
    assert rejected == {}
    assert stamps == ["2026-08-03T00:00:00+00:00", "2026-01-15T12:30:00+00:00"]
    stamps, rejected = _stamps(["1785751200"], "{column: t, format: epoch}")
    assert (stamps, rejected) == (["2026-08-03T10:00:00+00:00"], {})


def test_local_times_a_clock_change_skips_or_repeats_are_refused():
    stamps, rejected = _stamps(
        ["2026-03-29T02:30:00", "2026-10-25T02:30:00", "2026-10-25T02:30:00+01:00"],
        "{column: t, timezone: Europe/Berlin}",
    )
    assert stamps == ["2026-10-25T01:30:00+00:00"]
    assert set(rejected) == {2, 3}
    assert "does not exist or happens twice in Europe/Berlin" in rejected[2]


# --- bad rows ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (",2026-08-03T10:00:00Z,1,2,3", "account_id: empty, expected an account id"),
        ("carol,2026-08-03T10:00:00Z,1,2,3", "account_id: 'carol' is not an account in Jet"),
        ("alice,,1,2,3", "timestamp: empty, expected an ISO 8601 timestamp"),
        ("alice,03/08/2026,1,2,3", "timestamp: '03/08/2026' is not an ISO 8601 timestamp"),
        ("alice,1999-12-31T23:00:00Z,1,2,3", "timestamp: '1999-12-31T23:00:00Z' is before 2000"),
        ("alice,2026-11-02T00:00:01Z,1,2,3", "is in the future (more than a day after"),
        ("alice,2026-08-03T10:00:00Z,-5,2,3", "bytes_in: '-5' is negative"),
        ("alice,2026-08-03T10:00:00Z,1,1e6,3", "bytes_out: '1e6' is not a number such as"),
        ('alice,2026-08-03T10:00:00Z,1,"1,5",3', "bytes_out: '1,5' is not a number"),
        ("alice,2026-08-03T10:00:00Z,1,2,", "seconds: empty, expected a number"),
        ("alice,2026-08-03T10:00:00Z,9223372036854775808,2,3", "is more than 9223372036854775807"),
        ("alice,2026-08-03T10:00:00Z,1,2", "expected 5 fields, got 4"),
        ("alice,2026-08-03T10:00:00Z,1,2,3,4", "expected 5 fields, got 6"),
    ],
)
def test_each_bad_row_is_quarantined_with_its_reason(row, reason):
    text = HEADER + "alice,2026-08-03T10:00:00Z,1,2,3\n\n" + row + "\n"
    rows, rejected = _read(text)
    assert [r["source_line"] for r in rows] == [2]
    assert list(rejected) == [4]
    assert reason in rejected[4]


def test_a_row_gives_every_reason_it_has():
    _, rejected = _read(HEADER + "carol,soon,-1,x,\n")
    assert rejected[2].split("; ") == [
        "account_id: 'carol' is not an account in Jet (add it, then import the quarantine)",
        "timestamp: 'soon' is not an ISO 8601 timestamp such as 2026-08-03T10:00:00Z",
        "bytes_in: '-1' is negative",
        "bytes_out: 'x' is not a number such as 1234 or 12.5 (digits and at most one point)",
        "seconds: empty, expected a number such as 1234 or 12.5 (digits and at most one "
        "point), in s",
    ]


def test_user_names_map_to_accounts_of_their_realm():
    profile = WHOLESALE.model_copy(
        update={"account": WHOLESALE.account.model_copy(update={"kind": "user_name"})}
    )
    rows, rejected = _read(
        HEADER
        + "alice@acme,2026-08-03T10:00:00Z,1,2,3\n"
        + "bob@ACME,2026-08-03T10:00:00Z,1,2,3\n"
        + "alice,2026-08-03T10:00:00Z,1,2,3\n"
        + "alice@skyfi,2026-08-03T10:00:00Z,1,2,3\n"
        + "@acme,2026-08-03T10:00:00Z,1,2,3\n",
        profile,
    )
    assert [r["account_id"] for r in rows] == ["alice", "bob", "alice"]
    assert rejected == {
        5: "account_id: 'alice@skyfi' names a realm its account is not in",
        6: "account_id: empty, expected a user name such as alice@acme",
    }


def test_rows_keep_their_physical_lines():
    rows, rejected = _read(
        "\ufeff"  # a spreadsheet's byte order mark
        + HEADER.replace("\n", "\r\n")
        + "alice,2026-08-03T10:00:00Z,1,2,3\r\n"
        + "\r\n"
        + ",,,,\r\n"  # a spreadsheet's empty row: skipped
        + '"al\nice",2026-08-03T10:00:00Z,1,2,3\r\n'
        + "bob,2026-08-03T10:00:00Z,4,5,6"
    )
    assert [(r["account_id"], r["source_line"]) for r in rows] == [("alice", 2), ("bob", 7)]
    assert {r["source_file"] for r in rows} == {"partner.csv"}
    assert list(rejected) == [5]


def test_headerless_files_semicolons_and_latin1():
    profile = _profile(
        """
delimiter: ";"
header: false
encoding: latin-1
account: {column: 2}
timestamp: {column: 1, format: "%Y-%m-%d %H:%M:%S"}
bytes: {in: 4, out: 3, unit: KB}
"""
    )
    data = (
        "2026-08-03 10:00:00;alice;2.5;7;café\n"
        "2026-08-03 11:00:00;bob;2,5;1;x\n"
        "2026-08-03 12:00:00;bob;1;2\n"
        "2026-08-03 13:00:00;josé;1;1;x\n"
    ).encode("latin-1")
    rows, rejected = _read(data, profile)
    assert [(r["account_id"], r["bytes_in"], r["bytes_out"]) for r in rows] == [
        ("alice", 7000, 2500)
    ]
    assert rejected == {
        2: "column 3: '2,5' is not a number such as 1234 or 12.5 (digits and at most one point)",
        3: "expected 5 fields, got 4",
        4: "column 2: 'josé' is not an account in Jet (add it, then import the quarantine)",
    }


def test_bytes_that_are_not_text_in_the_encoding_are_one_rows_problem():
    data = HEADER + "alice,2026-08-03T10:00:00Z,1,2,3\nbob,2026-08-03T10:00:00Z,1,2,3 \xff\n"
    rows, rejected = _read(data.encode("latin-1"))
    assert [r["account_id"] for r in rows] == ["alice"]
    assert rejected[3].startswith("not utf-8 text (is the file's encoding the profile's?); ")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "partner.csv: the file is empty"),
        (
            "account,timestamp,bytes_in,bytes_out,seconds\n",
            "profile 'wholesale': account.column is 'account_id', which is not in the header",
        ),
        (
            "account_id,timestamp,Bytes_In,bytes_in,seconds\n",
            "bytes.in is 'bytes_in', which appears twice in the header",
        ),
    ],
)
def test_a_file_that_does_not_fit_its_profile_is_refused_whole(text, message):
    with pytest.raises(UsageFileError, match=message):
        _read(text)


def test_header_names_match_whatever_their_case_and_spaces():
    rows, rejected = _read(
        " Account_ID ,TIMESTAMP,bytes_in,bytes_out,seconds,extra\n"
        "alice,2026-08-03T10:00:00Z,1,2,3,ignored\n"
    )
    assert (len(rows), rejected) == (1, {})


# --- import: quarantine and idempotency --------------------------------------------------


@pytest.fixture
def store(settings):
    """The acme realm with accounts alice and bob."""
    catalog = load_catalog_file(PROJECT_ROOT / "examples" / "catalogs" / "acme.yaml")
    with session(settings.db_url) as s:
        store_catalog(s, catalog, "acme.yaml")
        add_accounts(s, "acme", [{"id": "alice"}, {"id": "bob"}])
    return settings


def _import(settings, path: Path, profile=WHOLESALE):
    with session(settings.db_url) as s:
        return import_usage(
            path,
            profile,
            raw_root=settings.raw,
            quarantine_dir=settings.quarantine,
            session=s,
            now=NOW,
        )


def test_a_file_with_no_good_row_is_not_recorded_as_imported(store, tmp_path):
    path = tmp_path / "partner.csv"
    path.write_text(HEADER + "carol,2026-08-03T10:00:00Z,1,2,3\n")
    first = _import(store, path)
    assert (first.landed, first.landed_at, [r.line for r in first.rejected]) == (0, None, [2])
    assert landed_batches("upstream_csv", store.raw) == set()
    with session(store.db_url) as s:
        add_accounts(s, "acme", [{"id": "carol"}])
    again = _import(store, path)
    assert (again.landed, again.rejected, again.landed_at) == (1, [], None)


def test_a_quarantine_once_corrected_imports_with_the_same_profile(store, tmp_path):
    path = tmp_path / "partner.csv"
    path.write_text(
        HEADER + "alice,2026-08-03T10:00:00Z,1,2,3\n" + '"carol",2026-08-03T11:00:00Z,4,5,6\n'
    )
    result = _import(store, path)
    assert result.quarantine == store.quarantine / f"partner-{result.batch_id}.csv"
    quarantined = result.quarantine.read_text()
    assert quarantined == (
        HEADER.rstrip("\n")
        + ",jet_line,jet_reasons\n"
        + '"carol",2026-08-03T11:00:00Z,4,5,6,3,"account_id: \'carol\' is not an account in '
        'Jet (add it, then import the quarantine)"\n'
    )
    with session(store.db_url) as s:
        add_accounts(s, "acme", [{"id": "carol"}])
    fixed = _import(store, result.quarantine)
    assert (fixed.landed, fixed.rejected) == (1, [])


def test_the_same_file_with_another_profile_is_refused(store, tmp_path):
    path = tmp_path / "partner.csv"
    path.write_text(HEADER + "alice,2026-08-03T10:00:00Z,1,2,3\n")
    first = _import(store, path)
    assert first.landed == 1
    in_kb = WHOLESALE.model_copy(
        update={"bytes": WHOLESALE.bytes.model_copy(update={"unit": "KB"})}
    )
    with pytest.raises(UsageFileError, match="already imported with another profile"):
        _import(store, path, in_kb)
    assert landed_batches("upstream_csv", store.raw) == {first.batch_id}
