"""A company's life as an operator drives it through `jet`, on SQLite and on PostgreSQL
(`JET_DATABASE_URL`): the company, two cost-centres and users under them, their plans,
`jet bill` putting every charge on the company's invoice with the user on each line; a
change of details; a suspension whose Disconnect reaches the NAS (FreeRADIUS standing in
for it, as in test_radius_dynauth); reactivation; closing, refunded on the next invoice."""

from __future__ import annotations

import ipaddress
import json
import shlex
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pyarrow as pa
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from ingest.landing import land
from jet.cli import main
from jet.config import PROJECT_ROOT, Settings
from jet.ports import free_udp_port
from jet.store.db import session
from jet.store.models import Invoice
from schemas.raw import RADIUS
from tests.peers.freeradius import FreeRadius, available, coa_listener, detail_records
from tests.peers.postgres import postgres, postgres_url  # noqa: F401 (fixtures)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not available(), reason="needs FreeRADIUS (Debian freeradius)"),
]

SECRET = "s3cret-nas"
NAS = "127.0.0.1"
ABN = "51 824 753 556"


@pytest.fixture(scope="module")
def nas(tmp_path_factory: pytest.TempPathFactory):
    port = free_udp_port()
    with FreeRadius(tmp_path_factory.mktemp("nas"), coa_listener(SECRET, port)) as server:
        server.port = port  # type: ignore[attr-defined]
        yield server


@pytest.fixture(params=["sqlite", "postgresql"])
def home(request: pytest.FixtureRequest, settings: Settings, monkeypatch) -> Settings:
    if request.param == "postgresql":
        monkeypatch.setenv("JET_DATABASE_URL", request.getfixturevalue("postgres_url"))
    chosen = Settings()
    assert chosen.db_url.startswith(request.param)
    return chosen


def jet(line: str) -> str:
    """`jet` with the arguments of `line`, as a shell splits them; it must succeed."""
    result = CliRunner().invoke(main, shlex.split(line))
    assert result.exit_code == 0, result.output
    return result.output


def show(login: str) -> dict:
    return json.loads(jet(f"account show {login} --json"))


def online(settings: Settings, user: str) -> str:
    """A session Start from the NAS for `user`, landed as `jet radius serve` lands it."""
    session_id, now = uuid.uuid4().hex[:12], datetime.now(UTC)
    nas = int(ipaddress.IPv4Address(NAS))
    start = now - timedelta(minutes=5)
    row = {"user_name": user, "acct_session_id": session_id, "nas_ip": nas, "source_ip": nas,
           "status_type": "Start", "event_time": start, "received_at": now}  # fmt: skip
    land("radius", pa.Table.from_pylist([row], schema=RADIUS), session_id, settings.raw)
    return session_id


def disconnects(nas: FreeRadius, session_id: str) -> list[dict[str, str]]:
    records = detail_records(nas.logdir / "dynauth-detail")
    return [r for r in records if r.get("Acct-Session-Id") == session_id]


def invoices(settings: Settings) -> list[tuple]:
    """Each issued invoice: its account, bill date and lines (account, product, kind,
    period start, amount)."""
    with session(settings.db_url) as s:
        return [
            (
                i.account_id,
                i.bill_date,
                sorted(
                    (line.account_id, line.product_id, line.kind, line.period_start, line.amount)
                    for line in i.lines
                ),
            )
            for i in s.scalars(select(Invoice).order_by(Invoice.id))
        ]


def test_a_company_from_signup_to_closing(home: Settings, nas) -> None:
    jet(f"catalog load {PROJECT_ROOT / 'examples' / 'catalogs' / 'acme.yaml'}")
    jet(f"nas add {NAS} --secret {SECRET} --realm acme --coa-port {nas.port}")
    jet(f"account add acme globex --name 'Globex Corporation' --company --country AU "
        f"--tax-id '{ABN}' --email accounts@globex.example --delivery paper "
        "--address '1 Main St, Sydney NSW 2000'")  # fmt: skip
    for centre, name in (("globex-sales", "Globex Sales"), ("globex-eng", "Globex Engineering")):
        jet(f"account add acme {centre} --name '{name}' --company --parent globex")
    jet("account add acme ann --name 'Ann Lee' --parent globex-sales --plan home --from 2026-01-10")
    jet("account add acme bob --name 'Bob Marsh' --parent globex-sales")
    jet("account add acme cho --name 'Cho Park' --parent globex-eng")
    jet("subscription add bob home --from 2026-01-20")
    jet("subscription add cho business --from 2026-01-15")
    company = show("globex")
    assert [c["id"] for c in company["children"]] == ["globex-eng", "globex-sales"]
    assert show("cho")["billing_account"] == "globex"

    jet("bill --from 2026-02-01 --to 2026-02-01")
    feb = date(2026, 2, 1)
    assert invoices(home) == [
        (
            "globex",
            feb,
            sorted(
                [
                    ("ann", "home-access", "catch_up", date(2026, 1, 10), Decimal("48.97")),
                    ("ann", "setup", "once", date(2026, 1, 10), Decimal("99.00")),
                    ("ann", "home-access", "advance", feb, Decimal("69.00")),
                    ("bob", "home-access", "catch_up", date(2026, 1, 20), Decimal("26.71")),
                    ("bob", "setup", "once", date(2026, 1, 20), Decimal("99.00")),
                    ("bob", "home-access", "advance", feb, Decimal("69.00")),
                    ("cho", "business-access", "catch_up", date(2026, 1, 15), Decimal("43.79")),
                    ("cho", "static-ip", "catch_up", date(2026, 1, 15), Decimal("5.48")),
                    ("cho", "setup", "once", date(2026, 1, 15), Decimal("99.00")),
                    ("cho", "business-access", "advance", feb, Decimal("237.00")),
                    ("cho", "static-ip", "advance", feb, Decimal("10.00")),
                ]
            ),
        )
    ]
    assert [i["bill_date"] for i in show("ann")["invoices"]] == ["2026-02-01"]

    jet("account update bob --email bob@globex.example --phone '+61 2 9876 5432'")
    bob = show("bob")["account"]
    assert (bob["email"], bob["phone"]) == ("bob@globex.example", "+61 2 9876 5432")

    held = online(home, "ann@acme")
    assert [s["session"] for s in show("ann")["sessions"]] == [held]
    assert "Disconnect-ACK" in jet("account set ann --status suspended")
    [request] = disconnects(nas, held)
    assert (request["Packet-Type"], request["User-Name"]) == ("Disconnect-Request", "ann@acme")
    assert show("ann")["account"]["status"] == "suspended"
    jet("account set ann --status active")
    assert show("ann")["account"]["status"] == "active"
    assert len(disconnects(nas, held)) == 1  # reactivating sends nothing

    held = online(home, "bob@acme")
    closed = jet("account close bob --on 2026-02-15")
    assert "closed bob from 2026-02-15; ended home" in closed and "Disconnect-ACK" in closed
    [request] = disconnects(nas, held)
    assert request["Packet-Type"] == "Disconnect-Request"
    assert show("bob")["subscriptions"][0]["end"] == "2026-02-15"

    jet("bill --from 2026-03-01 --to 2026-03-01")
    mar = date(2026, 3, 1)
    assert invoices(home)[1] == (
        "globex",
        mar,
        sorted(
            [
                ("ann", "home-access", "advance", mar, Decimal("69.00")),
                ("bob", "home-access", "refund", date(2026, 2, 15), Decimal("-34.50")),
                ("cho", "static-ip", "advance", mar, Decimal("10.00")),
            ]
        ),
    )
    actions = [(e["action"], e["channel"]) for e in json.loads(jet("audit bob --json"))]
    assert actions == [
        ("account.created", "cli"),
        ("subscription.started", "cli"),
        ("account.updated", "cli"),
        ("subscription.ended", "cli"),
        ("account.closed", "cli"),
    ]
