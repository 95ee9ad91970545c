"""RADIUS sessions end to end: accounting sent with radclient to `jet radius serve`, one
request landed twice (as after a crash between landing and answering), then dbt: sessions
that end by Stop, NAS restart and timeout, and connect time billed in the cycle each part
of a session fell in."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from ingest.landing import land
from jet.accounts import add_accounts, subscribe
from jet.catalog import load_catalog_file
from jet.config import Settings
from jet.drafts import draft_invoices
from jet.nas import add_nas_client
from jet.realms import store_catalog
from jet.store.db import session
from jet.warehouse import marts, rate
from schemas.raw import RADIUS
from tests.integration.test_radius_accounting import (
    CATALOG,
    SECRET,
    Server,
    ip,
    needs_radclient,
    radclient,
)

pytestmark = pytest.mark.integration


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def request(status: str, when: str, nas: str, user: str | None = None, **attributes) -> str:
    """radclient's attribute list for one Accounting-Request, dated by Event-Timestamp."""
    lines = [
        f"Acct-Status-Type = {status}",
        f"NAS-IP-Address = {nas}",
        f"Event-Timestamp = {int(at(when).timestamp())}",
    ]
    if user:
        lines.append(f'User-Name = "{user}"')
    lines += [f"{name.replace('_', '-')} = {value}" for name, value in attributes.items()]
    return "\n".join(lines) + "\n"


def alice(status: str, when: str, **counters) -> str:
    return request(
        status,
        when,
        "10.0.0.1",
        "alice@acme",
        Acct_Session_Id='"sess-A"',
        Framed_IP_Address="100.96.1.2",
        **counters,
    )


def bob(status: str, when: str, **counters) -> str:
    return request(status, when, "10.0.0.1", "bob@acme", Acct_Session_Id='"sess-B"', **counters)


def carol(status: str, when: str, **counters) -> str:
    return request(status, when, "10.0.0.3", "carol", Acct_Session_Id='"sess-C"', **counters)


PACKETS = [
    request("Accounting-On", "2026-01-31 20:00", "10.0.0.1"),  # before every session
    # alice: 23:00 to 01:00 across the bill date 2026-02-01; Gigawords make 64-bit counters
    alice("Start", "2026-01-31 23:00"),
    alice(
        "Interim-Update",
        "2026-01-31 23:45",
        Acct_Session_Time=2700,
        Acct_Output_Gigawords=1,
        Acct_Output_Octets=500000000,
    ),
    alice(
        "Stop",
        "2026-02-01 01:00",
        Acct_Session_Time=7200,
        Acct_Output_Gigawords=2,
        Acct_Output_Octets=0,
        Acct_Terminate_Cause="User-Request",
    ),
    # bob: his NAS restarts at 09:30; an Interim-Update dated after that carries on
    bob("Start", "2026-02-10 08:00"),
    bob("Interim-Update", "2026-02-10 09:00", Acct_Session_Time=3600, Acct_Output_Octets=1000),
    request("Accounting-On", "2026-02-10 09:30", "10.0.0.1"),
    bob("Interim-Update", "2026-02-10 09:40", Acct_Session_Time=4200, Acct_Output_Octets=1500),
    # carol (no realm in her name): never stops, last heard of on 02-20 11:00
    carol("Start", "2026-02-20 10:00"),
    carol("Interim-Update", "2026-02-20 11:00", Acct_Session_Time=3600, Acct_Input_Octets=99),
]


@pytest.fixture
def acme(settings: Settings) -> Settings:
    """Realm acme, the NAS client 127.0.0.1, and alice, bob and carol on the hotspot plan
    (connect time at 2.50 an hour) from 2026-01-01."""
    with session(settings.db_url) as s:
        store_catalog(s, load_catalog_file(CATALOG), str(CATALOG))
        add_nas_client(s, "127.0.0.1", SECRET, "acme", "loopback")
        add_accounts(s, "acme", [{"id": "alice"}, {"id": "bob"}, {"id": "carol"}])
        for account in ("alice", "bob", "carol"):
            subscribe(s, account, "hotspot", date(2026, 1, 1))
    return settings


def land_again(settings: Settings, status: str, session_id: str, later_by_seconds: int) -> None:
    """Land a copy of a landed request in a batch of its own, received `later_by_seconds`
    later, as a resend is when the server crashed before answering it; dated by its receipt
    too, as a request without Event-Timestamp would be."""
    landed = pq.read_table(settings.raw / "radius", schema=RADIUS, partitioning=None)
    found = landed.filter(
        pc.and_(
            pc.equal(landed["status_type"], status),
            pc.equal(landed["acct_session_id"], session_id),
        )
    )
    assert found.num_rows == 1
    for column in ("event_time", "received_at"):
        moved = pc.add(found[column], pa.scalar(later_by_seconds * 1_000_000, pa.duration("us")))
        found = found.set_column(found.schema.get_field_index(column), column, moved)
    land("radius", found, "radius-resent-after-crash", settings.raw)


@pytest.fixture
def server(acme: Settings):
    """`jet radius serve` for acme's home; killed at the end if the test did not stop it."""
    started = Server(acme.root)
    yield started
    if started.proc.poll() is None:
        started.proc.kill()
        started.proc.wait()


@needs_radclient
def test_sessions_close_and_bill_each_part_in_its_cycle(acme: Settings, server: Server) -> None:
    sent = radclient(server.port, PACKETS)
    assert sent.returncode == 0, sent.stdout + sent.stderr
    assert server.stop()["landed"] == len(PACKETS)
    # alice's Interim-Update again, received after her Stop: were it kept, its counters,
    # lower than the Stop's, would look like a reset and bill her 45 minutes twice
    land_again(acme, "Interim-Update", "sess-A", later_by_seconds=2 * 3600)

    rate(acme, "2026-03-01", "build")  # with every data test and unit test

    con = marts(acme)
    sessions = con.execute(
        "select user_name, account_id, realm_id, nas_ip, acct_session_id, framed_ip, "
        "started_at, ended_at, end_reason, last_seen_at, bytes_in, bytes_out, seconds, records "
        "from fct_radius_sessions order by started_at"
    ).fetchall()
    assert sessions == [
        (
            "alice@acme", "alice", "acme", ip("10.0.0.1"), "sess-A", ip("100.96.1.2"),
            at("2026-01-31 23:00"), at("2026-02-01 01:00"), "stop", at("2026-02-01 01:00"),
            2 * 2**32, 0, 7200, 3,
        ),
        (
            "bob@acme", "bob", "acme", ip("10.0.0.1"), "sess-B", None,
            at("2026-02-10 08:00"), at("2026-02-10 09:30"), "nas_reboot", at("2026-02-10 09:40"),
            1500, 0, 4200, 3,
        ),
        (
            "carol", "carol", "acme", ip("10.0.0.3"), "sess-C", None,
            at("2026-02-20 10:00"), at("2026-02-20 11:00"), "timeout", at("2026-02-20 11:00"),
            0, 99, 3600, 2,
        ),
    ]  # fmt: skip

    # usage is dated at each record: alice's Interim-Update in January, her Stop in February
    daily = con.execute(
        "select account_id, usage_date, bytes_in, seconds from fct_usage_daily "
        "where source = 'radius' order by all"
    ).fetchall()
    assert daily == [
        ("alice", date(2026, 1, 31), 2**32 + 500000000, 2700),
        ("alice", date(2026, 2, 1), 2**32 - 500000000, 4500),
        ("bob", date(2026, 2, 10), 1500, 4200),
        ("carol", date(2026, 2, 20), 0, 3600),
    ]
    con.close()

    # hotspot-time at 2.50 an hour: alice 0.75 h in January, 1.25 h in February; bob's
    # 70 minutes count once, the 10 after his NAS restarted included
    lines = {
        (invoice["bill_date"], line["account"]): (line["quantity"], line["amount"])
        for invoice in draft_invoices(acme, date(2026, 3, 1))
        for line in invoice["lines"]
        if line["kind"] == "duration"
    }
    assert lines == {
        ("2026-02-01", "alice"): ("0.75", "1.88"),
        ("2026-03-01", "alice"): ("1.25", "3.13"),
        ("2026-03-01", "bob"): ("1.166666667", "2.92"),
        ("2026-03-01", "carol"): ("1", "2.50"),
    }
