"""The dunning ladder over simulated days: each step once, late fees, suspension for
non-payment with its reason at login, reactivation by paying, closing and writing off."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from jet import dunning
from jet.accounts import set_radius_password, update_account
from jet.audit import Actor
from jet.cli import main
from jet.ledger import balance, record_payment
from jet.network_access import UNPAID, decide, load_view
from jet.store.db import session
from jet.store.models import Account, DunningAction, Event, LineItem
from tests.ledger_fixtures import acme, issue

ME = Actor("staff@acme.example", "cli")
BILL = date(2026, 1, 1)
DUE = BILL + timedelta(days=14)  # acme's payment terms


@pytest.fixture
def db(settings):
    with session(settings.db_url) as s:
        acme(s)
        for login in ("bob", "carol"):
            set_radius_password(s, login, f"{login}-secret", ME)
        issue(s, "bob", BILL, "50.00")
    return settings.db_url


def run(db, days: int) -> dunning.Run:
    with session(db) as s:
        return dunning.run(s, DUE + timedelta(days=days))


def login(db, user: str):
    return decide(load_view(db), "10.0.0.1", user, lambda p: p == f"{user}-secret".encode(),
                  DUE)  # fmt: skip


def test_each_step_comes_on_its_day_and_only_once(db) -> None:
    assert run(db, 6).taken == {"fee": 0}
    assert run(db, 7).taken == {"remind": 1, "fee": 0}
    assert run(db, 7).taken == {"fee": 0}  # the same day again: nothing twice
    assert run(db, 14).taken == {"remind": 1, "fee": 1}
    with session(db) as s:
        fee = s.scalars(select(LineItem)).one()
        reminders = s.scalars(select(Event).where(Event.topic == "dunning.reminder")).all()
    assert (fee.account_id, fee.amount, fee.source) == ("bob", 10, "dunning")
    assert [e.payload["step"] for e in reminders] == [1, 2]
    assert reminders[0].payload["due"] == "50.00" and reminders[0].payload["days_overdue"] == 7


def test_a_late_first_run_takes_every_step_that_has_come(db) -> None:
    done = run(db, 30)
    assert done.taken == {"remind": 2, "suspend": 1, "fee": 1} and done.suspended == ["bob"]


def test_suspension_rejects_the_account_and_its_users_until_it_pays(db) -> None:
    done = run(db, 21)
    assert done.suspended == ["bob"]
    for user in ("bob", "carol"):  # carol is billed to bob
        decision = login(db, user)
        assert (decision.accepted, decision.reply) == (False, (("Reply-Message", UNPAID),))
    with session(db) as s:
        assert s.get(Account, "bob").status == "suspended"
        record_payment(s, ME, "bob", "20.00", "cash")
        assert s.get(Account, "bob").status == "suspended"  # still 30.00 owed
        record_payment(s, ME, "bob", "30.00", "cash")
        assert (s.get(Account, "bob").status, s.get(Account, "bob").hold) == ("active", None)
        topics = s.scalars(
            select(Event.topic).where(Event.topic.like("account.%")).order_by(Event.id)
        ).all()
    assert topics[-2:] == ["account.suspended", "account.reactivated"]
    assert "Login incorrect" not in str(login(db, "bob").reply)
    assert login(db, "bob").reason != "suspended"


def test_a_suspension_made_by_a_person_is_not_lifted_by_paying(db) -> None:
    run(db, 21)
    with session(db) as s:
        update_account(s, "bob", status="suspended", actor=ME)  # staff take it over
        record_payment(s, ME, "bob", "50.00", "cash")
        assert s.get(Account, "bob").status == "suspended"
    assert login(db, "bob").reply == (
        ("Reply-Message", "Account suspended: please contact support"),
    )


def test_closing_writes_off_what_is_open(db) -> None:
    done = run(db, 60)
    assert done.closed == ["bob"] and done.taken["close"] == 1
    with session(db) as s:
        assert s.get(Account, "bob").status == "closed"
        assert balance(s, "bob") == 0
        assert s.scalar(select(func.count()).select_from(DunningAction)) == 4
    assert run(db, 90).taken == {"fee": 0}


def test_dunning_status_and_run_commands(db) -> None:
    cli = CliRunner()
    done = cli.invoke(main, ["dunning", "run", "--as-of", (DUE + timedelta(days=8)).isoformat()])
    assert done.exit_code == 0 and "1 remind" in done.output, done.output
    shown = cli.invoke(
        main, ["dunning", "status", "--as-of", (DUE + timedelta(days=8)).isoformat()]
    )
    assert "bob" in shown.output and "8 days late; done: remind; next: remind on 2026-01-29" in (
        shown.output
    )
    assert "1 overdue invoices" in shown.output
