"""Cards charged for invoices the real billing run issued, through the outbox's real
dispatcher and every subscriber: on issue, again on the realm's retry day after a
decline, never twice for one event, and not at all for an invoice paid meanwhile."""

from __future__ import annotations

import json
from datetime import UTC, date, timedelta

import yaml
from click.testing import CliRunner
from sqlalchemy import select, update

from jet.cli import main
from jet.deliveries import dispatch
from jet.drivers.simulate import load_scenario
from jet.drivers.subscribers import subscribers
from jet.store.db import session
from jet.store.models import Event, EventDelivery, Invoice, LedgerEntry
from tests.integration.test_invoicing import SCENARIOS, bill


def jet(*args: str) -> str:
    done = CliRunner().invoke(main, list(args))
    assert done.exit_code == 0, done.output
    return done.output


def attempts() -> list[tuple[str, int | None, str, str | None]]:
    listed = json.loads(jet("card", "list", "bob", "--json"))["charges"]
    return [(c["amount"], c["attempt"], c["outcome"], c["reason"]) for c in reversed(listed)]


def due() -> list[str]:
    return [d["due"] for d in json.loads(jet("account", "balance", "bob", "--json"))["open"]]


def test_cards_charged_on_issue_and_retried_on_the_realms_days(settings, tmp_path, monkeypatch):
    scenario = yaml.safe_load((SCENARIOS / "02-tiers-duration-once.yaml").read_text())
    scenario["realm"]["gateway"] = {
        "kind": "sandbox",
        "secret_env": "DEMO_KEY",
        "retry_days": [1, 3],
    }
    (tmp_path / "cards.yaml").write_text(yaml.safe_dump(scenario))
    monkeypatch.setenv("DEMO_KEY", "sk_test_demo")
    load_scenario(tmp_path / "cards.yaml", settings)
    jet("card", "add", "bob", "--number", "4000 0000 0000 0002", "--expiry", "08/29")

    bill(settings, date(2026, 1, 1))
    jet("events", "dispatch")
    assert attempts() == [("22.00", 0, "declined", "card_declined")]
    assert due() == ["22.00"]
    with session(settings.db_url) as s:
        issued = s.scalar(select(Invoice.issued_at)).replace(tzinfo=UTC)
    jet("events", "dispatch")  # the retry waits for its day
    assert len(attempts()) == 1

    jet("card", "add", "bob", "--number", "4242424242424242", "--expiry", "08/29")
    a_day_later = issued + timedelta(days=1, minutes=1)
    dispatch(settings, subscribers(settings), now=lambda: a_day_later)
    assert attempts()[-1] == ("22.00", 1, "charged", None)
    assert due() == []

    # at least once: the retry's delivery repeated (a crash before it was recorded)
    with session(settings.db_url) as s:
        s.execute(
            update(EventDelivery)
            .where(EventDelivery.subscriber == "card-gateway")
            .values(status="pending", next_attempt_at=None)
        )
    dispatch(settings, subscribers(settings), now=lambda: a_day_later + timedelta(days=2))
    assert len(attempts()) == 2
    with session(settings.db_url) as s:
        paid = s.scalars(select(LedgerEntry).where(LedgerEntry.kind == "payment")).all()
        assert [(p.amount, p.method) for p in paid] == [(-22, "card")]
        retries = s.scalars(select(Event).where(Event.topic == "card.charge_due")).all()
        assert len(retries) == 1  # the retry's repeat scheduled no other

    bill(settings, date(2026, 2, 1))  # the stored 4242 card pays on issue
    jet("events", "dispatch")
    assert attempts()[-1] == ("81.90", 0, "charged", None)
    assert due() == []

    bill(settings, date(2026, 3, 1))  # paid in cash before the charge: not charged
    march = json.loads(jet("account", "balance", "bob", "--json"))["open"][0]
    jet("payment", "record", "bob", march["due"], "--method", "cash")
    jet("events", "dispatch")
    assert len(attempts()) == 3
    with session(settings.db_url) as s:
        said = s.scalar(
            select(EventDelivery.outcome)
            .join(Event, Event.id == EventDelivery.event_id)
            .where(EventDelivery.subscriber == "card-gateway", Event.account_id == "bob")
            .order_by(Event.id.desc())
        )
    assert said == f"{march['number']} is paid: nothing to charge"
