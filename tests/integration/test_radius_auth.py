"""`jet radius serve` answering Access-Requests from FreeRADIUS's radclient, PAP and CHAP:
accepts carry the plan's reply attributes, every refusal its Reply-Message, and what is
not a NAS's request with its secret gets no answer at all."""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pyrad.packet import AuthPacket

from ingest.radius.accounting import DICTIONARY
from jet.accounts import add_accounts, set_radius_password, subscribe, update_account
from jet.audit import Actor
from jet.catalog import load_catalog_file
from jet.config import PROJECT_ROOT, Settings
from jet.nas import add_nas_client
from jet.prepaid import top_up
from jet.realms import store_catalog
from jet.store.db import session
from tests.peers.processes import start, stop

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        shutil.which("radclient") is None, reason="needs radclient (Debian freeradius-utils)"
    ),
]

SECRET = "s3cret-auth"
CATALOGS = PROJECT_ROOT / "examples" / "catalogs"
TODAY = datetime.now(UTC).date()
HOME_REPLY = {
    "Session-Timeout": "86400",
    "Idle-Timeout": "1800",
    "Mikrotik-Rate-Limit": "20M/100M",
    "WISPr-Bandwidth-Max-Up": "20000000",
    "WISPr-Bandwidth-Max-Down": "100000000",
}


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """Realms acme and skyfi, the NAS 127.0.0.1 (acme) and an account for every answer."""
    settings = Settings(home=tmp_path / "home", database_url=None)
    month_ago = TODAY - timedelta(days=30)
    with session(settings.db_url) as s:
        for name in ("acme", "skyfi"):
            path = CATALOGS / f"{name}.yaml"
            store_catalog(s, load_catalog_file(path), str(path))
        add_nas_client(s, "127.0.0.1", SECRET, "acme", "loopback")
        people = ["alice", "bob", "carol", "dave", "erin", "frank", "gina", "nopass"]
        add_accounts(s, "acme", [{"id": p} for p in people])
        add_accounts(s, "skyfi", [{"id": "sam"}])
        for account, plan in [("alice", "home"), ("bob", "business"), ("carol", "home")]:
            subscribe(s, account, plan, month_ago)
        for account in ("dave", "erin", "frank"):
            subscribe(s, account, "hotspot", month_ago)
        subscribe(s, "gina", "home", month_ago, TODAY)  # ended at 00:00 today
        subscribe(s, "sam", "unlimited", month_ago)
        for account in [*people[:-1], "sam"]:
            set_radius_password(s, account, f"{account}-pw")
        update_account(s, "bob", framed_ip="100.64.0.10")
        update_account(s, "carol", status="suspended")
        update_account(s, "dave", expires=TODAY.isoformat())
        update_account(s, "erin", prepaid=True)  # nothing topped up
        update_account(s, "frank", prepaid=True, expires="2999-01-01")
        top_up(s, Actor.here(), "frank", "5.00", "cash")  # pays more than the plan's 3600 s
    return settings.root


class Server:
    """`jet radius serve` in a subprocess on free loopback ports, logging to a file."""

    def __init__(self, home: Path) -> None:
        self.log = home / "radius.log"
        env = {**os.environ, "JET_HOME": str(home)}
        env.pop("JET_DATABASE_URL", None)
        self.proc = start(
            [sys.executable, "-m", "jet.cli", "radius", "serve", "--host", "127.0.0.1"]
            + ["--acct-port", "0", "--auth-port", "0"],
            env=env,
            cwd=PROJECT_ROOT,
            stdout=subprocess.DEVNULL,
            stderr=self.log.open("w"),
        )
        self.port = int(self.wait_for(r"authentication listening on 127\.0\.0\.1:(\d+)"))

    def wait_for(self, pattern: str, after: int = 0) -> str:
        """The first group of `pattern` in the log past offset `after`, once it is there."""
        deadline = time.monotonic() + 60
        while not (found := re.search(pattern, self.log.read_text()[after:])):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                stop(self.proc)
                raise AssertionError(f"never logged {pattern!r}:\n{self.log.read_text()}")
            time.sleep(0.05)
        return found.group(1)

    def stop(self) -> dict[str, int]:
        """SIGTERM, and the authentication counters it logs last."""
        assert stop(self.proc) == 0, self.log.read_text()
        line = re.findall(r"auth totals: (.*)", self.log.read_text())[-1]
        return {name: int(n) for name, n in (pair.split("=") for pair in line.split())}


@pytest.fixture
def server(home: Path):
    started = Server(home)
    yield started
    stop(started.proc)


def radclient(port: int, requests: list[str], secret: str = SECRET) -> list[tuple | None]:
    """Send the requests (radclient's attribute lists), one after another, and return for
    each (reply code, {attribute: value}) as radclient printed it, or None if no reply
    came (`-r 1 -t 1`: within a second). radclient checks each reply's authenticators."""
    done = subprocess.run(
        ["radclient", "-x", "-r", "1", "-t", "1", f"127.0.0.1:{port}", "auth", secret],
        input="\n".join(requests),
        capture_output=True,
        text=True,
        timeout=60,
    )
    output = done.stdout + done.stderr
    assert "invalid" not in output.lower(), output
    # radclient waits for each reply (or gives up) before it sends the next request, so
    # in its stdout a reply follows its request; Identifiers may repeat over a run.
    events = re.findall(
        r"Sent Access-Request Id (\d+)|Received (Access-\w+) Id (\d+) [^\n]*\n((?:\t[^\n]*\n?)*)",
        done.stdout,
    )
    replies: list[tuple | None] = []
    following = [*events[1:], ("",) * 4]
    for (sent_id, *_), (_, code, reply_id, body) in zip(events, following, strict=True):
        if not sent_id:
            continue
        if reply_id != sent_id:
            replies.append(None)
            continue
        pairs = re.findall(r"\t(\S+) = (.*)", body)
        replies.append((code, {name: value.strip('"') for name, value in pairs}))
    assert len(replies) == len(requests), output
    return replies


def pap(user: str, password: str, *extra: str) -> str:
    return "\n".join([f'User-Name = "{user}"', f'User-Password = "{password}"', *extra]) + "\n"


def chap(user: str, password: str, *extra: str) -> str:
    """radclient turns a CHAP-Password given in clear into the CHAP response."""
    return "\n".join([f'User-Name = "{user}"', f'CHAP-Password = "{password}"', *extra]) + "\n"


def answer(reply: tuple | None) -> tuple[str, dict[str, str]] | None:
    """The reply without its Message-Authenticator, which differs every time."""
    if reply is None:
        return None
    code, attributes = reply
    assert re.fullmatch(r"0x[0-9a-f]{32}", attributes.pop("Message-Authenticator")), reply
    return code, attributes


def test_accepts_carry_the_plan_and_refusals_say_why(home: Path, server: Server) -> None:
    requests = {
        "pap": pap("alice", "alice-pw"),
        "pap with realm": pap("alice@acme", "alice-pw", "Message-Authenticator = 0x00"),
        "chap": chap("alice", "alice-pw"),
        "chap with challenge": chap(
            "alice@acme", "alice-pw", "CHAP-Challenge = 0x0f1e2d3c4b5a69788796a5b4c3d2e1f0"
        ),
        "static address": chap("bob@acme", "bob-pw", "Message-Authenticator = 0x00"),
        "prepaid with balance": pap("frank", "frank-pw"),
        "wrong password": pap("alice", "alice-pw!"),
        "chap wrong password": chap("alice", "Alice-pw"),
        "unknown user": pap("mallory", "alice-pw"),
        "no password set": pap("nopass", "nopass-pw"),
        "another realm": pap("alice@skyfi", "alice-pw"),
        "another realm's user at this NAS": pap("sam", "sam-pw"),
        "roaming with the realm": pap("sam@skyfi", "sam-pw"),
        "suspended": pap("carol", "carol-pw"),
        "suspended, wrong password": pap("carol", "nope"),
        "expired": chap("dave", "dave-pw"),
        "no balance": pap("erin", "erin-pw"),
        "no plan today": pap("gina", "gina-pw"),
    }
    sent = radclient(server.port, list(requests.values()))
    replies = {name: answer(reply) for name, reply in zip(requests, sent, strict=True)}

    incorrect = ("Access-Reject", {"Reply-Message": "Login incorrect"})
    assert replies == {
        "pap": ("Access-Accept", HOME_REPLY),
        "pap with realm": ("Access-Accept", HOME_REPLY),
        "chap": ("Access-Accept", HOME_REPLY),
        "chap with challenge": ("Access-Accept", HOME_REPLY),
        "static address": (
            "Access-Accept",
            {
                "Idle-Timeout": "3600",
                "Mikrotik-Rate-Limit": "100M/100M",
                "WISPr-Bandwidth-Max-Up": "100000000",
                "WISPr-Bandwidth-Max-Down": "100000000",
                "Framed-IP-Address": "100.64.0.10",
            },
        ),
        "prepaid with balance": (
            "Access-Accept",
            {
                "Session-Timeout": "3600",
                "Idle-Timeout": "600",
                "Mikrotik-Rate-Limit": "5M/20M",
                "WISPr-Bandwidth-Max-Up": "5000000",
                "WISPr-Bandwidth-Max-Down": "20000000",
            },
        ),
        "wrong password": incorrect,
        "chap wrong password": incorrect,
        "unknown user": incorrect,
        "no password set": incorrect,
        "another realm": incorrect,
        "another realm's user at this NAS": incorrect,
        "roaming with the realm": (
            "Access-Accept",
            {
                "Session-Timeout": "14400",
                "Idle-Timeout": "900",
                "Mikrotik-Rate-Limit": "10M/50M",
                "WISPr-Bandwidth-Max-Up": "10000000",
                "WISPr-Bandwidth-Max-Down": "50000000",
            },
        ),
        "suspended": (
            "Access-Reject",
            {"Reply-Message": "Account suspended: please contact support"},
        ),
        "suspended, wrong password": incorrect,  # says nothing about the account
        "expired": ("Access-Reject", {"Reply-Message": f"Account expired on {TODAY}"}),
        "no balance": (
            "Access-Reject",
            {"Reply-Message": "No prepaid balance left: please top up"},
        ),
        "no plan today": (
            "Access-Reject",
            {"Reply-Message": "No active plan: please contact support"},
        ),
    }
    counters = server.stop()
    assert counters["received"] == len(requests) and counters["dropped"] == 0
    assert counters["accepted"] == 7
    assert counters["rejected_wrong_password"] == 3 and counters["rejected_unknown_user"] == 4
    log = server.log.read_text()
    assert "alice-pw" not in log and "rejected 'carol' at NAS 127.0.0.1: suspended" in log


def test_sighup_reloads_what_changed(home: Path, server: Server) -> None:
    assert answer(radclient(server.port, [pap("alice", "alice-pw")])[0])[0] == "Access-Accept"
    settings = Settings(home=home, database_url=None)
    with session(settings.db_url) as s:
        update_account(s, "alice", status="suspended")
        set_radius_password(s, "erin", "new-pw")
        top_up(s, Actor.here(), "erin", "10", "cash")
    mark = len(server.log.read_text())
    server.proc.send_signal(signal.SIGHUP)
    server.wait_for(r"(reloaded \d+ logins)", after=mark)
    alice, erin = radclient(server.port, [pap("alice", "alice-pw"), chap("erin", "new-pw")])
    assert answer(alice) == (
        "Access-Reject",
        {"Reply-Message": "Account suspended: please contact support"},
    )
    assert answer(erin)[0] == "Access-Accept"
    assert server.stop()["reloads"] >= 1


def test_what_is_not_a_nas_request_gets_no_answer(home: Path, server: Server) -> None:
    # with a Message-Authenticator a wrong secret shows, and the request is dropped
    wrong = radclient(
        server.port, [pap("alice", "alice-pw", "Message-Authenticator = 0x00")], "not-it"
    )
    assert wrong == [None]

    rng = random.Random(1812)
    good = AuthPacket(dict=DICTIONARY, secret=SECRET.encode(), id=1)
    good.add_message_authenticator()
    good.AddAttribute("User-Name", "alice")
    good.AddAttribute("User-Password", good.PwCrypt("alice-pw"))
    valid = good.RequestPacket()
    garbage = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    garbage.settimeout(0)
    for i in range(2000):
        if i % 2 == 0:
            data = rng.randbytes(rng.randint(0, 200))
        else:  # a signed request with a few octets changed: fails its Message-Authenticator
            data = bytearray(valid)
            for _ in range(rng.randint(1, 3)):
                # not the Message-Authenticator's own type and length: without it the request
                # is an unsigned one, answered (see --require-message-authenticator)
                data[rng.choice([*range(20), *range(22, len(data))])] ^= rng.randrange(1, 256)
            data = bytes(data)
        garbage.sendto(data, ("127.0.0.1", server.port))
    stranger = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    stranger.bind(("127.0.0.2", 0))  # loopback too, but not a NAS client
    stranger.settimeout(1)
    stranger.sendto(valid, ("127.0.0.1", server.port))
    with pytest.raises(TimeoutError):
        stranger.recv(4096)

    (still,) = radclient(server.port, [pap("alice", "alice-pw")])
    assert answer(still) == ("Access-Accept", HOME_REPLY)
    counters = server.stop()
    assert counters["received"] == 1 + 2000 + 1 + 1
    assert counters["accepted"] == 1 and "dropped_internal_error" not in counters
    assert counters["dropped_unknown_client"] == 1
    assert counters["dropped_bad_message_authenticator"] >= 1 + 800
    assert counters["dropped"] + counters["accepted"] + counters["rejected"] == counters["received"]
    log = server.log.read_text()
    assert "dropped an Access-Request from 127.0.0.2" in log and "unknown_client" in log
