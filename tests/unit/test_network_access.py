"""Who may log in through RADIUS: the decision and its order, the view read from the store
(a subscription's plan from the catalog version it is priced by), and the `jet account`
commands that set what the decision reads."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from click.testing import CliRunner

from jet.accounts import add_accounts, subscribe
from jet.catalog import RadiusAttributes, load_catalog_file, parse_catalog
from jet.cli import main
from jet.config import PROJECT_ROOT
from jet.nas import add_nas_client
from jet.network_access import (
    AccessView,
    Login,
    PlanPeriod,
    decide,
    load_view,
    reply_attributes,
)
from jet.realms import store_catalog
from jet.store.db import session
from jet.store.models import Account, Subscription

TODAY = date(2026, 6, 15)
HOME = PlanPeriod(date(2026, 1, 1), None, "home", (("Session-Timeout", 86400),))
ALICE = Login("alice", "acme", b"pw", "active", None, False, None, None, (HOME,))


class Password:
    """A password check that records how often it was asked."""

    def __init__(self, clear: bytes) -> None:
        self.clear, self.calls = clear, 0

    def __call__(self, stored: bytes) -> bool:
        self.calls += 1
        return stored == self.clear


def login(user: str = "alice", given: bytes = b"pw", nas: str = "10.0.0.1", **changes):
    view = AccessView({"alice": replace(ALICE, **changes)}, {"10.0.0.1": "acme", "10.0.0.2": "sky"})
    check = Password(given)
    decision = decide(view, nas, user, check, TODAY)
    assert check.calls == 1  # as long for any answer
    message = dict(decision.reply).get("Reply-Message")
    return decision.reason, message


def test_an_active_account_gets_its_plan_and_static_address() -> None:
    view = AccessView({"alice": ALICE}, {"10.0.0.1": "acme"})
    decision = decide(view, "10.0.0.1", "alice", Password(b"pw"), TODAY)
    assert decision.accepted and decision.reply == (("Session-Timeout", 86400),)
    fixed = replace(ALICE, framed_ip="100.64.0.9")
    decision = decide(
        AccessView({"alice": fixed}), "10.0.0.1", "alice@ACME", Password(b"pw"), TODAY
    )
    assert decision.reply[-1] == ("Framed-IP-Address", "100.64.0.9")


@pytest.mark.parametrize(
    ("attempt", "changes", "reason", "message"),
    [
        ({"user": "bob"}, {}, "unknown_user", "Login incorrect"),
        ({"given": b"PW"}, {}, "wrong_password", "Login incorrect"),
        ({}, {"password": None}, "unknown_user", "Login incorrect"),
        ({"user": "alice@sky"}, {}, "unknown_user", "Login incorrect"),
        ({"user": "alice@"}, {}, "unknown_user", "Login incorrect"),
        ({"nas": "10.0.0.2"}, {}, "unknown_user", "Login incorrect"),  # a sky NAS
        ({"nas": "10.0.0.2", "user": "alice@acme"}, {}, "accepted", None),  # roaming
        ({"given": b"x"}, {"status": "suspended"}, "wrong_password", "Login incorrect"),
        ({}, {"status": "suspended"}, "suspended", "Account suspended: please contact support"),
        ({}, {"status": "closed"}, "closed", "Account closed: please contact support"),
        ({}, {"expires_at": TODAY}, "expired", "Account expired on 2026-06-15"),
        ({}, {"expires_at": date(2026, 6, 16)}, "accepted", None),
        ({}, {"prepaid": True}, "no_balance", "No prepaid balance left: please top up"),
        ({}, {"prepaid": True, "balance": Decimal("0.00")}, "no_balance", None),
        ({}, {"prepaid": True, "balance": Decimal("-1")}, "no_balance", None),
        ({}, {"prepaid": True, "balance": Decimal("0.01")}, "accepted", None),
        ({}, {"balance": Decimal("0")}, "accepted", None),  # postpaid: the balance is not read
        ({}, {"plans": ()}, "no_plan", "No active plan: please contact support"),
        ({}, {"plans": (replace(HOME, end=TODAY),)}, "no_plan", None),
        ({}, {"plans": (replace(HOME, start=date(2026, 6, 16)),)}, "no_plan", None),
        # the order: suspended before expired before the balance
        ({}, {"status": "suspended", "expires_at": TODAY}, "suspended", None),
        ({}, {"expires_at": TODAY, "prepaid": True}, "expired", None),
        ({}, {"prepaid": True, "plans": ()}, "no_balance", None),
    ],
)
def test_the_decision_and_its_order(attempt, changes, reason, message) -> None:
    got_reason, got_message = login(**attempt, **changes)
    assert got_reason == reason
    if message is not None:
        assert got_message == message


def test_the_latest_subscription_in_force_gives_the_plan() -> None:
    business = PlanPeriod(date(2026, 6, 1), None, "business", (("Idle-Timeout", 60),))
    view = AccessView({"alice": replace(ALICE, plans=(business, HOME))}, {"10.0.0.1": "acme"})
    assert decide(view, "10.0.0.1", "alice", Password(b"pw"), TODAY).reply == business.reply


def test_reply_attributes_of_a_plan() -> None:
    assert reply_attributes(None) == ()
    radius = RadiusAttributes(session_timeout=60, rate_limit="512k/10G")
    assert reply_attributes(radius) == (
        ("Session-Timeout", 60),
        ("Mikrotik-Rate-Limit", "512k/10G"),
        ("WISPr-Bandwidth-Max-Up", 512_000),
        ("WISPr-Bandwidth-Max-Down", 2**32 - 1),  # what a RADIUS integer holds
    )


def test_load_view_reads_the_plan_a_subscription_is_priced_by(settings) -> None:
    acme = load_catalog_file(PROJECT_ROOT / "examples" / "catalogs" / "acme.yaml")
    later = acme.to_dict()
    later["effective_from"] = "2026-06-01"
    later["plans"]["home"]["radius"] = {"rate_limit": "50M/200M"}
    with session(settings.db_url) as s:
        store_catalog(s, acme, "acme.yaml")
        store_catalog(s, parse_catalog(later, "later"), "later")
        add_nas_client(s, "10.0.0.1", "secret", "acme")
        add_accounts(s, "acme", [{"id": a} for a in ("early", "late", "older", "nobody")])
        subscribe(s, "early", "home", date(2026, 3, 1))
        subscribe(s, "late", "home", date(2026, 6, 1))
        # what a store may hold from before plans and dates were checked at the door
        s.add(Subscription(account_id="older", plan_id="home", start_date=date(2025, 1, 1),
                           end_date=date(2025, 6, 1)))  # fmt: skip
        s.add(Subscription(account_id="older", plan_id="gone-plan", start_date=date(2025, 6, 1)))
        for account in ("early", "late", "older"):
            s.get(Account, account).radius_password = f"{account}-pässword"
    view = load_view(settings.db_url)
    assert view.nas_realms == {"10.0.0.1": "acme"}
    assert set(view.logins) == {"early", "late", "older"}  # nobody has no password
    early, late, older = view.logins["early"], view.logins["late"], view.logins["older"]
    assert early.password == "early-pässword".encode()
    assert dict(early.plan_on(TODAY).reply)["Mikrotik-Rate-Limit"] == "20M/100M"
    assert late.plan_on(TODAY).reply == (
        ("Mikrotik-Rate-Limit", "50M/200M"),
        ("WISPr-Bandwidth-Max-Up", 50_000_000),
        ("WISPr-Bandwidth-Max-Down", 200_000_000),
    )
    assert [p.plan_id for p in older.plans] == ["gone-plan", "home"]
    assert older.plans[0].reply == () and older.plans[1].reply[0] == ("Session-Timeout", 86400)
    assert (early.status, early.prepaid, early.balance, early.framed_ip) == (
        "active",
        False,
        None,
        None,
    )


# --- `jet account` ----------------------------------------------------------------------


@pytest.fixture
def accounts(settings):
    path = PROJECT_ROOT / "examples" / "catalogs" / "acme.yaml"
    with session(settings.db_url) as s:
        store_catalog(s, load_catalog_file(path), "acme.yaml")
        add_accounts(s, "acme", [{"id": "alice"}, {"id": "bob"}])
    return settings


def stored(settings, account_id: str) -> Account:
    with session(settings.db_url) as s:
        return s.get(Account, account_id)


def jet(*args: str, input: str | None = None):
    return CliRunner().invoke(main, list(args), input=input)


def test_account_password(accounts) -> None:
    result = jet("account", "password", "alice", input="s3cret\ns3cret\n")
    assert result.exit_code == 0, result.output
    assert "s3cret" not in result.output  # hidden as typed, and not printed
    assert stored(accounts, "alice").radius_password == "s3cret"
    result = jet("account", "password", "alice", "--password-stdin", input="with space \r\n")
    assert result.exit_code == 0 and stored(accounts, "alice").radius_password == "with space "
    assert jet("account", "password", "alice", "--remove").exit_code == 0
    assert stored(accounts, "alice").radius_password is None
    for given, error in [
        ("\n", "the password is empty"),
        ("x" * 129 + "\n", "has 129 bytes; RADIUS carries at most 128"),
        ("a\0b\n", "NUL"),
    ]:
        result = jet("account", "password", "alice", "--password-stdin", input=given)
        assert result.exit_code == 1 and error in result.output
    result = jet("account", "password", "carol", "--password-stdin", input="pw\n")
    assert result.exit_code == 1 and "no account 'carol'" in result.output


def test_account_set(accounts) -> None:
    result = jet(
        "account", "set", "alice", "--status", "suspended", "--expires", "2026-12-31",
        "--framed-ip", " 100.64.0.9", "--prepaid",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "alice: suspended, expires 2026-12-31, prepaid (balance 0.00)" in result.output
    result = jet("payment", "topup", "alice", "20.50", "--method", "cash")
    assert result.exit_code == 0 and "AUD 20.50 left" in result.output, result.output
    result = jet("account", "set", "alice", "--expires", "2026-12-31")
    assert "prepaid (balance 20.50)" in result.output, result.output
    alice = stored(accounts, "alice")
    assert (alice.status, alice.expires_at, alice.framed_ip) == (
        "suspended",
        date(2026, 12, 31),
        "100.64.0.9",
    )
    assert alice.prepaid
    result = jet("account", "set", "alice", "--expires", "never", "--framed-ip", "none")
    assert result.exit_code == 0, result.output
    assert (stored(accounts, "alice").expires_at, stored(accounts, "alice").framed_ip) == (
        None,
        None,
    )
    assert jet("account", "set", "alice", "--postpaid").exit_code == 0
    assert stored(accounts, "alice").prepaid is False

    jet("account", "set", "bob", "--framed-ip", "100.64.0.7")
    for args, error in [
        ([], "nothing to change"),
        (["--status", "gone"], "Invalid value for '--status'"),
        (["--expires", "31/12/2026"], "is not a date: give YYYY-MM-DD"),
        (["--framed-ip", "100.64.0.256"], "is not an IPv4 address"),
        (["--framed-ip", "224.0.0.1"], "cannot be a customer's address"),
        (["--framed-ip", "255.255.255.255"], "cannot be a customer's address"),
        (["--framed-ip", "100.64.0.7"], "already the static address of bob"),
        (["--prepaid", "--balance", "5"], "--balance is gone: a prepaid balance is the sum"),
    ]:
        result = jet("account", "set", "alice", *args)
        assert result.exit_code != 0 and error in result.output, (args, result.output)
    assert stored(accounts, "alice").prepaid is False  # a refused change changes nothing
    result = jet("account", "set", "carol", "--status", "active")
    assert result.exit_code == 1 and "no account 'carol'" in result.output
