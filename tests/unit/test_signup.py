"""Sign-up in the portal: a public plan, details checked as `jet account add` checks
them, a verification link e-mailed over real SMTP (aiosmtpd on loopback) that opens the
account once; no account (so no sign-in) before it; a rate limit per client address; a
honeypot that drops bots silently; a first top-up asked in prepaid realms."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from jet.accounts import add_accounts
from jet.audit import Actor
from jet.catalog import load_catalog_file
from jet.config import PROJECT_ROOT, Settings
from jet.mail_server import MailNotSent
from jet.portal_logins import PortalLoginRefused, customer_of, portal_sign_in
from jet.ports import free_tcp_port
from jet.prepaid import top_up
from jet.realms import store_catalog
from jet.signup import PER_ADDRESS, SignupError, first_top_up_due, start_signup, verify_signup
from jet.store.db import session
from jet.store.models import Account, AuditEntry, Event, SignUp, Subscription
from tests.mailbox import serving

PORTAL = "https://portal.acme.localhost/"
ROUTER, WEB = "router-secret", "my portal password"
ANN = {"login": "ann", "name": "Ann Lee", "email": "ann@home.example", "country": "AU"}


@pytest.fixture
def mailbox(monkeypatch):
    yield from serving(monkeypatch)


@pytest.fixture
def url(settings: Settings, mailbox) -> str:
    """The demo realms acme (sign-up open), skyfi (prepaid, a first top-up) and eurowave
    (sign-up closed); pat already has the login "pat"."""
    with session(settings.db_url) as s:
        for name in ("acme", "skyfi", "eurowave"):
            path = PROJECT_ROOT / "examples" / "catalogs" / f"{name}.yaml"
            store_catalog(s, load_catalog_file(path), str(path))
        add_accounts(s, "acme", [{"id": "pat", "name": "Pat"}], Actor("root", "cli"))
    return settings.db_url


def start(url, realm="acme", plan="home", details=ANN, client="203.0.113.7", **more) -> None:
    with session(url) as s:
        start_signup(s, Settings(), realm, plan, dict(details), ROUTER, WEB, client, PORTAL, **more)


def refusal(url, **given) -> str:
    with pytest.raises(SignupError) as caught:
        start(url, **given)
    return str(caught.value)


def verify(url, token) -> str:
    with session(url) as s:
        return verify_signup(s, token)


def test_the_link_opens_the_account_through_the_core_once(url, mailbox):
    start(url)
    (mail,) = mailbox.messages
    assert mail["To"] == "ann@home.example" and "Acme Broadband" in mail["From"]
    token = mailbox.link("verify")
    assert f"{PORTAL}?verify={token}" in mail.get_content()
    with session(url) as s:
        assert s.get(Account, "ann") is None  # nothing before the link is followed
        pending = s.scalar(select(SignUp))
        assert token not in pending.token_sha256 and "203.0.113.7" not in pending.client_sha256
        assert WEB not in pending.portal_password_hash
    with session(url) as s, pytest.raises(PortalLoginRefused):
        portal_sign_in(s, "ann", WEB)
    assert verify(url, token) == "ann"
    with session(url) as s:
        ann = s.get(Account, "ann")
        assert (ann.realm_id, ann.name, ann.email, ann.country) == (
            "acme", "Ann Lee", "ann@home.example", "AU",
        )  # fmt: skip
        assert ann.radius_password == ROUTER and not ann.prepaid
        (sub,) = s.scalars(select(Subscription).where(Subscription.account_id == "ann"))
        assert sub.plan_id == "home" and sub.start_date == datetime.now(UTC).date()
        audit = s.scalars(select(AuditEntry).where(AuditEntry.account_id == "ann")).all()
        topics = s.scalars(select(Event.topic).where(Event.account_id == "ann")).all()
        done = s.scalar(select(SignUp))
        assert (done.radius_password, done.portal_password_hash) == ("", "")
    assert {(e.actor, e.channel) for e in audit} == {("ann", "portal")}
    assert {"account.created", "portal.password_changed", "password.changed"} <= {
        e.action for e in audit
    }
    assert {"account.created", "subscription.started", "password.changed"} <= set(topics)
    with session(url) as s:
        token_in = portal_sign_in(s, "ann", WEB)
        assert customer_of(s, token_in).accounts == {"ann"}
    with pytest.raises(SignupError, match="used already: account ann is open"):
        verify(url, token)


def test_a_link_that_is_unknown_or_expired_opens_nothing(url, mailbox):
    start(url)
    with session(url) as s:
        s.scalar(select(SignUp)).expires_at = datetime.now(UTC) - timedelta(minutes=1)
    for token in (mailbox.link("verify"), "made-up"):
        with pytest.raises(SignupError, match="unknown or expired"):
            verify(url, token)
    with session(url) as s:
        assert s.get(Account, "ann") is None


def test_what_is_wrong_is_refused_before_any_mail(url, mailbox):
    assert "not open in this realm" in refusal(url, realm="eurowave", plan="fibre")
    assert "choose one of the plans offered: home, hotspot" in refusal(url, plan="business")
    assert "pat is taken" in refusal(url, details={**ANN, "login": "pat"})
    assert "email: give your e-mail address" in refusal(url, details={"login": "bob"})
    assert "is not an e-mail address" in refusal(url, details={**ANN, "email": "ann@"})
    assert "unknown details parent" in refusal(url, details={**ANN, "parent": "pat"})
    with session(url) as s, pytest.raises(SignupError, match="router password"):
        start_signup(s, Settings(), "acme", "home", ANN, "", WEB, "1.2.3.4", PORTAL)
    with session(url) as s, pytest.raises(Exception, match="at least 10"):
        start_signup(s, Settings(), "acme", "home", ANN, ROUTER, "short", "1.2.3.4", PORTAL)
    assert mailbox.messages == []


def test_a_login_taken_between_start_and_link_is_refused_at_the_link(url, mailbox):
    start(url)
    start(url, details={**ANN, "email": "other@home.example"})  # the same login twice
    assert verify(url, mailbox.link("verify", 1)) == "ann"
    with pytest.raises(SignupError, match="login: ann is taken: choose another; sign up again"):
        verify(url, mailbox.link("verify", 0))


def test_one_address_may_start_a_few_sign_ups_an_hour_and_a_honeypot_drops_bots(url, mailbox):
    start(url, details={**ANN, "login": "bot"}, honeypot="http://spam.example")
    assert mailbox.messages == []
    for n in range(PER_ADDRESS):
        start(url, details={**ANN, "login": f"ann{n}"})
    assert "too many sign-ups" in refusal(url, details={**ANN, "login": "ann9"})
    start(url, details={**ANN, "login": "ann9"}, client="198.51.100.1")  # another address
    assert len(mailbox.messages) == PER_ADDRESS + 1
    with session(url) as s:
        assert s.scalar(select(AuditEntry).where(AuditEntry.action == "signup.refused"))
        assert s.scalar(select(SignUp).where(SignUp.login == "bot")) is None


def test_a_prepaid_realm_asks_a_first_top_up(url, mailbox):
    start(url, realm="skyfi", plan="pay-as-you-go", details={**ANN, "country": "NZ"})
    account = verify(url, mailbox.link("verify"))
    with session(url) as s:
        assert s.get(Account, account).prepaid
        assert first_top_up_due(s, account) == Decimal("10.00")
        top_up(s, Actor(account, "portal"), account, "10.00", "card")
        assert first_top_up_due(s, account) is None
        assert first_top_up_due(s, "pat") is None  # a postpaid realm asks none


def test_without_a_mail_server_the_sign_up_keeps_nothing(url, monkeypatch):
    monkeypatch.setenv("JET_SMTP_PORT", str(free_tcp_port()))  # nothing listens there
    with pytest.raises(MailNotSent, match="try again in a few minutes"):
        start(url)
    with session(url) as s:
        assert s.scalar(select(SignUp)) is None
