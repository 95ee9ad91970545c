"""Payments against invoices the real billing run issued: the oldest first, a named one,
and an overpayment that the next issued invoice uses."""

from __future__ import annotations

import json
from datetime import date

from click.testing import CliRunner

from jet.cli import main
from jet.drivers.simulate import load_scenario
from tests.integration.test_invoicing import SCENARIOS, bill


def jet(*args: str) -> str:
    done = CliRunner().invoke(main, list(args))
    assert done.exit_code == 0, done.output
    return done.output


def open_invoices() -> list[tuple[str, str, str, str]]:
    shown = json.loads(jet("account", "balance", "bob", "--json"))
    return [(d["date"], d["amount"], d["paid"], d["due"]) for d in shown["open"]]


def test_payments_against_issued_invoices(settings) -> None:
    load_scenario(SCENARIOS / "02-tiers-duration-once.yaml", settings)
    bill(settings, date(2026, 1, 1))
    assert open_invoices() == [("2026-01-01", "22.00", "0.00", "22.00")]
    jet("payment", "record", "bob", "50", "--method", "bank", "--date", "2026-01-20")
    assert json.loads(jet("account", "balance", "bob", "--json"))["credit"] == "28.00"

    bill(settings, date(2026, 2, 1))  # the overpayment pays part of the next invoice
    assert open_invoices() == [("2026-02-01", "81.90", "28.00", "53.90")]

    bill(settings, date(2026, 3, 1))
    (feb, *_), (mar, mar_total, *_) = open_invoices()
    march = json.loads(jet("account", "balance", "bob", "--json"))["open"][1]["number"]
    jet("payment", "record", "bob", "10.00", "--method", "cash", "--invoice", march)
    assert open_invoices()[1][2] == "10.00"  # the named invoice, not the oldest

    jet("payment", "record", "bob", "60.00", "--method", "card")
    left = open_invoices()
    assert [d for d, *_ in left] == ["2026-03-01"]  # the oldest was paid first, in full
    assert left[0][2] == "16.10"  # 10.00 named + 60.00 - 53.90

    listed = jet("payment", "list", "bob")
    assert listed.count("payment") >= 3 and "balance AUD" in listed
