"""The demo's provisioning hooks (jet/drivers/demo_hooks.py) on what `jet demo` built:
Acme's CRM table holds every Acme account with its status and plan as the store has
them, and each account dunning suspended got its notice at the demo's mail server."""

from __future__ import annotations

import email
import email.policy
import mailbox
import sqlite3

import pytest
from sqlalchemy import select

from jet.config import Settings
from jet.store.db import session
from jet.store.models import Account, Event
from tests.demo_home import demo_home  # noqa: F401

pytestmark = pytest.mark.integration


def test_acmes_crm_mirrors_its_accounts(demo_home: Settings):  # noqa: F811
    with sqlite3.connect(demo_home.root / "provisioning" / "crm.db") as con:
        crm = {
            login: status for login, status in con.execute("select login, status from customers")
        }
    with session(demo_home.db_url) as s:
        acme = dict(
            s.execute(select(Account.id, Account.status).where(Account.realm_id == "acme")).all()
        )
    assert crm == acme and acme


def test_each_suspension_got_its_notice(demo_home: Settings):  # noqa: F811
    with session(demo_home.db_url) as s:
        suspended = s.scalars(
            select(Event.account_id)
            .join(Account, Account.id == Event.account_id)
            .where(
                Event.topic == "account.suspended",
                Account.realm_id == "acme",
                Account.email.is_not(None),
            )
        ).all()
    box = mailbox.Maildir(demo_home.root / "demo-mail", create=False)
    messages = (
        email.message_from_bytes(box.get_bytes(key), policy=email.policy.default)
        for key in box.iterkeys()
    )
    notices = [m for m in messages if m["Subject"] == "Your Acme service is suspended"]
    assert len(notices) == len(suspended)
    assert all("is suspended:" in m.get_content() for m in notices)
