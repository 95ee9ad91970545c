"""Prepaid that runs down (docs/prepaid.md): usage landed and rated by the real dbt
models, deducted from the ledger once, netted out of the cycle's invoice, and the
Session-Timeout `jet radius serve` grants for what is left, read back with radclient."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import ROUND_FLOOR, Decimal

import pyarrow as pa
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from ingest.landing import land
from jet.accounts import set_radius_password, update_account
from jet.audit import Actor
from jet.cli import main
from jet.drivers.simulate import load_scenario
from jet.invoicing import issue_invoices
from jet.ledger import balance
from jet.nas import add_nas_client
from jet.prepaid import EXHAUSTED, LOW_BALANCE, credit_left, deduct_usage, top_up
from jet.session_control import asked
from jet.store.db import session
from jet.store.models import Event, Invoice, LedgerEntry
from jet.warehouse import rate
from tests.integration.test_radius_auth import SECRET, Server, answer, pap, radclient

pytestmark = pytest.mark.integration

# 5 c a minute plus 15 % GST: 0.0575 a minute online. Ben is postpaid on the same plan.
SCENARIO = """
realm:
  id: skyfi
  currency: NZD
  tax_rate: "0.15"
  cycle: fixed_date
  cycle_day: 1
  prepaid: {low_balance: "2.00"}
catalog:
  products:
    minutes: {type: duration, unit: minute, price: "0.05"}
  plans:
    hotspot:
      products: [minutes]
      radius: {session_timeout: 3600, idle_timeout: 300}
accounts:
  - {id: pat, name: Pat}
  - {id: ben, name: Ben}
subscriptions:
  - {account: pat, plan: hotspot, start: 2026-01-01}
  - {account: ben, plan: hotspot, start: 2026-01-01}
usage:
  - {account: pat, ts: "2026-01-05T08:00:00Z", seconds: 3600}
  - {account: ben, ts: "2026-01-05T08:00:00Z", seconds: 3600}
until: 2026-01-20
"""
PER_SECOND = Decimal("0.05") * Decimal("1.15") / 60


def more_usage(settings, seconds: int, batch: str) -> None:
    table = {
        "account_id": ["pat"],
        "ts": [datetime(2026, 1, 15, 9, tzinfo=UTC)],
        "bytes_in": [0],
        "bytes_out": [0],
        "seconds": [seconds],
        "source_file": [batch],
        "source_line": [1],
    }
    land("upstream_csv", pa.table(table), batch, settings.raw)


def events(settings, topic: str) -> list[dict]:
    with session(settings.db_url) as s:
        return [e.payload for e in s.scalars(select(Event).where(Event.topic == topic))]


def deductions(settings) -> list[tuple[str, Decimal]]:
    with session(settings.db_url) as s:
        found = s.scalars(select(LedgerEntry).where(LedgerEntry.kind == "usage"))
        return [(e.reference, e.amount) for e in found]


def left(settings) -> Decimal:
    with session(settings.db_url) as s:
        return credit_left(s, ["pat"])["pat"]


def test_usage_runs_the_balance_down_once_and_radius_grants_what_is_left(
    settings, tmp_path
) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_text(SCENARIO)
    until = load_scenario(path, settings).isoformat()
    with session(settings.db_url) as s:
        update_account(s, "pat", prepaid=True)
        top_up(s, Actor.here(), "pat", "5.00", "cash", day=date(2026, 1, 2))
        set_radius_password(s, "pat", "pat-pw")
        add_nas_client(s, "127.0.0.1", SECRET, "skyfi")

    # the open cycle's hour online: 60 x 0.05 = 3.00, GST 0.45
    rate(settings, until, "build")  # with its data tests and the unit tests
    assert deduct_usage(settings) == 1
    assert deductions(settings) == [("cycle 2026-02-01", Decimal("3.45"))]
    assert left(settings) == Decimal("1.55")
    assert [e["account"] for e in events(settings, LOW_BALANCE)] == ["pat"]  # 5.00 -> 1.55
    assert events(settings, EXHAUSTED) == []

    # the same marts, and a new run over the same usage: nothing more
    assert deduct_usage(settings) == 0
    rate(settings, until, "run")
    assert deduct_usage(settings) == 0
    assert left(settings) == Decimal("1.55") and len(deductions(settings)) == 1

    # RADIUS: 1.55 pays floor(1.55 / (0.0575 / 60)) = 1617 seconds, under the plan's 3600
    expected = int((Decimal("1.55") / PER_SECOND).to_integral_value(ROUND_FLOOR))
    assert expected == 1617
    server = Server(settings.root)
    try:
        [granted] = radclient(server.port, [pap("pat", "pat-pw")])
        assert answer(granted) == (
            "Access-Accept",
            {"Session-Timeout": str(expected), "Idle-Timeout": "300"},
        )
    finally:
        server.stop()

    # the session uses all it was granted: 5217 s in the cycle, 86.95 minutes at 0.05 is
    # 4.3475, 4.35 + 0.65 GST (0.6525) = 5.00, so the deduction is the 1.55 left. One
    # login between two runs cannot overdraw the credit (docs/prepaid.md, the bound)
    # `jet rate`: the Dagster rating job, whose prepaid_deductions asset deducts
    more_usage(settings, expected, "more")
    result = CliRunner().invoke(main, ["rate", "--as-of", until])
    assert result.exit_code == 0, result.output
    assert deduct_usage(settings) == 0  # the job did it
    assert [a for _, a in deductions(settings)] == [Decimal("3.45"), Decimal("1.55")]
    assert left(settings) == 0
    assert len(events(settings, LOW_BALANCE)) == 1  # once per crossing: already below
    [exhausted] = events(settings, EXHAUSTED)
    assert exhausted["left"] == "0.00"
    with session(settings.db_url) as s:
        event = s.scalar(select(Event).where(Event.topic == EXHAUSTED))
        assert asked(s, event, date(2026, 1, 20)) == []  # a Disconnect of its sessions

    server = Server(settings.root)
    try:
        [refused] = radclient(server.port, [pap("pat", "pat-pw")])
        assert answer(refused) == (
            "Access-Reject",
            {"Reply-Message": "No prepaid balance left: please top up"},
        )
    finally:
        server.stop()

    # the bill: the invoice holds the usage, its ledger entry only what was not deducted
    rate(settings, "2026-02-01", "run")
    assert deduct_usage(settings) == 0
    issue_invoices(settings, date(2026, 2, 1), date(2026, 2, 1))
    with session(settings.db_url) as s:
        pat = s.scalar(select(Invoice).where(Invoice.account_id == "pat"))
        ben = s.scalar(select(Invoice).where(Invoice.account_id == "ben"))
        assert (pat.subtotal, pat.tax, pat.total) == (
            Decimal("4.35"),
            Decimal("0.65"),
            Decimal("5.00"),
        )
        assert ben.total == Decimal("3.45")  # postpaid: nothing deducted, all invoiced
        assert balance(s, "ben") == Decimal("3.45")
        assert balance(s, "pat") == 0  # the same as before the invoice: nothing twice
        entry = s.scalar(select(LedgerEntry).where(LedgerEntry.invoice_id == pat.id))
        assert entry.amount == 0

    # topping up: the disconnect is no longer asked for, and the login is accepted again
    with session(settings.db_url) as s:
        top_up(s, Actor.here(), "pat", "10.00", "bank", reference="TX-1")
        event = s.scalar(select(Event).where(Event.topic == EXHAUSTED))
        assert asked(s, event, date(2026, 2, 2)) == "pat was topped up: not disconnected"
    assert left(settings) == Decimal("10.00")
