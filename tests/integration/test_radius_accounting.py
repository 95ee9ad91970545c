"""`jet radius serve` as it runs in production, against FreeRADIUS's radclient and a pyrad
client: what a NAS sends lands field by field, bad packets are dropped and counted, and a
server killed with SIGKILL has lost nothing it answered and shows nothing twice."""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import deque
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from pyrad.packet import AcctPacket

from ingest.landing import recover
from ingest.radius.accounting import DICTIONARY
from jet.catalog import load_catalog_file
from jet.config import PROJECT_ROOT, Settings
from jet.nas import add_nas_client
from jet.realms import store_catalog
from jet.store.db import session
from tests.peers.processes import start, stop

pytestmark = pytest.mark.integration
needs_radclient = pytest.mark.skipif(
    shutil.which("radclient") is None, reason="needs radclient (Debian freeradius-utils)"
)

SECRET = "s3cret-acct"
CATALOG = PROJECT_ROOT / "examples" / "catalogs" / "acme.yaml"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A JET_HOME with the realm acme and the NAS client 127.0.0.1."""
    settings = Settings(home=tmp_path / "home", database_url=None)
    with session(settings.db_url) as s:
        store_catalog(s, load_catalog_file(CATALOG), str(CATALOG))
        add_nas_client(s, "127.0.0.1", SECRET, "acme", "loopback")
    return settings.root


class Server:
    """`jet radius serve` in a subprocess on a free loopback port, logging to a file."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.log = home / "radius.log"
        env = {**os.environ, "JET_HOME": str(home)}
        env.pop("JET_DATABASE_URL", None)
        self.proc = start(
            [sys.executable, "-m", "jet.cli", "radius", "serve"]
            + ["--host", "127.0.0.1", "--acct-port", "0", "--auth-port", "0"],
            env=env,
            cwd=PROJECT_ROOT,
            stdout=subprocess.DEVNULL,
            stderr=self.log.open("w"),
        )
        deadline = time.monotonic() + 60
        # Both lines from one read: the accounting line comes first, and the other may not
        # be written yet when it is seen (a big home's logins take a while to load).
        both = re.compile(
            r"accounting listening on 127\.0\.0\.1:(\d+).*"
            r"authentication listening on 127\.0\.0\.1:(\d+)",
            re.DOTALL,
        )
        while not (found := both.search(self.log.read_text())):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                stop(self.proc)
                raise AssertionError(f"the server did not start:\n{self.log.read_text()}")
            time.sleep(0.05)
        self.port, self.auth_port = int(found.group(1)), int(found.group(2))

    def stop(self) -> dict[str, int]:
        """SIGTERM, and the counters of its last log line."""
        assert stop(self.proc) == 0, self.log.read_text()
        line = re.findall(r"stopped: (.*)", self.log.read_text())[-1]
        return {name: int(n) for name, n in (pair.split("=") for pair in line.split())}


@pytest.fixture
def servers():
    """Start servers with `servers(home)`; any still running at the end are killed."""
    started: list[Server] = []

    def begin(home: Path) -> Server:
        started.append(Server(home))
        return started[-1]

    yield begin
    for server in started:
        stop(server.proc)


def radclient(port: int, packets: list[str], secret: str = SECRET, command: str = "acct"):
    """Send the packets (radclient's attribute lists) one after another; `-r 1 -t 1` so a
    packet that gets no answer fails in a second."""
    return subprocess.run(
        ["radclient", "-x", "-r", "1", "-t", "1", f"127.0.0.1:{port}", command, secret],
        input="\n".join(packets),
        capture_output=True,
        text=True,
        timeout=60,
    )


def lake(home: Path, sql: str) -> list[tuple]:
    """`sql` over the landed RADIUS rows, as the view `radius`."""
    con = duckdb.connect()
    glob = home / "lake" / "raw" / "radius" / "date=*" / "*.parquet"
    con.execute(f"create view radius as select * from read_parquet('{glob}')")
    return con.execute(sql).fetchall()


def ip(text: str) -> int:
    return int.from_bytes(socket.inet_aton(text), "big")


def utc(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


START = """\
Acct-Status-Type = Start
User-Name = "alice@acme"
Acct-Session-Id = "sess-A"
NAS-IP-Address = 10.0.0.1
NAS-Identifier = "bras-akl-1"
NAS-Port = 7
Framed-IP-Address = 100.96.1.2
Called-Station-Id = "00-11-22-33-44-55:acme-wifi"
Calling-Station-Id = "AA-BB-CC-DD-EE-FF"
Event-Timestamp = 1790000000
Cisco-AVPair = "client-mac-address=aabb.ccdd.eeff"
Class = 0x61636d65
Message-Authenticator = 0x00
"""
INTERIM = """\
Acct-Status-Type = Interim-Update
User-Name = "alice@acme"
Acct-Session-Id = "sess-A"
NAS-IP-Address = 10.0.0.1
NAS-Identifier = "bras-akl-1"
Framed-IP-Address = 100.96.1.2
Acct-Input-Octets = 1000
Acct-Input-Gigawords = 1
Acct-Output-Octets = 500000
Acct-Output-Gigawords = 3
Acct-Input-Packets = 10
Acct-Output-Packets = 400
Acct-Session-Time = 600
Acct-Delay-Time = 2
Cisco-AVPair = "subscriber:sub-qos-policy-in=1M"
Cisco-AVPair = "connect-progress=LAN Ses Up"
Cisco-Account-Info = "S100.96.1.2"
Cisco-Service-Info = "NInternet"
"""
STOP = """\
Acct-Status-Type = Stop
User-Name = "alice@acme"
Acct-Session-Id = "sess-A"
NAS-IP-Address = 10.0.0.1
NAS-Identifier = "bras-akl-1"
Framed-IP-Address = 100.96.1.2
Acct-Input-Octets = 4294967295
Acct-Input-Gigawords = 2
Acct-Output-Octets = 7
Acct-Session-Time = 3600
Acct-Terminate-Cause = User-Request
Event-Timestamp = 1790003600
WISPr-Location-Name = "Harbour Cafe"
"""
ACCOUNTING_ON = """\
Acct-Status-Type = Accounting-On
NAS-IP-Address = 10.0.0.1
NAS-Identifier = "bras-akl-1"
Event-Timestamp = 1789990000
"""


@needs_radclient
def test_radclient_records_land_field_by_field(home: Path, servers) -> None:
    server = servers(home)
    sent = radclient(server.port, [ACCOUNTING_ON, START, INTERIM, STOP])
    assert sent.returncode == 0, sent.stdout + sent.stderr
    assert sent.stdout.count("Received Accounting-Response") == 4
    # answered means landed: the rows are readable before the server stops
    assert lake(home, "select count(*) from radius") == [(4,)]
    assert server.stop() == {
        "received": 4,
        "landed": 4,
        "responded": 4,
        "resent": 0,
        "batches": 4,  # radclient waits for each answer before it sends the next
        "land_failures": 0,
        "status_server": 0,
        "dropped": 0,
    }

    columns = (
        "status_type, event_time, received_at, user_name, acct_session_id, nas_ip, "
        "nas_identifier, nas_port, framed_ip, input_octets, output_octets, input_packets, "
        "output_packets, session_time, delay_time, called_station_id, calling_station_id, "
        "class, terminate_cause, cisco_avpairs, ssg_account_info, ssg_service_info, "
        "source_ip, packet_id, octet_length(authenticator), _batch_id"
    )
    names = [c.strip() for c in columns.split(",")]
    records = [
        dict(zip(names, row, strict=True))
        for row in lake(home, f"select {columns} from radius order by received_at")
    ]
    on, start, interim, stop = records

    assert on["status_type"] == "Accounting-On" and on["event_time"] == utc(1789990000)
    assert on["user_name"] is None and on["acct_session_id"] is None
    assert on["nas_ip"] == ip("10.0.0.1") and on["nas_identifier"] == "bras-akl-1"

    assert start == start | {
        "status_type": "Start",
        "event_time": utc(1790000000),
        "user_name": "alice@acme",
        "acct_session_id": "sess-A",
        "nas_ip": ip("10.0.0.1"),
        "nas_port": 7,
        "framed_ip": ip("100.96.1.2"),
        "input_octets": None,
        "output_octets": None,
        "called_station_id": "00-11-22-33-44-55:acme-wifi",
        "calling_station_id": "AA-BB-CC-DD-EE-FF",
        "class": "61636d65",
        "cisco_avpairs": ["client-mac-address=aabb.ccdd.eeff"],
        "terminate_cause": None,
    }
    assert interim == interim | {
        "status_type": "Interim-Update",
        "event_time": interim["received_at"] - timedelta(seconds=2),  # Acct-Delay-Time
        "input_octets": 2**32 + 1000,
        "output_octets": 3 * 2**32 + 500000,
        "input_packets": 10,
        "output_packets": 400,
        "session_time": 600,
        "delay_time": 2,
        "cisco_avpairs": ["subscriber:sub-qos-policy-in=1M", "connect-progress=LAN Ses Up"],
        "ssg_account_info": "S100.96.1.2",
        "ssg_service_info": "NInternet",
    }
    assert abs(interim["received_at"] - datetime.now(UTC)) < timedelta(minutes=5)
    assert stop == stop | {
        "status_type": "Stop",
        "event_time": utc(1790003600),
        "input_octets": 3 * 2**32 - 1,
        "output_octets": 7,
        "session_time": 3600,
        "terminate_cause": "User-Request",
        "cisco_avpairs": None,
    }
    packet_ids = [int(n) for n in re.findall(r"Sent Accounting-Request Id (\d+)", sent.stdout)]
    assert [r["packet_id"] for r in records] == packet_ids
    assert {(r["source_ip"], r["octet_length(authenticator)"]) for r in records} == {
        (ip("127.0.0.1"), 16)
    }
    batch_ids = [r["_batch_id"] for r in records]
    assert batch_ids == sorted(set(batch_ids))  # one per batch, growing as they landed


@needs_radclient
def test_bad_packets_are_dropped_counted_and_the_server_keeps_answering(
    home: Path, servers
) -> None:
    server = servers(home)
    wrong = radclient(server.port, [START], secret="not-the-secret")
    assert wrong.returncode != 0 and "No reply" in wrong.stdout + wrong.stderr

    rng = random.Random(1813)
    good = AcctPacket(dict=DICTIONARY, secret=SECRET.encode(), id=1)
    good.AddAttribute("Acct-Status-Type", "Start")
    good.AddAttribute("User-Name", "bob@acme")
    valid = good.RequestPacket()
    garbage = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for i in range(3000):
        if i % 3 == 0:
            data = rng.randbytes(rng.randint(0, 200))
        else:  # a real request with a few octets changed: fails its authenticator
            data = bytearray(valid)
            for _ in range(rng.randint(1, 3)):
                data[rng.randrange(len(data))] ^= rng.randrange(1, 256)
            data = bytes(data)
        garbage.sendto(data, ("127.0.0.1", server.port))
    stranger = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    stranger.bind(("127.0.0.2", 0))  # loopback too, but not a NAS client
    stranger.sendto(valid, ("127.0.0.1", server.port))

    answered = radclient(server.port, [START])
    assert answered.returncode == 0, answered.stdout + answered.stderr
    counters = server.stop()
    assert counters["landed"] == counters["responded"] == 1
    assert counters["dropped_bad_authenticator"] >= 1 + 1000
    assert counters["dropped_unknown_client"] == 1
    assert counters["received"] == 1 + 3000 + 1 + 1
    assert counters["dropped"] == counters["received"] - 1
    assert lake(home, "select acct_session_id from radius") == [("sess-A",)]
    log = server.log.read_text()
    assert "dropped a packet from 127.0.0.2" in log and "unknown_client" in log


@needs_radclient
def test_status_server_is_answered_on_both_ports(home: Path, servers) -> None:
    """RFC 5997: radclient's Status-Server, signed with a Message-Authenticator, gets an
    Accounting-Response on the accounting port and an Access-Accept on the authentication
    port; one signed with another secret gets nothing. Counted, never landed."""
    server = servers(home)
    status = ["Message-Authenticator = 0x00"]
    on_acct = radclient(server.port, status, command="status")
    assert on_acct.returncode == 0, on_acct.stdout + on_acct.stderr
    assert "Received Accounting-Response" in on_acct.stdout
    on_auth = radclient(server.auth_port, status, command="status")
    assert on_auth.returncode == 0, on_auth.stdout + on_auth.stderr
    assert "Received Access-Accept" in on_auth.stdout
    forged = radclient(server.port, status, secret="not-the-secret", command="status")
    assert forged.returncode != 0 and "No reply" in forged.stdout + forged.stderr

    counters = server.stop()
    assert counters["status_server"] == 1 and counters["landed"] == 0
    assert counters["dropped_bad_message_authenticator"] == 1
    auth = re.findall(r"auth totals: .*status_server=(\d+)", server.log.read_text())
    assert auth == ["1"]
    assert not (home / "lake" / "raw" / "radius" / "_manifests").exists()


def test_sigkill_loses_nothing_that_was_answered(home: Path, servers) -> None:
    """A pyrad client keeps 200 requests in flight; the server is SIGKILLed after 1500
    answers. Every answered request is in the lake, no request is in it twice, and after
    recover() only acknowledged files are left."""
    server = servers(home)
    secret, total, window = SECRET.encode(), 5000, 200
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.setblocking(False)
    free_ids = deque(range(256))
    in_flight: dict[int, tuple[str, bytes]] = {}  # id -> (session id, request authenticator)
    answered: set[str] = set()
    sent = 0
    killed_at = None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        while killed_at is None and sent < total and len(in_flight) < window:
            packet_id = free_ids.popleft()
            pkt = AcctPacket(dict=DICTIONARY, secret=secret, id=packet_id)
            pkt.AddAttribute("Acct-Status-Type", "Interim-Update")
            pkt.AddAttribute("User-Name", f"user{sent % 97}@acme")
            pkt.AddAttribute("Acct-Session-Id", f"kill-{sent:05d}")
            pkt.AddAttribute("Acct-Input-Octets", sent)
            data = pkt.RequestPacket()
            sock.sendto(data, ("127.0.0.1", server.port))
            in_flight[packet_id] = (f"kill-{sent:05d}", data[4:20])
            sent += 1
        select.select([sock], [], [], 0.05)
        while True:
            try:
                reply = sock.recv(4096)
            except BlockingIOError:
                break
            session_id, request_auth = in_flight.pop(reply[1])
            expected = hashlib.md5(reply[:4] + request_auth + reply[20:] + secret).digest()
            assert reply[0] == 5 and reply[4:20] == expected
            answered.add(session_id)
            free_ids.append(reply[1])
        if killed_at is None and len(answered) >= 1500:
            server.proc.send_signal(signal.SIGKILL)
            server.proc.wait()
            killed_at = time.monotonic()
        if killed_at is not None and time.monotonic() - killed_at > 1:
            break  # answers sent before the kill have arrived by now
    assert killed_at is not None, f"only {len(answered)} answers"
    assert len(answered) < total

    raw = home / "lake" / "raw"
    recover(raw)
    landed = lake(home, "select acct_session_id, count(*) from radius group by 1")
    assert all(n == 1 for _, n in landed), "a request landed twice"
    assert answered <= {session_id for session_id, _ in landed}, "an answered request is lost"
    manifests = list((raw / "radius" / "_manifests").glob("*.json"))
    acknowledged = {
        entry["path"] for m in manifests for entry in json.loads(m.read_text())["files"]
    }
    visible = {p.relative_to(raw / "radius").as_posix() for p in raw.glob("radius/date=*/*")}
    assert visible == acknowledged
    assert not any((raw / "radius" / "_tmp").glob("*"))
