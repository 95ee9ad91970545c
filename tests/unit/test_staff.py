"""Staff members and their console sign-ins: realms that exist, passwords long enough,
lockout after five failures, TOTP once on, sessions that expire and end, each audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from sqlalchemy import select

from jet.audit import Actor
from jet.catalog import load_catalog_file
from jet.config import PROJECT_ROOT, Settings
from jet.realms import store_catalog
from jet.roles import Staff
from jet.staff import (
    LoginRefused,
    StaffError,
    add_staff,
    disable_staff,
    enable_staff,
    enable_totp,
    list_staff,
    set_staff_password,
    sign_in,
    sign_out,
    staff_of,
)
from jet.store.db import session
from jet.store.models import AuditEntry, StaffMember, StaffSession

ADMIN = Actor("root", "cli")
PASSWORD = "correct horse battery"
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def store(settings: Settings) -> str:
    """Realms acme and skyfi, and hal of the helpdesk in acme."""
    with session(settings.db_url) as s:
        for name in ("acme", "skyfi"):
            path = PROJECT_ROOT / "examples" / "catalogs" / f"{name}.yaml"
            store_catalog(s, load_catalog_file(path), str(path))
        add_staff(
            s, ADMIN, "Hal@ISP.example", "helpdesk", realms=["acme"], password=PASSWORD, name="Hal"
        )
    return settings.db_url


def audit(url: str, action: str | None = None) -> list[AuditEntry]:
    with session(url) as s:
        # the staff's entries, not the catalogs' loads of the set-up
        query = (
            select(AuditEntry).where(AuditEntry.entity != "catalog_version").order_by(AuditEntry.id)
        )
        if action:
            query = query.where(AuditEntry.action == action)
        return list(s.scalars(query))


def attempt(url: str, password: str = PASSWORD, totp: str | None = None, now=T0) -> str:
    with session(url) as s:
        return sign_in(s, "hal@isp.example", password, totp, now=now)


def who(url: str, token: str, now=T0) -> Staff | None:
    with session(url) as s:
        return staff_of(s, token, now=now)


def test_add_keeps_a_hash_and_audits(store):
    with session(store) as s:
        (hal,) = list_staff(s)
        member = s.scalar(select(StaffMember))
    assert hal["email"] == "hal@isp.example" and hal["role"] == "helpdesk"
    assert hal["realms"] == ["acme"] and not hal["disabled"] and not hal["totp"]
    assert member.password_hash.startswith("$argon2id$") and PASSWORD not in member.password_hash
    (entry,) = audit(store)
    assert (entry.actor, entry.channel, entry.action, entry.entity_id) == (
        "root",
        "cli",
        "staff.added",
        "hal@isp.example",
    )
    assert entry.after == {"name": "Hal", "role": "helpdesk", "realms": "acme"}


def test_every_realm_is_none_and_sees_realms_added_later(store):
    with session(store) as s:
        ada = add_staff(s, ADMIN, "ada@isp.example", "admin", realms=None, password=PASSWORD)
    assert ada.realms is None and ada.sees("a-realm-added-later")


@pytest.mark.parametrize(
    ("email", "role", "realms", "password", "message"),
    [
        ("hal@isp.example", "helpdesk", ["acme"], PASSWORD, "already a staff member"),
        (
            "sam@isp.example",
            "sales",
            ["acme", "atlantis"],
            PASSWORD,
            "no realm 'atlantis'; the realms are acme, skyfi .*jet catalog load FILE",
        ),  # fmt: skip
        ("sam@isp.example", "sales", [], PASSWORD, "at least one realm"),
        ("sam@isp.example", "boss", ["acme"], PASSWORD, "not one of admin, sales, helpdesk"),
        ("sam@isp.example", "sales", ["acme"], "short pass", "10 characters; give at least 12"),
        ("not an address", "sales", ["acme"], PASSWORD, "email: 'not an address' is not"),
    ],
)
def test_a_refused_add_says_why_and_stores_nothing(store, email, role, realms, password, message):
    with pytest.raises(StaffError, match=message), session(store) as s:
        add_staff(s, ADMIN, email, role, realms=realms, password=password)
    with session(store) as s:
        assert [m["email"] for m in list_staff(s)] == ["hal@isp.example"]
    assert len(audit(store)) == 1


def test_sign_in_gives_a_session_of_the_member(store):
    token = attempt(store)
    assert who(store, token) == Staff("hal@isp.example", "Hal", "helpdesk", frozenset({"acme"}))
    with session(store) as s:
        (row,) = s.scalars(select(StaffSession))
        assert row.token_sha256 != token and len(row.token_sha256) == 64
        assert list_staff(s)[0]["last_login"] == T0
    (entry,) = audit(store, "staff.signed_in")
    assert (entry.actor, entry.channel) == ("hal@isp.example", "console")
    assert who(store, "a-token-never-given") is None


def test_a_wrong_password_is_refused_vaguely_and_audited_with_the_reason(store):
    with pytest.raises(LoginRefused, match="check your e-mail, password and TOTP") as wrong:
        attempt(store, "not the password")
    with pytest.raises(LoginRefused) as unknown, session(store) as s:
        sign_in(s, "nobody@isp.example", PASSWORD, now=T0)
    assert str(wrong.value) == str(unknown.value)
    with pytest.raises(LoginRefused), session(store) as s:
        sign_in(s, "x" * 300, PASSWORD, now=T0)
    reasons = [(e.actor, e.after["reason"]) for e in audit(store, "staff.sign_in_refused")]
    assert reasons == [
        ("hal@isp.example", "wrong password"),
        ("nobody@isp.example", "unknown e-mail"),
        ("x" * 200, "unknown e-mail"),
    ]


def test_five_failures_lock_for_fifteen_minutes_even_the_right_password(store):
    for minute in range(5):
        with pytest.raises(LoginRefused):
            attempt(store, f"guess number {minute}", now=T0 + timedelta(minutes=minute))
    with pytest.raises(LoginRefused):
        attempt(store, now=T0 + timedelta(minutes=5))
    with pytest.raises(LoginRefused):
        attempt(store, now=T0 + timedelta(minutes=18, seconds=59))
    assert who(store, attempt(store, now=T0 + timedelta(minutes=19, seconds=1)))
    refused = [e.after for e in audit(store, "staff.sign_in_refused")]
    assert [r["reason"] for r in refused] == ["wrong password"] * 5 + ["locked"] * 2
    assert refused[4]["failed_attempts"] == 5
    assert refused[4]["locked_until"].startswith("2026-12-01 09:19:00")


def test_a_success_resets_the_count_of_failures(store):
    for minute in range(4):
        with pytest.raises(LoginRefused):
            attempt(store, "wrong password!", now=T0 + timedelta(minutes=minute))
    attempt(store, now=T0 + timedelta(minutes=4))
    for minute in range(4):
        with pytest.raises(LoginRefused):
            attempt(store, "wrong password!", now=T0 + timedelta(minutes=5 + minute))
    attempt(store, now=T0 + timedelta(minutes=10))  # not locked: 4 in a row, not 8


def test_totp_once_on_is_required_and_a_current_code_accepted(store):
    with session(store) as s:
        uri = enable_totp(s, ADMIN, "hal@isp.example")
    assert uri.startswith("otpauth://totp/Jet:hal%40isp.example?secret=")
    code = pyotp.parse_uri(uri).at(T0)
    with pytest.raises(LoginRefused):
        attempt(store)
    with pytest.raises(LoginRefused):
        attempt(store, totp="000000" if code != "000000" else "111111")
    with pytest.raises(LoginRefused):  # the right code, the wrong password
        attempt(store, "not the password", totp=code)
    assert who(store, attempt(store, totp=code))
    with pytest.raises(LoginRefused):  # a code works once
        attempt(store, totp=code, now=T0 + timedelta(seconds=20))
    later = T0 + timedelta(seconds=30)
    assert who(store, attempt(store, totp=pyotp.parse_uri(uri).at(later), now=later), later)
    reasons = [e.after["reason"] for e in audit(store, "staff.sign_in_refused")]
    assert reasons == [
        "no TOTP code",
        "wrong TOTP code",
        "wrong password",
        "TOTP code used already",
    ]
    with session(store) as s:
        assert list_staff(s)[0]["totp"]


def test_a_session_ends_eight_hours_after_its_last_use(store):
    used, idle = attempt(store), attempt(store)
    assert who(store, used, T0 + timedelta(minutes=30))
    # 8 h 20 after sign-in, 7 h 50 after its last use: still open.
    assert who(store, used, T0 + timedelta(hours=8, minutes=20))
    assert who(store, idle, T0 + timedelta(hours=8, minutes=1)) is None
    assert who(store, idle, T0 + timedelta(hours=1)) is None  # ended, not revived


def test_a_session_ends_twelve_hours_after_sign_in_however_used(store):
    token = attempt(store)
    for hour in range(1, 12):
        assert who(store, token, T0 + timedelta(hours=hour))
    assert who(store, token, T0 + timedelta(hours=12, minutes=1)) is None


def test_sign_out_ends_the_session(store):
    token = attempt(store)
    with session(store) as s:
        sign_out(s, token)
    assert who(store, token) is None
    assert [e.action for e in audit(store)][-1] == "staff.signed_out"


def test_disable_ends_sessions_and_refuses_sign_in_until_enabled(store):
    token = attempt(store)
    with session(store) as s:
        disable_staff(s, ADMIN, "hal@isp.example")
    assert who(store, token) is None
    with pytest.raises(LoginRefused):
        attempt(store)
    with session(store) as s:
        enable_staff(s, ADMIN, "hal@isp.example")
    assert who(store, token) is None  # an ended session stays ended
    assert who(store, attempt(store))
    actions = [(e.action, e.after) for e in audit(store) if e.actor == "root"]
    assert actions[1:] == [
        ("staff.disabled", {"disabled": True, "sessions_ended": 1}),
        ("staff.enabled", {"disabled": False, "locked_until": None}),
    ]
    assert audit(store, "staff.sign_in_refused")[0].after == {"reason": "disabled"}


def test_a_new_password_ends_sessions_and_the_old_one_stops_working(store):
    token = attempt(store)
    with session(store) as s:
        with pytest.raises(StaffError, match="at least 12"):
            set_staff_password(s, ADMIN, "hal@isp.example", "short")
        set_staff_password(s, ADMIN, "hal@isp.example", "a new long passphrase")
    assert who(store, token) is None
    with pytest.raises(LoginRefused):
        attempt(store)
    assert who(store, attempt(store, "a new long passphrase"))
    (entry,) = audit(store, "staff.password_changed")
    assert entry.after == {"password": "set", "sessions_ended": 1}


def test_an_unknown_member_is_named_with_what_to_do(store):
    missing = "no staff member 'x@isp.example'; see `jet staff list`"
    with pytest.raises(StaffError, match=missing), session(store) as s:
        disable_staff(s, ADMIN, "x@isp.example")


def test_a_hash_of_older_parameters_is_replaced_at_sign_in(store):
    from argon2 import PasswordHasher

    weak = PasswordHasher(time_cost=1, memory_cost=8192).hash(PASSWORD)
    with session(store) as s:
        s.scalar(select(StaffMember)).password_hash = weak
    attempt(store)
    with session(store) as s:
        renewed = s.scalar(select(StaffMember)).password_hash
    assert renewed != weak and not PasswordHasher().check_needs_rehash(renewed)


def test_a_totp_code_typed_with_spaces_works_and_any_other_text_is_refused(store):
    with session(store) as s:
        totp = pyotp.parse_uri(enable_totp(s, ADMIN, "hal@isp.example"))
    for typed in ("１２３４５６", "12345é", "code?"):  # non-ASCII too: refused, not a TypeError
        with pytest.raises(LoginRefused):
            attempt(store, totp=typed)
    code = totp.at(T0)
    assert who(store, attempt(store, totp=f" {code[:3]} {code[3:]} "))
    reasons = [e.after["reason"] for e in audit(store, "staff.sign_in_refused")]
    assert reasons == ["wrong TOTP code"] * 3
