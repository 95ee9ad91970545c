"""Customers' portal logins: a password apart from the RADIUS one, sign-in refused in the
same words whatever the reason (the audit log says which), lockout after five failures,
sessions that expire and end, and a password reset by a link e-mailed over real SMTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from jet.accounts import add_accounts, close_account, set_radius_password
from jet.audit import Actor
from jet.catalog import load_catalog_file
from jet.cli import main
from jet.config import PROJECT_ROOT, Settings
from jet.portal_logins import (
    RESETS_PER_HOUR,
    PortalLoginRefused,
    PortalPasswordError,
    customer_of,
    portal_sign_in,
    portal_sign_out,
    request_password_reset,
    reset_password,
    set_portal_password,
)
from jet.realms import store_catalog
from jet.store.db import session
from jet.store.models import Account, AuditEntry, PortalLogin, PortalToken
from tests.mailbox import serving

STAFF = Actor("root", "cli")
PASSWORD = "blue tortoise sings"
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
PORTAL = "https://portal.acme.localhost/"


@pytest.fixture
def url(settings: Settings) -> str:
    """In acme: a company bigco with a user sue under it, and pat; pat and bigco have
    portal passwords, sue none."""
    with session(settings.db_url) as s:
        path = PROJECT_ROOT / "examples" / "catalogs" / "acme.yaml"
        store_catalog(s, load_catalog_file(path), str(path))
        add_accounts(
            s,
            "acme",
            [
                {"id": "bigco", "name": "Big Co", "kind": "company", "email": "it@bigco.example"},
                {"id": "sue", "name": "Sue", "parent": "bigco", "email": "sue@bigco.example"},
                {"id": "pat", "name": "Pat", "email": "pat@home.example"},
            ],
            STAFF,
        )
        set_radius_password(s, "pat", "radius-secret", STAFF)
        set_portal_password(s, STAFF, "pat", PASSWORD)
        set_portal_password(s, STAFF, "bigco", PASSWORD)
    return settings.db_url


@pytest.fixture
def mailbox(monkeypatch):
    yield from serving(monkeypatch)


def sign_in(url: str, login: str, password: str, now: datetime = T0) -> str:
    with session(url) as s:
        return portal_sign_in(s, login, password, now)


def refused(url: str, login: str, password: str, now: datetime = T0) -> str:
    with session(url) as s, pytest.raises(PortalLoginRefused) as caught:
        portal_sign_in(s, login, password, now)
    return str(caught.value)


def reasons(url: str) -> list[tuple[str, str]]:
    with session(url) as s:
        rows = s.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "portal.sign_in_refused")
            .order_by(AuditEntry.id)
        )
        return [(e.entity_id, e.after["reason"]) for e in rows]


def test_the_portal_password_is_kept_as_argon2_apart_from_the_radius_one(url):
    with session(url) as s:
        stored = s.get(PortalLogin, "pat").password_hash
        assert stored.startswith("$argon2") and PASSWORD not in stored
        assert s.get(Account, "pat").radius_password == "radius-secret"
        (entry,) = s.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "portal.password_changed", AuditEntry.account_id == "pat"
            )
        )
        assert PASSWORD not in str(entry.after) and entry.actor == "root"
    with session(url) as s, pytest.raises(PortalPasswordError, match="at least 10"):
        set_portal_password(s, STAFF, "pat", "short")


def test_a_session_names_the_customer_and_its_accounts(url):
    token = sign_in(url, " pat ", PASSWORD)
    with session(url) as s:
        pat = customer_of(s, token, T0 + timedelta(minutes=5))
        assert pat.account_id == "pat" and pat.accounts == {"pat"}
    company = sign_in(url, "bigco", PASSWORD)
    with session(url) as s:
        assert customer_of(s, company, T0).accounts == {"bigco", "sue"}
        assert customer_of(s, "made-up", T0) is None and customer_of(s, "", T0) is None


def test_every_refusal_reads_the_same_and_the_audit_says_why(url):
    messages = {
        refused(url, "ghost", PASSWORD),
        refused(url, "sue", PASSWORD),  # no portal password yet
        refused(url, "pat", "radius-secret"),  # the RADIUS password is not the portal's
    }
    with session(url) as s:
        close_account(s, STAFF, "bigco", T0.date())
    messages.add(refused(url, "bigco", PASSWORD))
    assert len(messages) == 1
    assert reasons(url) == [
        ("ghost", "unknown login"),
        ("sue", "no portal password"),
        ("pat", "wrong password"),
        ("bigco", "closed"),
    ]


def test_five_failures_lock_the_login_then_it_opens_again(url):
    for _ in range(5):
        refused(url, "pat", "wrong guess!!")
    refused(url, "pat", PASSWORD, T0 + timedelta(minutes=14))  # locked: even the right one
    assert reasons(url)[-1][1] == "locked"
    assert sign_in(url, "pat", PASSWORD, T0 + timedelta(minutes=16))


def test_sessions_expire_idle_or_old_and_end_at_sign_out_or_a_new_password(url):
    token = sign_in(url, "pat", PASSWORD)
    with session(url) as s:
        assert customer_of(s, token, T0 + timedelta(minutes=29))  # a use moves it on
        assert customer_of(s, token, T0 + timedelta(minutes=58))
        assert customer_of(s, token, T0 + timedelta(minutes=89)) is None  # idle 31 minutes
    token = sign_in(url, "pat", PASSWORD)
    with session(url) as s:
        portal_sign_out(s, token)
        assert customer_of(s, token, T0) is None
    token = sign_in(url, "pat", PASSWORD)
    with session(url) as s:
        set_portal_password(s, STAFF, "pat", "a new long password")
        assert customer_of(s, token, T0) is None
    late = sign_in(url, "pat", "a new long password")
    with session(url) as s:
        for minutes in range(0, 12 * 60, 20):  # in use all day ...
            assert customer_of(s, late, T0 + timedelta(minutes=minutes))
        assert customer_of(s, late, T0 + timedelta(hours=12, minutes=1)) is None  # ... 12 h


def test_a_reset_link_arrives_by_smtp_and_works_once(url, mailbox):
    with session(url) as s:
        request_password_reset(s, Settings(), "sue", PORTAL)
    (mail,) = mailbox.messages
    assert mail["To"] == "sue@bigco.example" and "Acme Broadband" in mail["From"]
    token = mailbox.link("reset")
    assert f"{PORTAL}?reset={token}" in mail.get_content()
    with session(url) as s:
        assert reset_password(s, token, "sue's first password") == "sue"
    assert sign_in(url, "sue", "sue's first password")
    with session(url) as s, pytest.raises(PortalPasswordError, match="used already or expired"):
        reset_password(s, token, "another password")
    with session(url) as s:
        stored = s.scalars(select(AuditEntry.after)).all()
    assert not any(token in str(values) for values in stored)


def test_a_reset_is_silent_for_unknown_logins_and_past_the_hourly_limit(url, mailbox):
    for login in ["ghost", *["pat"] * (RESETS_PER_HOUR + 2)]:
        with session(url) as s:
            request_password_reset(s, Settings(), login, PORTAL)
    assert len(mailbox.messages) == RESETS_PER_HOUR
    with session(url) as s:
        why = s.scalars(
            select(AuditEntry.after).where(AuditEntry.action == "portal.reset_refused")
        ).all()
    assert [w["reason"] for w in why] == ["unknown login"] + [
        f"more than {RESETS_PER_HOUR} in an hour"
    ] * 2


def test_a_reset_link_expires_after_an_hour(url, mailbox):
    with session(url) as s:
        request_password_reset(s, Settings(), "pat", PORTAL)
        s.scalar(select(PortalToken)).expires_at = datetime.now(UTC) - timedelta(seconds=1)
    with session(url) as s, pytest.raises(PortalPasswordError, match="expired"):
        reset_password(s, mailbox.link("reset"), "a new long password")


def test_staff_set_a_portal_password_with_the_command(url):
    result = CliRunner().invoke(
        main, ["portal", "password", "sue", "--password-stdin"], input="sue's portal pass\n"
    )
    assert result.exit_code == 0, result.output
    assert "set the portal password of sue" in result.output
    assert sign_in(url, "sue", "sue's portal pass")
    result = CliRunner().invoke(
        main, ["portal", "password", "nobody", "--password-stdin"], input="x" * 12
    )
    assert result.exit_code == 1 and "no account 'nobody'" in result.output
