"""`jet radius serve` and `jet netflow serve` stop within 5 s of SIGTERM whatever they
are doing: starting (their landing process too), listening, sending a Disconnect to a
NAS that never answers, with the store locked by another writer, with a landing process
that hangs, or with requests and flows still arriving. Their landing process ends with
them."""

from __future__ import annotations

import ipaddress
import os
import re
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest

from ingest.landing import land
from ingest.radius.load import accounting_requests, run_load
from jet.accounts import add_accounts, subscribe, update_account
from jet.catalog import load_catalog_file
from jet.config import PROJECT_ROOT, Settings
from jet.nas import add_nas_client
from jet.ports import free_udp_port
from jet.realms import store_catalog
from jet.store.db import session
from jet.store.models import NasClient
from schemas.raw import RADIUS
from tests.peers.processes import children, running, wait_group_gone

pytestmark = pytest.mark.integration

BOUND = 5.0  # seconds from SIGTERM to the end of the process, the most allowed
SECRET = "s3cret-stop"


def radius_serve(home: Path, *extra: str):
    env = {**os.environ, "JET_HOME": str(home)}
    env.pop("JET_DATABASE_URL", None)
    log = home / "serve.log"
    return log, running(
        [sys.executable, "-m", "jet.cli", "radius", "serve", "--host", "127.0.0.1",
         "--acct-port", "0", "--auth-port", "0", *extra],
        env=env, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=log.open("w"),
    )  # fmt: skip


def wait_for(log: Path, text: str, proc: subprocess.Popen, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while text not in (found := log.read_text()):
        assert proc.poll() is None and time.monotonic() < deadline, found
        time.sleep(0.05)
    return found


def sigterm(proc: subprocess.Popen) -> tuple[int, float]:
    """SIGTERM; the exit code and the seconds it took (the test fails past BOUND + 5).
    Its children end with it (a second for a kill to land)."""
    began = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    code = proc.wait(timeout=BOUND + 5)
    seconds = time.monotonic() - began
    assert wait_group_gone(proc.pid, 1.0), "a child of the server outlived it"
    return code, seconds


def acct_port(log: str) -> int:
    """The accounting port `jet radius serve` logged."""
    return int(re.search(r"accounting listening on 127\.0\.0\.1:(\d+)", log).group(1))


def counters(log: str) -> dict[str, int]:
    """The accounting counters of the server's last line."""
    line = re.findall(r"stopped: (.*)", log)[-1]
    return {name: int(n) for name, n in (pair.split("=") for pair in line.split())}


@pytest.fixture
def home(settings: Settings) -> Path:
    """Realm acme, the NAS 127.0.0.1 (CoA port to be set by the test), alice on home."""
    with session(settings.db_url) as s:
        path = PROJECT_ROOT / "examples" / "catalogs" / "acme.yaml"
        store_catalog(s, load_catalog_file(path), str(path))
        add_nas_client(s, "127.0.0.1", SECRET, "acme", "test NAS", coa_port=free_udp_port())
        add_accounts(s, "acme", [{"id": "alice"}])
        subscribe(s, "alice", "home", datetime.now(UTC).date() - timedelta(days=30))
    return settings.root


@pytest.mark.parametrize("after", [0.0, 0.3, 1.0])
def test_radius_serve_stops_while_starting(home: Path, after: float) -> None:
    log, server = radius_serve(home)
    with server as proc:
        time.sleep(after)
        _, seconds = sigterm(proc)
    assert seconds < BOUND


def test_radius_serve_stops_while_its_landing_process_starts(home: Path) -> None:
    """Killed then, the server once left its landing process to run on for seconds."""
    log, server = radius_serve(home)
    with server as proc:
        deadline = time.monotonic() + 60
        while not children(proc.pid):
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.01)
        code, seconds = sigterm(proc)
    assert code == 0 and seconds < BOUND, log.read_text()


def test_radius_serve_stops_while_its_landing_process_hangs(home: Path) -> None:
    """Requests wait on a landing process that is frozen: the stop gives up at the bound,
    kills it and exits 1, unanswered (the NAS resends)."""
    log, server = radius_serve(home)
    with server as proc:
        port = acct_port(wait_for(log, "authentication listening", proc))
        [lander] = children(proc.pid)
        os.kill(lander, signal.SIGSTOP)
        requests = accounting_requests(20, SECRET.encode())
        sent = run_load(requests, SECRET.encode(), ("127.0.0.1", port), timeout=0.5, retries=0)
        code, seconds = sigterm(proc)
    assert sent.answered == 0 and code == 1 and seconds < BOUND, log.read_text()
    assert "the RADIUS server did not stop within 4 s" in log.read_text()


def test_radius_serve_stops_while_listening(home: Path) -> None:
    log, server = radius_serve(home)
    with server as proc:
        wait_for(log, "authentication listening", proc)
        code, seconds = sigterm(proc)
    assert code == 0 and seconds < BOUND, log.read_text()
    assert "stopped: " in log.read_text()


def test_radius_serve_stops_while_a_nas_does_not_answer(home: Path, settings: Settings) -> None:
    """A Disconnect is being sent to a NAS that never answers (3 tries, 3 s apart)."""
    silent = _disconnect_queued(settings)
    silent.settimeout(30)
    log, server = radius_serve(home, "--dispatch-every", "0.2")
    with server as proc:
        wait_for(log, "authentication listening", proc)
        silent.recv(4096)  # the first try is out: the dispatcher waits for an answer
        code, seconds = sigterm(proc)
    silent.close()
    assert code == 0 and seconds < BOUND, log.read_text()


def test_radius_serve_stops_while_the_store_is_locked(home: Path, settings: Settings) -> None:
    """Another writer holds the store from before the start: the Disconnect that is due
    waits on the lock, so nothing reaches the NAS, while the logins are reloaded."""
    silent = _disconnect_queued(settings)
    writer = sqlite3.connect(home / "jet.db", timeout=10)
    writer.execute("BEGIN EXCLUSIVE")
    try:
        log, server = radius_serve(home, "--dispatch-every", "0.2", "--auth-refresh", "0.2")
        with server as proc:
            wait_for(log, "authentication listening", proc)
            time.sleep(1.0)
            code, seconds = sigterm(proc)
    finally:
        writer.rollback()
        writer.close()
    silent.setblocking(False)
    with pytest.raises(BlockingIOError):
        silent.recv(4096)  # the dispatcher was held by the lock, not by the NAS
    silent.close()
    assert code == 0 and seconds < BOUND, log.read_text()


def test_radius_serve_stops_while_accounting_arrives(home: Path) -> None:
    """A NAS keeps sending; the server lands and answers what it has, then stops."""
    requests = accounting_requests(100_000, SECRET.encode())
    log, server = radius_serve(home)
    with server as proc:
        port = acct_port(wait_for(log, "authentication listening", proc))
        sender = threading.Thread(
            target=run_load,
            args=(requests, SECRET.encode(), ("127.0.0.1", port)),
            kwargs={"timeout": 0.5, "retries": 0},
            daemon=True,
        )
        sender.start()
        time.sleep(1.5)
        code, seconds = sigterm(proc)
    assert code == 0 and seconds < BOUND, log.read_text()
    done = counters(log.read_text())  # every request taken was landed, and answered
    assert done["landed"] > 0 and done["land_failures"] == 0
    assert done["landed"] == done["received"] - done["dropped"] - done["resent"]
    assert done["responded"] >= done["landed"]


def netflow_serve(home: Path, port: int):
    env = {**os.environ, "JET_HOME": str(home)}
    log = home / "netflow.log"
    return log, running(
        [sys.executable, "-m", "jet.cli", "netflow", "serve", "--host", "127.0.0.1",
         "--port", str(port), "--batch-seconds", "0.2"],
        env=env, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=log.open("w"),
    )  # fmt: skip


@pytest.mark.parametrize("after", [0.0, 0.5])
def test_netflow_serve_stops_while_starting(settings: Settings, after: float) -> None:
    log, server = netflow_serve(settings.root, free_udp_port())
    with server as proc:
        time.sleep(after)
        _, seconds = sigterm(proc)
    assert seconds < BOUND


def test_netflow_serve_stops_while_flows_arrive(settings: Settings) -> None:
    """A router that never stops sending does not keep the collector from stopping."""
    port = free_udp_port()
    log, server = netflow_serve(settings.root, port)
    sending = threading.Event()
    sending.set()

    def flood() -> None:
        out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        packet, sequence = _v5_packet(0), 0
        while sending.is_set():
            sequence += 30
            out.sendto(packet[:16] + struct.pack("!I", sequence) + packet[20:], ("127.0.0.1", port))
        out.close()

    with server as proc:
        wait_for(log, "listening", proc)
        threading.Thread(target=flood, daemon=True).start()
        time.sleep(1.5)
        try:
            code, seconds = sigterm(proc)
        finally:
            sending.clear()
    assert code == 0 and seconds < BOUND, log.read_text()
    assert list((settings.raw / "netflow").rglob("*.parquet")), "nothing was landed"


def _v5_packet(sequence: int, flows: int = 30) -> bytes:
    """A NetFlow v5 export of `flows` records between two addresses."""
    now = int(time.time())
    header = struct.pack("!HHIIIIBBH", 5, flows, 60_000, now, 0, sequence, 0, 0, 0)
    src, dst = (int(ipaddress.IPv4Address(a)) for a in ("100.64.0.7", "203.0.113.9"))
    record = struct.pack(
        "!IIIHHIIIIHHBBBBHHBBH", src, dst, 0, 1, 2, 10, 15_000, 50_000, 59_000,
        40_000, 443, 0, 0, 6, 0, 0, 0, 24, 24, 0,
    )  # fmt: skip
    return header + record * flows


def _disconnect_queued(settings: Settings) -> socket.socket:
    """alice online at the NAS, then suspended: a Disconnect is due, to a CoA port (the
    socket returned) that never answers."""
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    with session(settings.db_url) as s:
        s.query(NasClient).update({"coa_port": silent.getsockname()[1]})
    _online(settings, "alice@acme")
    with session(settings.db_url) as s:
        update_account(s, "alice", status="suspended")
    return silent


def _online(settings: Settings, user: str) -> None:
    """Land a Start for `user` at the NAS 127.0.0.1."""
    now = datetime.now(UTC)
    nas = int(ipaddress.IPv4Address("127.0.0.1"))
    row = {"user_name": user, "acct_session_id": uuid.uuid4().hex[:12], "nas_ip": nas,
           "source_ip": nas, "status_type": "Start", "received_at": now,
           "event_time": now - timedelta(minutes=5)}  # fmt: skip
    land("radius", pa.Table.from_pylist([row], schema=RADIUS), uuid.uuid4().hex, settings.raw)
