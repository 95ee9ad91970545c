"""At least once, and once per subscriber: `jet events dispatch --forever` killed with
SIGKILL between a change's commit and its delivery delivers the event after a restart,
and each subscriber acts on it once: FreeRADIUS (the NAS) gets one Disconnect-Request,
the event feed holds one line, the store records one delivery each."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from jet.accounts import add_accounts, subscribe, update_account
from jet.catalog import load_catalog_file
from jet.config import PROJECT_ROOT, Settings
from jet.nas import add_nas_client
from jet.ports import free_udp_port
from jet.realms import store_catalog
from jet.store.db import session
from jet.store.models import Event, EventDelivery, NasClient
from tests.peers.freeradius import FreeRadius, available, coa_listener, detail_records
from tests.sessions import online

pytestmark = pytest.mark.integration

SECRET = "s3cret-crash"
NAS = "127.0.0.1"


@pytest.fixture
def acme(settings: Settings) -> Settings:
    with session(settings.db_url) as s:
        path = PROJECT_ROOT / "examples" / "catalogs" / "acme.yaml"
        store_catalog(s, load_catalog_file(path), str(path))
    return settings


@contextlib.contextmanager
def dispatching(settings: Settings) -> Iterator[subprocess.Popen]:
    """`jet events dispatch --forever` in a process group of its own, killed whatever
    happens (its log appended to `$JET_HOME/dispatch.log`)."""
    with (settings.root / "dispatch.log").open("a") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "jet.cli", "events", "dispatch", "--forever", "--every", "0.2"],
            env={**os.environ, "JET_HOME": str(settings.root)},
            cwd=PROJECT_ROOT,
            stdout=subprocess.DEVNULL,
            stderr=log,
            start_new_session=True,
        )
    try:
        yield proc
    finally:
        kill(proc)


def kill(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def wait_for(what: Callable[[], object], settings: Settings, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not what():
        log = settings.root / "dispatch.log"
        assert time.monotonic() < deadline, log.read_text() if log.exists() else "no log"
        time.sleep(0.005)


def deliveries(settings: Settings, event_id: int) -> dict[str, tuple[str, int]]:
    """The event's deliveries: subscriber -> (status, attempts)."""
    with session(settings.db_url) as s:
        rows = s.execute(
            select(EventDelivery.subscriber, EventDelivery.status, EventDelivery.attempts).where(
                EventDelivery.event_id == event_id
            )
        )
        return {subscriber: (status, attempts) for subscriber, status, attempts in rows}


def feed_ids(settings: Settings) -> list[int]:
    """The event ids in the feed's files, one per line."""
    return [
        json.loads(line)["id"]
        for path in sorted((settings.root / "events").glob("*.jsonl"))
        for line in path.read_text().splitlines()
    ]


@pytest.mark.skipif(not available(), reason="needs FreeRADIUS (Debian freeradius)")
def test_killed_while_the_nas_is_silent_it_disconnects_once_after_restart(
    acme: Settings, tmp_path: Path
) -> None:
    port = free_udp_port()
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # the NAS, not answering yet
    silent.bind((NAS, 0))
    silent.settimeout(60)
    with session(acme.db_url) as s:
        add_nas_client(s, NAS, SECRET, "acme", coa_port=silent.getsockname()[1])
        add_accounts(s, "acme", [{"id": "alice"}])
        subscribe(s, "alice", "home", datetime.now(UTC).date() - timedelta(days=30))
    session_id = online(acme, "alice@acme")
    with session(acme.db_url) as s:
        update_account(s, "alice", status="suspended")
        suspended = s.scalar(select(Event.id).where(Event.topic == "account.suspended"))

    with FreeRadius(tmp_path / "nas", coa_listener(SECRET, port)) as nas:
        with dispatching(acme) as proc:
            silent.recv(4096)  # the Disconnect's first try: the dispatcher waits on the NAS
            kill(proc)
        silent.close()
        assert deliveries(acme, suspended)["radius"] == ("pending", 0)  # claimed, not done

        with session(acme.db_url) as s:  # the NAS answers now
            s.execute(update(NasClient).values(coa_port=port))
        claim_runs_out(acme)
        with dispatching(acme) as proc:
            wait_for(lambda: deliveries(acme, suspended)["radius"][0] == "delivered", acme)
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=10) == 0
        requests = [r for r in detail_records(nas.logdir / "dynauth-detail")
                    if r.get("Acct-Session-Id") == session_id]  # fmt: skip
    assert [r["Packet-Type"] for r in requests] == ["Disconnect-Request"]
    assert deliveries(acme, suspended) == {"radius": ("delivered", 1), "feed": ("delivered", 1)}
    assert feed_ids(acme).count(suspended) == 1


def test_killed_mid_batch_the_feed_holds_each_event_once(acme: Settings) -> None:
    """A bulk import's events: the kill falls after the feed wrote some of a batch and
    before it recorded them, so those are delivered again, and found in the file."""
    with session(acme.db_url) as s:
        add_accounts(s, "acme", [{"id": f"user{i:05d}"} for i in range(5000)])
        events = list(s.scalars(select(Event.id).order_by(Event.id)))
    path = acme.root / "events" / f"{datetime.now(UTC).date().isoformat()}.jsonl"

    with dispatching(acme) as proc:
        wait_for(lambda: path.exists() and path.read_bytes().count(b"\n") > 1000, acme)
        kill(proc)
    written, recorded = len(feed_ids(acme)), delivered(acme)
    assert written > recorded  # written, not yet recorded: these go again
    claim_runs_out(acme)

    with dispatching(acme) as proc:
        wait_for(lambda: delivered(acme) == len(events), acme)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    assert sorted(feed_ids(acme)) == events
    with session(acme.db_url) as s:
        again = s.scalar(
            select(func.count()).where(
                EventDelivery.subscriber == "feed", EventDelivery.outcome.like("already in%")
            )
        )
    assert again == written - recorded


def claim_runs_out(settings: Settings) -> None:
    """What a killed dispatcher claimed is due again, as after its claim (66 s for
    RADIUS, 2 minutes for a batch of the feed), without waiting that long."""
    with session(settings.db_url) as s:
        s.execute(
            update(EventDelivery)
            .where(EventDelivery.status == "pending")
            .values(next_attempt_at=datetime.now(UTC))
        )


def delivered(settings: Settings) -> int:
    with session(settings.db_url) as s:
        return s.scalar(
            select(func.count()).where(
                EventDelivery.subscriber == "feed", EventDelivery.status == "delivered"
            )
        )
