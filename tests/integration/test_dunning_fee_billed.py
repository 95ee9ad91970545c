"""A dunning step's late fee is billed once, untaxed, on the account's next invoice."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from jet.accounts import subscribe
from jet.drafts import draft_invoices
from jet.dunning import run
from jet.store.db import session
from jet.warehouse import rate
from tests.ledger_fixtures import acme, issue


def test_the_late_fee_lands_on_the_next_invoice_once(settings) -> None:
    with session(settings.db_url) as s:
        acme(s)
        subscribe(s, "bob", "home", date(2026, 1, 1))
        issue(s, "bob", date(2026, 1, 1), "69.00")  # due 2026-01-15; +14: fee on 01-29
        assert run(s, date(2026, 1, 29)).taken["fee"] == 1
        assert run(s, date(2026, 1, 30)).taken["fee"] == 0
    rate(settings, "2026-02-01", "run")
    [february] = [
        inv
        for inv in draft_invoices(settings, date(2026, 2, 1))
        if inv["bill_date"] == "2026-02-01" and inv["account"] == "bob"
    ]
    [fee] = [line for line in february["lines"] if line["kind"] == "item"]
    assert (fee["amount"], fee["period_start"]) == ("10.00", "2026-01-29")
    access = sum(Decimal(line["amount"]) for line in february["lines"] if line["kind"] != "item")
    assert Decimal(february["tax"]) == (access * Decimal("0.10")).quantize(Decimal("0.01"))
