"""The roles table: what each role may do, only in its realms; a refusal is audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from jet.roles import ALLOWED, Forbidden, Staff, allowed, check
from jet.store.db import session
from jet.store.models import AuditEntry

ADMIN = Staff("ada@isp.example", "Ada", "admin", frozenset({"acme"}))
SALES = Staff("sam@isp.example", "Sam", "sales", frozenset({"acme"}))
HELPDESK = Staff("hal@isp.example", "Hal", "helpdesk", frozenset({"acme", "skyfi"}))
EVERYWHERE = Staff("root@isp.example", "Root", "admin", None)


def test_each_role_does_its_own_work_only():
    assert allowed(ADMIN, "billing.run", "acme") and allowed(ADMIN, "catalog.load", "acme")
    assert allowed(SALES, "account.create", "acme") and allowed(
        SALES, "subscription.change", "acme"
    )
    assert not allowed(SALES, "billing.run", "acme") and not allowed(
        SALES, "account.suspend", "acme"
    )
    assert allowed(HELPDESK, "session.disconnect", "skyfi") and allowed(
        HELPDESK, "account.password", "acme"
    )
    assert not allowed(HELPDESK, "account.create", "acme") and not allowed(
        HELPDESK, "billing.waive", "acme"
    )
    assert all("account.read" in actions for actions in ALLOWED.values())


def test_nothing_of_a_realm_not_given():
    assert not allowed(ADMIN, "account.read", "skyfi")
    assert not allowed(HELPDESK, "account.read", "eurowave")
    assert allowed(EVERYWHERE, "account.read", "any-realm-added-later")
    # What belongs to no one realm (staff) needs every realm.
    assert not allowed(ADMIN, "staff.manage", None) and allowed(EVERYWHERE, "staff.manage", None)


def test_an_unknown_action_is_a_bug_not_a_refusal():
    with pytest.raises(ValueError, match="unknown action"):
        allowed(ADMIN, "account.delete", "acme")


def test_a_refusal_is_audited_and_stays_recorded(settings):
    with session(settings.db_url) as s:
        with pytest.raises(
            Forbidden, match="sam@isp.example \\(sales\\) may not billing.run in realm acme"
        ):
            check(s, SALES, "billing.run", "acme", "bill date 2026-10-01")
        s.rollback()  # whatever the caller does next
    with session(settings.db_url) as s:
        (entry,) = s.scalars(select(AuditEntry)).all()
        assert (entry.actor, entry.channel, entry.action) == (
            "sam@isp.example",
            "console",
            "access.refused",
        )
        assert entry.after["action"] == "billing.run" and entry.after["realm"] == "acme"
