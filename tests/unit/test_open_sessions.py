"""Which session a Disconnect or CoA goes to: the user's latest Start or Interim-Update
whose session has no Stop and whose NAS has not restarted since."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa

from ingest.landing import land
from ingest.radius.open_sessions import open_session
from schemas.raw import RADIUS

T0 = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
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


def found(radius: Path, account: str = "alice") -> tuple[str, str] | None:
    session = open_session(radius, account)
    return None if session is None else (session.acct_session_id, session.nas_address)


def test_nothing_landed_is_no_session(tmp_path: Path) -> None:
    assert open_session(tmp_path / "radius", "alice") is None


def test_the_latest_open_session_of_the_account(tmp_path: Path) -> None:
    radius = lake(
        tmp_path,
        record("Start", 0, sid="old"),
        record("Stop", 5, sid="old"),
        record("Start", 10, sid="s1", framed_ip=_int("100.64.0.7")),
        record("Interim-Update", 20, sid="s1"),
        record("Start", 30, user="bob@acme", sid="b1"),
        record("Start", 15, user="alice", sid="s2", nas=BRAS_2),  # no realm: still alice
    )
    session = open_session(radius, "alice")
    assert session is not None
    assert (session.acct_session_id, session.nas_address) == ("s1", BRAS_1)
    assert session.last_seen == T0 + timedelta(minutes=20)
    assert session.attributes() == [
        ("User-Name", "alice@acme"),
        ("Acct-Session-Id", "s1"),
        ("NAS-IP-Address", BRAS_1),
    ]  # the Interim-Update had no Framed-IP-Address
    assert found(radius, "bob") == ("b1", BRAS_1)
    assert found(radius, "ali") is None


def test_a_stop_closes_only_its_own_nas_session(tmp_path: Path) -> None:
    radius = lake(
        tmp_path,
        record("Start", 0, sid="s1"),
        record("Start", 1, sid="s1", nas=BRAS_2),
        record("Stop", 2, sid="s1", nas=BRAS_2),
    )
    assert found(radius) == ("s1", BRAS_1)


def test_accounting_on_or_off_ends_what_the_nas_held(tmp_path: Path) -> None:
    radius = lake(
        tmp_path,
        record("Start", 0, sid="s1"),
        record("Accounting-On", 5, user=None, sid=None),
    )
    assert found(radius) is None
    radius = lake(
        tmp_path / "later",
        record("Accounting-Off", 5, user=None, sid=None, nas=BRAS_2),  # another NAS
        record("Start", 0, sid="s1"),
        record("Accounting-On", 6, user=None, sid=None),
        record("Start", 7, sid="s2"),  # after the restart
    )
    assert found(radius) == ("s2", BRAS_1)


def test_the_nas_is_its_nas_ip_and_the_client_the_source(tmp_path: Path) -> None:
    radius = lake(
        tmp_path,
        record("Start", 0, sid="s1", source_ip=_int("192.0.2.9")),  # behind NAT
        record("Start", 1, user="bob", sid="b1", nas_ip=None),
    )
    session = open_session(radius, "alice")
    assert session is not None
    assert (session.nas_address, session.client_address) == (BRAS_1, "192.0.2.9")
    bob = open_session(radius, "bob")
    assert bob is not None and (bob.nas_address, bob.client_address) == (BRAS_1, BRAS_1)


def _int(address: str) -> int:
    return int(ipaddress.IPv4Address(address))
