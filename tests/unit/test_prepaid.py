"""Prepaid credit (docs/prepaid.md): the Session-Timeout it pays for, the access view's
one query for every login's credit, top-ups, deductions from a published mart and their
events, and migration 0014 from the stored field."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from alembic import command
from click.testing import CliRunner
from sqlalchemy import event, select

from jet.accounts import add_accounts, set_radius_password, subscribe, update_account
from jet.audit import Actor
from jet.catalog import load_catalog_file, parse_catalog
from jet.cli import main
from jet.config import PROJECT_ROOT
from jet.ledger import LedgerError, balance
from jet.network_access import AccessView, Login, PlanPeriod, decide, load_view, price_per_second
from jet.prepaid import EXHAUSTED, LOW_BALANCE, credit_left, deduct_usage, top_up
from jet.realms import store_catalog
from jet.store.db import alembic_config, engine, session
from jet.store.models import Event, LedgerEntry

TODAY = date(2026, 6, 15)
CATALOGS = PROJECT_ROOT / "examples" / "catalogs"
# acme's hotspot: 2.50 an hour plus 10 % GST, at most 3600 s a session
HOTSPOT = PlanPeriod(
    date(2026, 1, 1), None, "hotspot", (("Session-Timeout", 3600), ("Idle-Timeout", 600)),
    Decimal("2.75") / 3600,
)  # fmt: skip
PAT = Login("pat", "acme", b"pw", "active", None, True, Decimal("1.00"), None, (HOTSPOT,))


def granted(**changes) -> tuple[str, dict]:
    view = AccessView({"pat": replace(PAT, **changes)}, {"10.0.0.1": "acme"})
    decision = decide(view, "10.0.0.1", "pat", lambda stored: stored == b"pw", TODAY)
    return decision.reason, dict(decision.reply)


@pytest.mark.parametrize(
    ("credit", "seconds"),
    [
        ("1.00", 1309),  # 1.00 / (2.75 / 3600) = 1309.09: whole seconds, rounded down
        ("2.75", 3600),  # exactly an hour
        ("2.76", 3600),  # more than an hour: the plan's own Session-Timeout
        ("1000", 3600),
        ("0.000764", 1),  # 1.0002 s
    ],
)
def test_the_session_timeout_is_what_the_credit_pays_for(credit, seconds) -> None:
    reason, reply = granted(balance=Decimal(credit))
    assert reason == "accepted" and reply["Session-Timeout"] == seconds
    assert reply["Idle-Timeout"] == 600  # the plan's other attributes stay


def test_less_than_a_second_of_credit_is_none() -> None:
    for credit in ("0.0007", "0", "-0.18"):
        reason, reply = granted(balance=Decimal(credit))
        assert (reason, reply) == (
            "no_balance",
            {"Reply-Message": "No prepaid balance left: please top up"},
        )


def test_without_a_plan_timeout_the_credit_alone_decides() -> None:
    open_ended = replace(HOTSPOT, reply=(("Idle-Timeout", 600),))
    assert granted(balance=Decimal("27.50"), plans=(open_ended,))[1]["Session-Timeout"] == 36000


def test_postpaid_and_untimed_plans_get_the_plan_as_it_is() -> None:
    untimed = replace(HOTSPOT, per_second=None)
    assert granted(balance=Decimal("1"), plans=(untimed,))[1]["Session-Timeout"] == 3600
    assert granted(prepaid=False, balance=None)[1]["Session-Timeout"] == 3600


def test_price_per_second_of_a_plan() -> None:
    acme = load_catalog_file(CATALOGS / "acme.yaml")
    skyfi = load_catalog_file(CATALOGS / "skyfi.yaml")
    assert price_per_second(acme, "hotspot") == Decimal("2.50") * Decimal("1.10") / 3600
    assert price_per_second(skyfi, "pay-as-you-go") == Decimal("0.05") * Decimal("1.15") / 60
    assert price_per_second(acme, "home") is None  # data, not time
    assert price_per_second(skyfi, "no-such-plan") is None
    tiered = acme.to_dict()
    tiered["products"]["hotspot-time"] = {
        "type": "duration", "unit": "hour", "taxable": False, "tier_mode": "graduated",
        "tiers": [{"upto": "10", "price": "0"}, {"price": "3.00"}],
    }  # fmt: skip

    dearest = price_per_second(parse_catalog(tiered, "tiered"), "hotspot")
    assert dearest == Decimal("3.00") / 3600  # the dearest tier, untaxed


@pytest.fixture
def acme(settings):
    with session(settings.db_url) as s:
        store_catalog(s, load_catalog_file(CATALOGS / "acme.yaml"), "acme.yaml")
        add_accounts(s, "acme", [{"id": f"p{i}"} for i in range(40)] + [{"id": "post"}])
        for i in range(40):
            subscribe(s, f"p{i}", "hotspot", date(2026, 1, 1))
            set_radius_password(s, f"p{i}", "pw")
            update_account(s, f"p{i}", prepaid=True)
            if i % 2:
                top_up(s, Actor.here(), f"p{i}", f"{i}.00", "cash")
    return settings


def test_the_view_reads_every_credit_in_one_query(acme) -> None:
    statements: list[str] = []

    def seen(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    eng = engine(acme.db_url)
    event.listen(eng, "before_cursor_execute", seen)
    try:
        view = load_view(acme.db_url)
    finally:
        event.remove(eng, "before_cursor_execute", seen)
    ledger_reads = [q for q in statements if "ledger_entries" in q]
    assert len(ledger_reads) == 1, ledger_reads  # not one per login
    assert view.logins["p3"].balance == Decimal("3.00")
    assert view.logins["p4"].balance == 0  # never topped up
    reply = dict(decide(view, "x", "p1@acme", lambda p: p == b"pw", TODAY).reply)
    assert reply["Session-Timeout"] == 1309  # 1.00 / (2.75 / 3600), rounded down


def test_a_top_up_is_a_ledger_credit_and_bad_ones_store_nothing(acme) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["payment", "topup", "p0", "12.50", "--method", "cheque"])
    assert result.exit_code == 0 and "AUD 12.50 left" in result.output, result.output
    for args, error in [
        (["post", "5", "--method", "cash"], "post is postpaid: record a payment"),
        (["p0", "5.001", "--method", "cash"], "more decimals than AUD has (2)"),
        (["--method", "cash", "--", "p0", "-5"], "is not positive"),
        (["p0", "five", "--method", "cash"], "is not an amount"),
        (["p0", "5", "--method", "card"], "Invalid value for '--method'"),
        (["nobody", "5", "--method", "cash"], "no account 'nobody'"),
    ]:
        result = runner.invoke(main, ["payment", "topup", *args])
        assert result.exit_code != 0 and error in result.output, (args, result.output)
    with session(acme.db_url) as s:
        assert credit_left(s, ["p0"]) == {"p0": Decimal("12.50")}
        [entry] = s.scalars(select(LedgerEntry).where(LedgerEntry.account_id == "p0"))
        assert (entry.kind, entry.method) == ("top_up", "cheque")
        assert s.scalar(select(sa.func.count()).select_from(Event).where(
            Event.topic == "payment.recorded", Event.account_id == "p0")) == 1  # fmt: skip
        with pytest.raises(LedgerError, match="post is postpaid"):
            top_up(s, Actor.here(), "post", "5", "cash")


def test_migration_0014_turns_stored_balances_into_entries(settings) -> None:
    cfg = alembic_config(settings.db_url)
    command.upgrade(cfg, "0010")
    with engine(settings.db_url).begin() as conn:
        conn.execute(
            sa.text(
                "insert into realms (id, name, currency, minor_units, tax_rate, cycle, "
                "cycle_day, invoice_prefix, invoice_format, last_invoice_number) values "
                "('acme', 'Acme', 'AUD', 2, '0.10', 'fixed_date', 1, 'A', '{number}', 0)"
            )
        )
        for account, prepaid, stored in [
            ("up", True, "20.50"),
            ("down", True, "-3.25"),
            ("zero", True, "0"),
            ("none", True, None),
            ("post", False, None),
        ]:
            conn.execute(
                sa.text(
                    "insert into accounts (id, realm_id, name, status, created_at, prepaid, "
                    "prepaid_balance, kind, delivery) values (:id, 'acme', :id, 'active', "
                    "'2026-01-01 00:00:00', :prepaid, :stored, 'person', 'email')"
                ),
                {"id": account, "prepaid": prepaid, "stored": stored},
            )
    command.upgrade(cfg, "0014")
    with engine(settings.db_url).connect() as conn:
        columns = {c["name"] for c in sa.inspect(conn).get_columns("accounts")}
        assert "prepaid_balance" not in columns
    with session(settings.db_url) as s:
        entries = s.execute(
            select(
                LedgerEntry.account_id, LedgerEntry.kind, LedgerEntry.amount, LedgerEntry.key
            ).order_by(LedgerEntry.account_id)
        ).all()
        assert entries == [
            ("down", "usage", Decimal("3.25"), "0014:down"),
            ("up", "top_up", Decimal("-20.50"), "0014:up"),
        ]
        assert credit_left(s, ["up", "down", "zero", "none"]) == {
            "up": Decimal("20.50"),
            "down": Decimal("-3.25"),
            "zero": 0,
            "none": 0,
        }
    command.downgrade(cfg, "0010")
    with engine(settings.db_url).connect() as conn:
        back = dict(conn.execute(sa.text("select id, prepaid_balance from accounts")).all())
    assert Decimal(back["up"]) == Decimal("20.50") and Decimal(back["down"]) == Decimal("-3.25")
    assert back["post"] is None


def publish_rated(settings, rows: list[tuple[str, str]]) -> None:
    """A published fct_prepaid_usage, as a rating run leaves it: (account, total) of the
    cycle ending 2026-07-01."""
    settings.marts.mkdir(parents=True, exist_ok=True)
    table = pa.table(
        {
            "billing_account_id": [account for account, _ in rows],
            "bill_date": [date(2026, 7, 1)] * len(rows),
            "total": pa.array([Decimal(total) for _, total in rows], pa.decimal128(18, 3)),
            "minor_units": pa.array([2] * len(rows), pa.int32()),
        }
    )
    pq.write_table(table, settings.marts / "fct_prepaid_usage.parquet")


def topics(settings, account: str) -> list[str]:
    with session(settings.db_url) as s:
        found = s.scalars(
            select(Event.topic)
            .where(Event.account_id == account, Event.topic.like("prepaid.%"))
            .order_by(Event.id)
        )
        return list(found)


def test_deductions_warn_once_per_crossing_and_say_when_none_is_left(acme) -> None:
    def run(total: str) -> tuple[int, Decimal]:
        publish_rated(acme, [("p7", total), ("post", "99.00"), ("p2", "0.000")])
        written = deduct_usage(acme)
        with session(acme.db_url) as s:
            return written, credit_left(s, ["p7"])["p7"]

    # p7 has 7.00; acme warns at 5.00
    assert run("1.500") == (1, Decimal("5.50"))
    assert run("1.500") == (0, Decimal("5.50"))  # the same rated usage: nothing more
    assert topics(acme, "p7") == []
    assert run("2.500") == (1, Decimal("4.50"))  # crosses 5.00
    assert run("3.000") == (1, Decimal("4.00"))  # below already: no second warning
    assert topics(acme, "p7") == [LOW_BALANCE]
    with session(acme.db_url) as s:
        top_up(s, Actor.here(), "p7", "10.00", "cash")
    assert run("13.000") == (1, Decimal("4.00"))  # 14.00 -> 4.00: a new crossing
    assert topics(acme, "p7") == [LOW_BALANCE, LOW_BALANCE]
    assert run("17.500") == (1, Decimal("-0.50"))
    assert run("17.510") == (1, Decimal("-0.51"))  # usage went on: disconnect again
    assert topics(acme, "p7") == [LOW_BALANCE, LOW_BALANCE, EXHAUSTED, EXHAUSTED]
    with session(acme.db_url) as s:
        entries = s.execute(
            select(LedgerEntry.account_id, LedgerEntry.amount, LedgerEntry.reference)
            .where(LedgerEntry.kind == "usage")
            .order_by(LedgerEntry.id)
        ).all()
        assert sum(a for _, a, _ in entries) == Decimal("17.51")  # exactly what was rated
        assert {account for account, _, _ in entries} == {"p7"}  # postpaid: not deducted
        assert {ref for _, _, ref in entries} == {"cycle 2026-07-01"}
        assert balance(s, "post") == 0
