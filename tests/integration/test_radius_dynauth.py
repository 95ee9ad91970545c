"""Disconnect and CoA (RFC 5176) against FreeRADIUS acting as the NAS: its `coa` listener
answers Jet's requests (NAK for the user `mallory`, by policy) and writes each request
it gets to a detail file, which shows what Jet sent."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from ingest.radius import dispatcher
from jet.accounts import add_accounts, subscribe, update_account
from jet.audit import Actor
from jet.catalog import load_catalog_file
from jet.cli import main
from jet.config import PROJECT_ROOT, Settings
from jet.deliveries import Delivered, open_deliveries
from jet.deliveries import dispatch as deliver_due
from jet.nas import add_nas_client
from jet.ports import free_udp_port
from jet.prepaid import deduct_usage, top_up
from jet.realms import store_catalog
from jet.store.db import session
from jet.store.models import EventDelivery, NasClient, Subscription
from tests.peers.freeradius import FreeRadius, available, coa_listener, detail_records
from tests.peers.processes import running
from tests.sessions import online
from tests.unit.test_prepaid import publish_rated

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not available(), reason="needs FreeRADIUS (Debian freeradius)"),
]

SECRET = "s3cret-coa"
NAS = "127.0.0.1"
FRAMED_IP = "100.64.0.7"
TODAY = datetime.now(UTC).date()

# The NAS's policy: mallory@acme's requests are refused.
MALLORY_REFUSED = """
\t\tif (&User-Name == "mallory@acme") {
\t\t\tupdate reply {
\t\t\t\t&Error-Cause := Session-Context-Not-Found
\t\t\t}
\t\t\treject
\t\t}"""


@pytest.fixture(scope="module")
def nas(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("freeradius")
    port = free_udp_port()
    with FreeRadius(root, coa_listener(SECRET, port, MALLORY_REFUSED)) as server:
        server.port = port  # type: ignore[attr-defined]
        yield server


@pytest.fixture
def home(settings: Settings, nas) -> Settings:
    """Realm acme; the NAS 127.0.0.1 (FreeRADIUS's CoA port); alice on business, mallory
    and bob on home."""
    with session(settings.db_url) as s:
        path = PROJECT_ROOT / "examples" / "catalogs" / "acme.yaml"
        store_catalog(s, load_catalog_file(path), str(path))
        add_nas_client(s, NAS, SECRET, "acme", "freeradius", coa_port=nas.port)
        add_accounts(s, "acme", [{"id": "alice"}, {"id": "mallory"}, {"id": "bob"}])
        month_ago = TODAY - timedelta(days=30)
        subscribe(s, "alice", "business", month_ago)
        subscribe(s, "mallory", "home", month_ago)
        subscribe(s, "bob", "home", month_ago)
    return settings


def jet(*args: str):
    return CliRunner().invoke(main, list(args))


def requests_for(nas: FreeRadius, session_id: str) -> list[dict[str, str]]:
    """The requests FreeRADIUS got for the session, each as its attributes."""
    records = detail_records(nas.logdir / "dynauth-detail")
    return [r for r in records if r.get("Acct-Session-Id") == session_id]


def test_disconnect_is_acked_and_names_the_session(home, nas) -> None:
    session_id = online(home, "alice@acme", framed_ip=FRAMED_IP)
    result = jet("radius", "disconnect", "alice")
    assert result.exit_code == 0, result.output
    assert f"Disconnect-ACK from {NAS}:{nas.port}" in result.output
    [request] = requests_for(nas, session_id)
    assert request["Packet-Type"] == "Disconnect-Request"
    assert request["User-Name"] == "alice@acme"
    assert request["NAS-IP-Address"] == NAS
    assert request["Framed-IP-Address"] == FRAMED_IP
    assert "Message-Authenticator" in request and "Event-Timestamp" in request


def test_a_nak_says_why_and_fails(home, nas) -> None:
    session_id = online(home, "mallory@acme")
    result = jet("radius", "disconnect", "mallory@acme")
    assert result.exit_code == 1
    assert "Disconnect-NAK" in result.output
    assert "Error-Cause: Session-Context-Not-Found (503)" in result.output
    assert len(requests_for(nas, session_id)) == 1


def test_disconnect_reaches_every_open_session_and_names_what_failed(home, nas) -> None:
    """mallory online twice: as mallory@acme (which the NAS refuses), then as mallory."""
    refused = online(home, "mallory@acme")
    acked = online(home, "mallory")
    result = jet("radius", "disconnect", "mallory")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0].startswith(f"Disconnect-Request for mallory (session {acked} on NAS {NAS})")
    assert lines[0].endswith(f"Disconnect-ACK from {NAS}:{nas.port}")
    assert lines[1].startswith(f"Disconnect-Request for mallory@acme (session {refused} on NAS")
    assert "Disconnect-NAK" in lines[1]
    assert lines[2] == f"1 of 2 sessions may still be online: {refused} on NAS {NAS}"
    assert len(requests_for(nas, refused)) == len(requests_for(nas, acked)) == 1


def test_no_open_session_sends_nothing(home, nas) -> None:
    session_id = online(home, "bob@acme", stopped=True)
    result = jet("radius", "disconnect", "bob")
    assert result.exit_code == 0, result.output
    assert "bob has no open session" in result.output and "nothing sent" in result.output
    assert requests_for(nas, session_id) == []


def test_suspension_disconnects_every_session_once(home, nas) -> None:
    first, second = online(home, "alice@acme"), online(home, "alice@acme")
    result = jet("account", "set", "alice", "--status", "suspended")
    assert result.exit_code == 0, result.output
    assert result.output.count("Disconnect-ACK") == 2
    assert jet("radius", "dispatch").output == "nothing to send\n"
    assert len(requests_for(nas, first)) == len(requests_for(nas, second)) == 1
    with session(home.db_url) as s:
        [delivery] = s.scalars(select(EventDelivery).where(EventDelivery.subscriber == "radius"))
        assert delivery.status == "delivered" and delivery.outcome.count("Disconnect-ACK") == 2


def test_plan_change_sends_coa_with_the_new_attributes(home, nas) -> None:
    session_id = online(home, "alice@acme")
    result = jet("account", "plan", "alice", "home")
    assert result.exit_code == 0, result.output
    assert "CoA-ACK" in result.output
    [request] = requests_for(nas, session_id)
    assert request["Packet-Type"] == "CoA-Request"
    assert request["User-Name"] == "alice@acme"
    assert request["Session-Timeout"] == "86400"  # home's; business has none
    assert request["Idle-Timeout"] == "1800"
    assert request["Mikrotik-Rate-Limit"] == "20M/100M"
    today = datetime.now(UTC).date()  # the day it changed: not TODAY, a suite may cross midnight
    with session(home.db_url) as s:
        subs = s.scalars(select(Subscription).where(Subscription.account_id == "alice")).all()
        assert {(sub.plan_id, sub.end_date) for sub in subs} == {
            ("business", today),
            ("home", None),
        }


def test_no_answer_is_tried_again_until_the_nas_answers(home, nas) -> None:
    """Three tries of the same packet, then the event waits; answered, it is done."""
    session_id = online(home, "alice@acme")
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind((NAS, 0))
    silent.settimeout(1)
    _point_nas_at(home, silent.getsockname()[1])
    with session(home.db_url) as s:
        update_account(s, "alice", status="suspended")

    [report] = deliver_due(home, [dispatcher.subscriber(timeout=0.1)])
    assert not isinstance(report.result, Delivered) and not report.dead
    assert "after 3 tries: timeout" in report.result.outcome
    tries = [silent.recv(4096) for _ in range(3)]
    silent.close()
    assert tries[0] == tries[1] == tries[2]  # a retransmission, not a new request
    assert radius_due(home) == []  # not due yet: it backs off

    _point_nas_at(home, nas.port)
    _make_due(home)
    [report] = radius_due(home)
    assert isinstance(report.result, Delivered) and "Disconnect-ACK" in report.result.outcome
    assert radius_due(home) == [] and len(requests_for(nas, session_id)) == 1


def test_a_delivery_taken_by_a_dispatcher_that_died_waits_for_its_claim(home, nas) -> None:
    session_id = online(home, "alice@acme")
    with session(home.db_url) as s:
        update_account(s, "alice", status="closed")
    radius = dispatcher.subscriber()
    open_deliveries(home.db_url, radius)
    with session(home.db_url) as s:
        claimed = datetime.now(UTC) + radius.claim
        s.execute(update(EventDelivery).values(next_attempt_at=claimed))
    assert radius_due(home) == []
    _make_due(home)
    [report] = radius_due(home)
    assert "Disconnect-ACK" in report.result.outcome
    assert len(requests_for(nas, session_id)) == 1


def test_serve_sends_what_was_queued(home, nas) -> None:
    session_id = online(home, "alice@acme")
    with session(home.db_url) as s:
        update_account(s, "alice", status="suspended")  # queued, not sent
    log = home.root / "serve.log"
    env = {**os.environ, "JET_HOME": str(home.root)}
    with running(
        [sys.executable, "-m", "jet.cli", "radius", "serve", "--host", NAS]
        + ["--acct-port", "0", "--auth-port", "0", "--dispatch-every", "0.2"],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=log.open("w"),
    ) as proc:
        deadline = time.monotonic() + 60
        while not requests_for(nas, session_id):
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        while "Disconnect-ACK" not in log.read_text():
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
    with session(home.db_url) as s:
        assert (
            s.scalar(select(EventDelivery.status).where(EventDelivery.subscriber == "radius"))
            == "delivered"
        )


def radius_due(settings: Settings):
    return deliver_due(settings, [dispatcher.subscriber()])


def _point_nas_at(settings: Settings, port: int) -> None:
    with session(settings.db_url) as s:
        s.execute(update(NasClient).values(coa_port=port))


def _make_due(settings: Settings) -> None:
    with session(settings.db_url) as s:
        s.execute(
            update(EventDelivery).values(next_attempt_at=datetime.now(UTC) - timedelta(seconds=1))
        )


def test_a_deduction_that_leaves_no_credit_disconnects(home, nas) -> None:
    with session(home.db_url) as s:
        update_account(s, "bob", prepaid=True)
        top_up(s, Actor.here(), "bob", "1.00", "cash")
    session_id = online(home, "bob@acme")
    publish_rated(home, [("bob", "1.500")])  # a rating run rated 1.50 of bob's usage
    assert deduct_usage(home) == 1
    result = jet("radius", "dispatch")
    assert result.exit_code == 0 and "Disconnect-ACK" in result.output, result.output
    [request] = requests_for(nas, session_id)
    assert (request["Packet-Type"], request["User-Name"]) == ("Disconnect-Request", "bob@acme")
