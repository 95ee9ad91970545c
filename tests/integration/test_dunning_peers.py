"""The dunning ladder walked over simulated days against real peers: the reminder reaches
an SMTP server on loopback (aiosmtpd), the suspension's Disconnect reaches FreeRADIUS
standing in for the NAS, radclient's Access-Request for the suspended login is rejected
saying why, and paying in full lets it log in again."""

from __future__ import annotations

import email
import signal
import socket
import time
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from click.testing import CliRunner

from jet.accounts import add_accounts, set_radius_password, subscribe
from jet.catalog import load_catalog_file
from jet.cli import main
from jet.config import PROJECT_ROOT, Settings
from jet.deliveries import dispatch
from jet.nas import add_nas_client
from jet.network_access import UNPAID
from jet.ports import free_udp_port
from jet.realms import store_catalog
from jet.store.db import session
from reports import notices
from tests.integration.test_radius_auth import TODAY, Server, answer, pap, radclient
from tests.integration.test_radius_dynauth import SECRET, requests_for
from tests.ledger_fixtures import issue
from tests.peers.freeradius import FreeRadius, available, coa_listener
from tests.sessions import online

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not available(), reason="needs FreeRADIUS (Debian freeradius)"),
]

BILL = TODAY - timedelta(days=30)
DUE = BILL + timedelta(days=14)  # acme's payment terms


class Inbox:
    """An aiosmtpd handler keeping every message it is given."""

    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd's name)
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    inbox.port = port  # type: ignore[attr-defined]
    yield inbox
    controller.stop()


@pytest.fixture
def nas(tmp_path_factory: pytest.TempPathFactory):
    port = free_udp_port()
    with FreeRadius(tmp_path_factory.mktemp("nas"), coa_listener(SECRET, port)) as server:
        server.port = port  # type: ignore[attr-defined]
        yield server


@pytest.fixture
def home(tmp_path, monkeypatch: pytest.MonkeyPatch, smtp, nas) -> Settings:
    """Realm acme, FreeRADIUS as its NAS, and dan on home with an invoice of 79.00."""
    monkeypatch.setenv("JET_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("JET_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("JET_SMTP_PORT", str(smtp.port))
    monkeypatch.setenv("JET_MAIL_FROM", "billing@acme.example")
    settings = Settings()
    settings.export()
    with session(settings.db_url) as s:
        path = PROJECT_ROOT / "examples" / "catalogs" / "acme.yaml"
        store_catalog(s, load_catalog_file(path), str(path))
        add_nas_client(s, "127.0.0.1", SECRET, "acme", "freeradius", coa_port=nas.port)
        add_accounts(s, "acme", [{"id": "dan", "name": "Dan Ng", "email": "dan@example.net"}])
        subscribe(s, "dan", "home", BILL)
        set_radius_password(s, "dan", "dan-pw")
        issue(s, "dan", BILL, "79.00")
    return settings


def jet(*args: str) -> str:
    done = CliRunner().invoke(main, list(args))
    assert done.exit_code == 0, done.output
    return done.output


def login(server: Server) -> tuple[str, dict[str, str]]:
    mark = len(server.log.read_text())
    server.proc.send_signal(signal.SIGHUP)
    server.wait_for(r"(reloaded \d+ logins)", after=mark)
    return answer(radclient(server.port, [pap("dan", "dan-pw")], SECRET)[0])


def test_the_ladder_reminds_suspends_and_reconnects_after_payment(home, smtp, nas) -> None:
    session_id = online(home, "dan@acme")
    server = Server(home.root)
    try:
        assert login(server)[0] == "Access-Accept"

        assert "1 remind" in jet("dunning", "run", "--as-of", str(DUE + timedelta(days=7)))
        dispatch(home, [notices.subscriber()])
        [reminder] = smtp.messages
        assert reminder["To"] == "dan@example.net"
        assert reminder["From"] == "Acme Broadband <billing@acme.example>"
        assert "overdue (AUD 79.00)" in reminder["Subject"]
        assert "7 days overdue" in reminder.get_payload()
        dispatch(home, [notices.subscriber()])
        assert len(smtp.messages) == 1  # delivered once

        ran = jet("dunning", "run", "--as-of", str(DUE + timedelta(days=14)))
        assert "1 fee, 1 remind" in ran  # the second reminder bills a late fee
        dispatch(home, [notices.subscriber()])
        assert "14 days overdue" in smtp.messages[1].get_payload()

        ran = jet("dunning", "run", "--as-of", str(DUE + timedelta(days=21)))
        assert "1 suspend" in ran and "suspended: dan" in ran
        jet("events", "dispatch")  # the Disconnect (jet radius serve may send it first)
        deadline = time.monotonic() + 20
        while not requests_for(nas, session_id) and time.monotonic() < deadline:
            time.sleep(0.2)
        [disconnect] = requests_for(nas, session_id)
        assert disconnect["Packet-Type"] == "Disconnect-Request"
        assert login(server) == ("Access-Reject", {"Reply-Message": UNPAID})

        jet("payment", "record", "dan", "79.00", "--method", "bank")
        assert login(server)[0] == "Access-Accept"
    finally:
        server.stop()
    assert len(smtp.messages) == 2  # suspending and paying send no mail
