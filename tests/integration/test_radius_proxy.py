"""Jet and FreeRADIUS proxying to each other, as an ISP runs them.

FreeRADIUS in front of Jet: it takes accounting for the realm acme from radclient and
proxies it to `jet radius serve`, from its own address (127.0.0.2), and what lands is
what the NAS sent. FreeRADIUS behind Jet: the realm partner is remote, so Jet forwards
its Access-Requests (PAP and CHAP) to FreeRADIUS and relays each answer exactly as
FreeRADIUS gives it to a NAS that asks it directly; partner's accounting lands in Jet
and a copy reaches FreeRADIUS. One FreeRADIUS and one Jet serve the whole module.
"""

from __future__ import annotations

import shutil
import socket
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from jet.accounts import add_accounts, set_radius_password, subscribe
from jet.catalog import load_catalog_file
from jet.config import PROJECT_ROOT, Settings
from jet.nas import add_nas_client
from jet.ports import free_udp_port
from jet.realms import store_catalog
from jet.remote_realms import add_remote_realm
from jet.store.db import session
from tests.integration.test_radius_accounting import INTERIM, START, STOP, lake
from tests.integration.test_radius_accounting import radclient as acct_radclient
from tests.integration.test_radius_auth import HOME_REPLY, Server, answer, chap, pap, radclient
from tests.peers.freeradius import FreeRadius, available, detail_records

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not available(), reason="needs FreeRADIUS (Debian freeradius)"),
    pytest.mark.skipif(
        shutil.which("radclient") is None, reason="needs radclient (Debian freeradius-utils)"
    ),
]

NAS_SECRET = "s3cret-auth"  # radclient, as a NAS of Jet's (test_radius_auth's secret)
FREERADIUS_AT_JET = "s3cret-fr-to-jet"  # FreeRADIUS as a NAS client of Jet
JET_AT_FREERADIUS = "s3cret-jet-to-fr"  # Jet (and radclient) as clients of FreeRADIUS
FREERADIUS_SOURCE = "127.0.0.2"  # where FreeRADIUS proxies from

# FreeRADIUS: bob@partner logs in (reply attributes of several types, a vendor's too),
# anybody else is refused with a Reply-Message; acme's accounting is proxied to Jet,
# everything else it receives is written to a detail file.
FREERADIUS_CONFIG = """
client local {{
	ipaddr = 127.0.0.1
	secret = {secret}
}}
proxy server {{
	default_fallback = no
}}
home_server jet {{
	type = acct
	ipaddr = 127.0.0.1
	port = {jet_acct_port}
	src_ipaddr = {source}
	secret = {jet_secret}
	response_window = 5
	status_check = none
}}
home_server_pool jet {{
	type = fail-over
	home_server = jet
}}
realm acme {{
	acct_pool = jet
	nostrip
}}
modules {{
	pap {{
	}}
	chap {{
	}}
	files {{
		filename = ${{raddbdir}}/users
	}}
	realm suffix {{
		format = suffix
		delimiter = "@"
	}}
	detail {{
		filename = ${{logdir}}/detail
		header = "%t"
	}}
}}
server default {{
	listen {{
		type = auth
		ipaddr = 127.0.0.1
		port = {auth_port}
	}}
	listen {{
		type = acct
		ipaddr = 127.0.0.1
		port = {acct_port}
	}}
	authorize {{
		suffix
		chap
		files
		pap
	}}
	authenticate {{
		Auth-Type PAP {{
			pap
		}}
		Auth-Type CHAP {{
			chap
		}}
	}}
	preacct {{
		suffix
	}}
	accounting {{
		detail
	}}
	post-auth {{
		Post-Auth-Type REJECT {{
			update reply {{
				&Session-Timeout !* ANY
				&Framed-IP-Address !* ANY
				&Class !* ANY
				&Mikrotik-Rate-Limit !* ANY
				&Reply-Message := "Partner says no"
			}}
		}}
	}}
}}
"""
USERS = """\
"bob@partner"	Cleartext-Password := "bob-pw"
	Session-Timeout = 7200,
	Framed-IP-Address = 100.64.9.9,
	Class = 0x70617274,
	Mikrotik-Rate-Limit = "2M/8M",
	Reply-Message = "Welcome, partner"
"""
PARTNER_ACCEPT = {
    "Session-Timeout": "7200",
    "Framed-IP-Address": "100.64.9.9",
    "Class": "0x70617274",
    "Mikrotik-Rate-Limit": "2M/8M",
    "Reply-Message": "Welcome, partner",
}


@pytest.fixture(scope="module")
def freeradius_ports() -> dict[str, int]:
    return {"auth": free_udp_port(), "acct": free_udp_port()}


@pytest.fixture(scope="module")
def jet(tmp_path_factory: pytest.TempPathFactory, freeradius_ports: dict[str, int]):
    """`jet radius serve` with the realm acme (alice logs in), radclient and FreeRADIUS
    as its NAS clients, and two remote realms: partner (FreeRADIUS, accounting copied
    too) and silent (nothing listens there)."""
    settings = Settings(home=tmp_path_factory.mktemp("jet"), database_url=None)
    path = PROJECT_ROOT / "examples" / "catalogs" / "acme.yaml"
    with session(settings.db_url) as s:
        store_catalog(s, load_catalog_file(path), str(path))
        add_nas_client(s, "127.0.0.1", NAS_SECRET, "acme", "radclient")
        add_nas_client(s, FREERADIUS_SOURCE, FREERADIUS_AT_JET, "acme", "freeradius")
        add_accounts(s, "acme", [{"id": "alice"}])
        subscribe(s, "alice", "home", datetime.now(UTC).date() - timedelta(days=30))
        set_radius_password(s, "alice", "alice-pw")
        add_remote_realm(
            s,
            "partner",
            f"127.0.0.1:{freeradius_ports['auth']}",
            JET_AT_FREERADIUS,
            acct_port=freeradius_ports["acct"],
            timeout=1.0,
            retries=1,
        )
        add_remote_realm(s, "silent", f"127.0.0.1:{free_udp_port()}", "x", timeout=0.2, retries=1)
    server = Server(settings.root)
    server.home = settings.root  # type: ignore[attr-defined]
    server.acct_port = int(  # type: ignore[attr-defined]
        server.wait_for(r"accounting listening on 127\.0\.0\.1:(\d+)")
    )
    yield server
    if server.proc.poll() is None:
        server.proc.kill()
        server.proc.wait()


@pytest.fixture(scope="module")
def freeradius(tmp_path_factory: pytest.TempPathFactory, freeradius_ports, jet):
    config = FREERADIUS_CONFIG.format(
        secret=JET_AT_FREERADIUS,
        jet_acct_port=jet.acct_port,
        source=FREERADIUS_SOURCE,
        jet_secret=FREERADIUS_AT_JET,
        auth_port=freeradius_ports["auth"],
        acct_port=freeradius_ports["acct"],
    )
    server = FreeRadius(tmp_path_factory.mktemp("freeradius"), config)
    (server.raddb / "users").write_text(USERS)
    with server:
        yield server


def ip(text: str) -> int:
    return int.from_bytes(socket.inet_aton(text), "big")


def test_freeradius_proxies_accounting_to_jet(jet, freeradius, freeradius_ports) -> None:
    """The same records straight from the NAS and through FreeRADIUS land alike: only
    the source address (FreeRADIUS's), Identifier, authenticator and receipt differ."""
    direct = acct_radclient(jet.acct_port, [START, INTERIM, STOP], NAS_SECRET)
    assert direct.returncode == 0, direct.stdout + direct.stderr
    proxied = acct_radclient(freeradius_ports["acct"], [START, INTERIM, STOP], JET_AT_FREERADIUS)
    assert proxied.returncode == 0, proxied.stdout + proxied.stderr
    assert proxied.stdout.count("Received Accounting-Response") == 3

    # FreeRADIUS answers radclient only once Jet has answered it: the rows are there.
    # The interim record has no Event-Timestamp: its time is the receipt less the delay.
    rows = lake(
        jet.home,
        "select source_ip, * exclude (source_ip, packet_id, authenticator, received_at, "
        "event_time, _batch_id, _landed_at), if(status_type = 'Interim-Update', "
        "epoch_us(received_at) - epoch_us(event_time), epoch_us(event_time)) "
        "from radius where user_name = 'alice@acme' order by received_at",
    )
    assert [row[0] for row in rows] == [ip("127.0.0.1")] * 3 + [ip(FREERADIUS_SOURCE)] * 3
    assert [row[1:] for row in rows[:3]] == [row[1:] for row in rows[3:]]
    names = ["status_type", "user_name", "acct_session_id", "nas_ip"]
    start = dict(zip(names, rows[3][1:5], strict=True))
    assert start == {
        "status_type": "Start",
        "user_name": "alice@acme",
        "acct_session_id": "sess-A",
        "nas_ip": ip("10.0.0.1"),  # the NAS's, not FreeRADIUS's
    }


def test_jet_relays_freeradius_answers_for_a_remote_realm(jet, freeradius, freeradius_ports):
    requests = [
        pap("bob@partner", "bob-pw"),
        pap("bob@partner", "bob-pw", "Message-Authenticator = 0x00"),
        chap("bob@partner", "bob-pw"),
        chap("bob@partner", "bob-pw", "CHAP-Challenge = 0x0f1e2d3c4b5a69788796a5b4c3d2e1f0"),
        pap("Bob@Partner", "bob-pw"),  # the realm's case does not matter to Jet
        pap("bob@partner", "wrong"),
        chap("bob@partner", "wrong"),
        pap("eve@partner", "bob-pw"),
        pap("bob@partner", "x" * 40, "Proxy-State = 0x6e6173"),  # a NAS that proxies too
    ]
    # Jet signs every answer with a Message-Authenticator; FreeRADIUS 3.2.1 only some
    through_jet = [answer(reply) for reply in radclient(jet.port, requests)]
    asked_directly = [
        (code, {k: v for k, v in attributes.items() if k != "Message-Authenticator"})
        for code, attributes in radclient(
            freeradius_ports["auth"], requests, secret=JET_AT_FREERADIUS
        )
    ]
    reject = ("Access-Reject", {"Reply-Message": "Partner says no"})
    accept = ("Access-Accept", PARTNER_ACCEPT)
    assert through_jet[:4] == [accept] * 4
    assert through_jet[5:8] == [reject] * 3
    assert through_jet[8] == ("Access-Reject", {**reject[1], "Proxy-State": "0x6e6173"})
    # FreeRADIUS matches user names exactly: Bob@Partner is somebody else to it
    assert through_jet[4] == asked_directly[4] == reject
    assert through_jet == asked_directly

    local, silent = radclient(
        jet.port, [pap("alice@acme", "alice-pw"), pap("bob@silent", "bob-pw")]
    )
    assert answer(local) == ("Access-Accept", HOME_REPLY)  # Jet still decides its own
    assert answer(silent) == (
        "Access-Reject",
        {"Reply-Message": "Realm silent is not answering: please try again later"},
    )


def test_a_remote_realms_accounting_lands_and_is_copied(jet, freeradius) -> None:
    records = [
        START.replace("alice@acme", "bob@partner").replace("sess-A", "sess-P"),
        STOP.replace("alice@acme", "bob@partner").replace("sess-A", "sess-P"),
    ]
    sent = acct_radclient(jet.acct_port, records, NAS_SECRET)
    assert sent.returncode == 0, sent.stdout + sent.stderr
    landed = lake(
        jet.home,
        "select status_type, input_octets, source_ip from radius "
        "where user_name = 'bob@partner' order by received_at",
    )
    assert landed == [("Start", None, ip("127.0.0.1")), ("Stop", 3 * 2**32 - 1, ip("127.0.0.1"))]

    deadline = time.monotonic() + 10  # the copy follows the landing, best-effort
    while len(copies := copied(freeradius.logdir / "detail", "sess-P")) < 2:
        assert time.monotonic() < deadline, copies
        time.sleep(0.05)
    for record, copy in zip(records, copies, strict=True):
        sent = {line.split(" = ")[0] for line in record.splitlines()}
        # every attribute the NAS sent, but its Message-Authenticator; Jet's Proxy-State
        assert copy.keys() - {"Timestamp"} == sent - {"Message-Authenticator"} | {"Proxy-State"}
        assert copy["Proxy-State"].startswith("0x" + b"jet".hex())
    start, stop = copies
    assert start["Acct-Status-Type"] == "Start" and stop["Acct-Status-Type"] == "Stop"
    assert start["User-Name"] == "bob@partner" and start["NAS-IP-Address"] == "10.0.0.1"
    assert stop["Acct-Input-Octets"] == "4294967295" and stop["Acct-Input-Gigawords"] == "2"

    totals = stop_jet(jet)
    assert totals["forwarded"] == 9 + 1  # partner's logins, and the one to silent
    assert (totals["accepted"], totals["rejected"], totals["timed_out"]) == (4, 5, 1)
    assert (totals["acct_copied"], totals["acct_answered"], totals["acct_lost"]) == (2, 2, 0)
    assert totals["bad_answers"] == 0 and totals["busy"] == 0


def copied(path: Path, session_id: str) -> list[dict[str, str]]:
    return [r for r in detail_records(path) if r.get("Acct-Session-Id") == session_id]


def stop_jet(server: Server) -> dict[str, int]:
    """Stop Jet; the proxy's counters it logs last."""
    server.stop()
    line = server.log.read_text().rsplit("proxy totals: ", 1)[1].splitlines()[0]
    return {name: int(n) for name, n in (pair.split("=") for pair in line.split())}
