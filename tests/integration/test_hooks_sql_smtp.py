"""The `sql` and `smtp` hooks against real targets: an SQLite database reached by its
SQLAlchemy URL, and an SMTP server on loopback (aiosmtpd). Account changes are made with
`jet` commands; what the targets hold is read from them."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from jet.cli import main
from jet.config import Settings
from jet.deliveries import dispatch
from jet.drivers.subscribers import subscribers
from tests.ledger_fixtures import CATALOGS
from tests.mailbox import Mailbox, serving

pytestmark = pytest.mark.integration


@pytest.fixture
def mailbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Mailbox]:
    yield from serving(monkeypatch)


def jet(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def deliver(settings: Settings) -> list:
    settings = Settings()  # as `jet` reads them: with the mail server the test started
    reports = dispatch(settings, subscribers(settings), now=lambda: datetime.now(UTC))
    return [r for r in reports if r.subscriber.startswith("hook:")]


@pytest.fixture
def partner(settings: Settings, tmp_path: Path, monkeypatch, mailbox: Mailbox) -> Path:
    """acme's hooks: an upsert into a partner's SQLite table, and a welcome e-mail."""
    db = tmp_path / "partner.db"
    with sqlite3.connect(db) as con:
        con.execute(
            "create table customers (login text primary key, name text, "
            "status text check (status in ('active', 'suspended')))"
        )
    monkeypatch.setenv("PARTNER_DB", f"sqlite:///{db}")
    jet("catalog", "load", str(CATALOGS / "acme.yaml"))
    (settings.root / "hooks").mkdir()
    (settings.root / "hooks" / "acme.yaml").write_text("""
hooks:
  - name: partner
    events: [account.created, account.suspended, account.reactivated, account.closed]
    action: sql
    url_env: PARTNER_DB
    statement: >
      insert into customers (login, name, status) values (:login, :name, :status)
      on conflict (login) do update set name = excluded.name, status = excluded.status
    parameters:
      login: "{{ account.id }}"
      name: "{{ account.name }}"
      status: "{{ account.status }}"
  - name: welcome
    events: [account.created]
    action: smtp
    subject: "Welcome to Acme, {{ account.name }}"
    body: |
      Hello {{ account.name }},
      your login is {{ account.id }}.
""")
    return db


def rows(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as con:
        return con.execute("select login, name, status from customers order by login").fetchall()


def test_the_partners_table_follows_the_accounts_with_values_bound_not_pasted(settings, partner):
    sly = "Robert'); drop table customers; --"
    jet("account", "add", "acme", "ann", "--name", "Ann", "--email", "ann@example.net")
    jet("account", "add", "acme", "rob", "--name", sly)
    deliver(settings)
    jet("account", "set", "ann", "--status", "suspended")
    deliver(settings)
    assert rows(partner) == [("ann", "Ann", "suspended"), ("rob", sly, "active")]
    # the partner's table refuses a closed account (its CHECK): final, not retried
    jet("account", "close", "rob")  # the command delivers it at once
    deliver(settings)
    listed = [
        json.loads(line)
        for line in jet("events", "list", "--json", "--account", "rob").splitlines()
    ]
    [closed] = [
        e
        for e in listed
        if (e["topic"], e["subscriber"]) == ("account.closed", "hook:acme:partner")
    ]
    assert closed["status"] == "delivered" and "CHECK" in closed["outcome"]
    assert closed["attempts"] == 1
    assert rows(partner)[1] == ("rob", sly, "active")


def test_the_welcome_mail_is_sent_once_with_a_stable_message_id(settings, partner, mailbox):
    jet("account", "add", "acme", "ann", "--name", "Ann", "--email", "ann@example.net")
    jet("account", "add", "acme", "bob", "--name", "Bob")  # no e-mail address: passed over
    reports = [r for r in deliver(settings) if r.subscriber == "hook:acme:welcome"]
    [message] = mailbox.messages
    assert (message["To"], message["Subject"]) == ("ann@example.net", "Welcome to Acme, Ann")
    assert "your login is ann." in message.get_content()
    assert message["Message-ID"].startswith("<jet-hook-welcome-")
    assert sorted(r.result.outcome for r in reports) == [
        "no e-mail address: passed over", "sent to ann@example.net",
    ]  # fmt: skip
    assert not [r for r in deliver(settings) if r.subscriber == "hook:acme:welcome"]
