"""Which sessions a Disconnect or CoA goes to: those int_radius_sessions would leave open
(no Stop, no restart of its NAS since it started, heard of within the timeout), the one
seen last first, found from the recent date partitions only."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from ingest.landing import land
from ingest.radius.open_sessions import open_sessions, session_timeout
from schemas.raw import RADIUS

T0 = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
NOW = T0 + timedelta(hours=1)
TIMEOUT = session_timeout()  # dbt_project.yml's radius_session_timeout_hours
DAY = 24 * 60  # minutes
BRAS_1, BRAS_2 = "10.0.0.1", "10.0.0.2"


def record(status: str, minute: int, user: str = "alice@acme", sid: str = "s1", **more):
    nas = more.pop("nas", BRAS_1)
    return {
        "status_type": status,
        "event_time": T0 + timedelta(minutes=minute),
        "received_at": T0 + timedelta(minutes=minute),
        "user_name": user,
        "acct_session_id": sid,
        "nas_ip": _int(nas),
        "source_ip": _int(nas),
        **more,
    }


def lake(tmp_path: Path, *records: dict) -> Path:
    for i, row in enumerate(records):  # a batch each: the lookup reads across files
        land("radius", pa.Table.from_pylist([row], schema=RADIUS), f"b{i}", tmp_path)
    return tmp_path / "radius"


def found(radius: Path, account: str = "alice", now: datetime = NOW) -> list[tuple[str, str]]:
    return [(s.acct_session_id, s.nas_address) for s in open_sessions(radius, account, now=now)]


def test_nothing_landed_is_no_session(tmp_path: Path) -> None:
    assert open_sessions(tmp_path / "radius", "alice", now=NOW) == []


def test_concurrent_sessions_on_two_nas_newest_first(tmp_path: Path) -> None:
    radius = lake(
        tmp_path,
        record("Start", 0, sid="phone", nas=BRAS_2),
        record("Start", 5, sid="laptop"),
        record("Interim-Update", 10, sid="phone", nas=BRAS_2),
    )
    assert found(radius) == [("phone", BRAS_2), ("laptop", BRAS_1)]
    closed = lake(
        tmp_path / "closed",
        record("Start", 0, sid="phone", nas=BRAS_2),
        record("Start", 5, sid="laptop"),
        record("Stop", 10, sid="phone", nas=BRAS_2),
    )
    assert found(closed) == [("laptop", BRAS_1)]


def test_the_open_sessions_of_the_account(tmp_path: Path) -> None:
    radius = lake(
        tmp_path,
        record("Start", 0, sid="old"),
        record("Stop", 5, sid="old"),
        record("Start", 10, sid="s1", framed_ip=_int("100.64.0.7")),
        record("Interim-Update", 20, sid="s1"),
        record("Start", 30, user="bob@acme", sid="b1"),
        record("Start", 15, user="alice", sid="s2", nas=BRAS_2),  # no realm: still alice
    )
    session, other = open_sessions(radius, "alice", now=NOW)
    assert (session.acct_session_id, session.nas_address) == ("s1", BRAS_1)
    assert (other.acct_session_id, other.nas_address) == ("s2", BRAS_2)
    assert session.last_seen == T0 + timedelta(minutes=20)
    assert session.attributes() == [
        ("User-Name", "alice@acme"),
        ("Acct-Session-Id", "s1"),
        ("NAS-IP-Address", BRAS_1),
    ]  # the Interim-Update had no Framed-IP-Address
    assert found(radius, "bob") == [("b1", BRAS_1)]
    assert found(radius, "ali") == []


def test_a_stop_closes_only_its_own_nas_session(tmp_path: Path) -> None:
    radius = lake(
        tmp_path,
        record("Start", 0, sid="s1"),
        record("Start", 1, sid="s1", nas=BRAS_2),
        record("Stop", 2, sid="s1", nas=BRAS_2),
    )
    assert found(radius) == [("s1", BRAS_1)]


def test_accounting_on_or_off_ends_what_the_nas_held(tmp_path: Path) -> None:
    radius = lake(
        tmp_path,
        record("Start", 0, sid="s1"),
        record("Accounting-On", 5, user=None, sid=None),
    )
    assert found(radius) == []
    radius = lake(
        tmp_path / "later",
        record("Accounting-Off", 5, user=None, sid=None, nas=BRAS_2),  # another NAS
        record("Start", 0, sid="s1"),
        record("Accounting-On", 6, user=None, sid=None),
        record("Start", 7, sid="s2"),  # after the restart
    )
    assert found(radius) == [("s2", BRAS_1)]


def test_the_nas_is_its_nas_ip_and_the_client_the_source(tmp_path: Path) -> None:
    radius = lake(
        tmp_path,
        record("Start", 0, sid="s1", source_ip=_int("192.0.2.9")),  # behind NAT
        record("Start", 1, user="bob", sid="b1", nas_ip=None),
    )
    [session] = open_sessions(radius, "alice", now=NOW)
    assert (session.nas_address, session.client_address) == (BRAS_1, "192.0.2.9")
    [bob] = open_sessions(radius, "bob", now=NOW)
    assert (bob.nas_address, bob.client_address) == (BRAS_1, BRAS_1)


def test_the_account_is_the_user_name_before_its_first_at(tmp_path: Path) -> None:
    radius = lake(tmp_path, record("Start", 0, user="alice@home@acme"))
    assert found(radius, "alice") == [("s1", BRAS_1)]
    assert found(radius, "alice@home") == []
    assert found(radius, "") == []  # what '@acme' would be: no account


def test_a_nas_restart_after_the_start_ends_records_that_come_later(tmp_path: Path) -> None:
    radius = lake(
        tmp_path,
        record("Start", 0, sid="s1"),
        record("Accounting-On", 5, user=None, sid=None),
        record("Interim-Update", 10, sid="s1", session_time=600),
    )
    assert found(radius) == []
    # a lost Start: the start is the Interim-Update's time less its Acct-Session-Time
    lost_start = record("Interim-Update", 10, sid="s1", session_time=600)  # minute 0
    on = record("Accounting-On", 5, user=None, sid=None)
    assert found(lake(tmp_path / "lost", on, lost_start)) == []
    later_start = record("Interim-Update", 10, sid="s1", session_time=240)  # minute 6
    assert found(lake(tmp_path / "later", on, later_start)) == [("s1", BRAS_1)]


def test_a_resent_nas_restart_counts_once_as_landed_first(tmp_path: Path) -> None:
    packet = {"packet_id": 7, "authenticator": bytes(16)}
    radius = lake(
        tmp_path,
        record("Accounting-On", 5, user=None, sid=None, **packet),
        record("Start", 6, sid="s1"),
        record("Accounting-On", 8, user=None, sid=None, **packet),  # landed again later
    )
    assert found(radius) == [("s1", BRAS_1)]


def test_a_session_silent_past_the_timeout_has_ended(tmp_path: Path) -> None:
    radius = lake(tmp_path, record("Start", 0, sid="s1"))
    assert found(radius, now=T0 + TIMEOUT) == [("s1", BRAS_1)]
    assert found(radius, now=T0 + TIMEOUT + timedelta(seconds=1)) == []


def test_a_long_session_ends_at_a_restart_before_the_recent_partitions(tmp_path: Path) -> None:
    def session(*between: dict) -> list[dict]:
        return [
            record("Start", -10 * DAY, sid="s1"),  # 2026-09-21
            record("Interim-Update", -9 * DAY, sid="s1", session_time=DAY * 60),
            *between,
            record("Interim-Update", 0, sid="s1", session_time=10 * DAY * 60),
        ]

    restart = record("Accounting-On", -5 * DAY, user=None, sid=None)
    assert found(lake(tmp_path / "restarted", *session(restart))) == []
    earlier = record("Accounting-On", -12 * DAY, user=None, sid=None)  # before it started
    other = record("Accounting-Off", -5 * DAY, user=None, sid=None, nas=BRAS_2)
    assert found(lake(tmp_path / "held", earlier, *session(other))) == [("s1", BRAS_1)]


def test_only_the_recent_partitions_are_read(tmp_path: Path) -> None:
    radius = lake(tmp_path, record("Start", 0, sid="s1"))
    for junk in ["date=2026-09-29/b0.parquet", "_tmp/b1.parquet", "date=x/b2.parquet"]:
        (radius / junk).parent.mkdir(exist_ok=True)
        (radius / junk).write_bytes(b"not parquet")
    # NOW less the timeout is on 2026-09-30: the unreadable 2026-09-29 file is not read
    assert found(radius) == [("s1", BRAS_1)]
    with pytest.raises(duckdb.Error):  # as it is once the window reaches back to it
        found(radius, now=NOW - timedelta(days=1))


def _int(address: str) -> int:
    return int(ipaddress.IPv4Address(address))
