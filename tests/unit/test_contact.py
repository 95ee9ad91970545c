"""Messages left through the portal's contact page: kept on the account (for the
helpdesk: `jet portal messages`, the console), audited with the customer as the actor,
and e-mailed to the realm's support address through the outbox over real SMTP."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from jet.accounts import add_accounts
from jet.audit import Actor
from jet.catalog import load_catalog_file
from jet.cli import main
from jet.config import PROJECT_ROOT, Settings
from jet.contact_messages import MessageError, leave_message, messages
from jet.deliveries import Delivered, dispatch
from jet.realms import store_catalog
from jet.store.db import session
from jet.store.models import AuditEntry
from reports import contact_mail
from tests.mailbox import serving

PAT = Actor("pat", "portal")


@pytest.fixture
def mailbox(monkeypatch):
    yield from serving(monkeypatch)


@pytest.fixture
def url(settings: Settings) -> str:
    """pat in acme (support@acme.example), fern in a realm without a support address."""
    with session(settings.db_url) as s:
        path = PROJECT_ROOT / "examples" / "catalogs" / "acme.yaml"
        store_catalog(s, load_catalog_file(path), str(path))
        plain = load_catalog_file(path).model_copy(deep=True)
        realm = plain.realm.model_copy(update={"id": "plain", "portal": None})
        store_catalog(s, plain.model_copy(update={"realm": realm}), "plain")
        add_accounts(s, "acme", [{"id": "pat", "name": "Pat", "email": "pat@home.example"}])
        add_accounts(s, "plain", [{"id": "fern", "name": "Fern"}])
    return settings.db_url


def test_a_message_is_kept_audited_and_mailed_to_support(url, mailbox):
    with session(url) as s:
        first = leave_message(s, PAT, "pat", "  Slow   evenings ", "Slow after 7pm.\nThanks")
        second = leave_message(s, PAT, "pat", "Invoice", "Why two setup fees?")
    with session(url) as s:
        kept = messages(s, "pat")
        (entry, _) = s.scalars(
            select(AuditEntry).where(AuditEntry.action == "contact.message_left")
        ).all()
    assert [m["id"] for m in kept] == [second, first]  # newest first
    assert kept[1]["subject"] == "Slow evenings" and kept[1]["author"] == "pat"
    assert (entry.actor, entry.channel, entry.account_id) == ("pat", "portal", "pat")
    assert "Slow" not in str(entry.after)  # the audit says a message was left, not what
    reports = dispatch(Settings(), [contact_mail.subscriber()])
    assert all(isinstance(r.result, Delivered) for r in reports) and len(reports) == 2
    mail = next(m for m in mailbox.messages if "Slow evenings" in m["Subject"])
    assert mail["To"] == "support@acme.example" and mail["Subject"] == "[pat] Slow evenings"
    assert mail["Reply-To"] == "Pat <pat@home.example>"
    assert "Slow after 7pm." in mail.get_content()
    with session(url) as s:
        assert messages(s, "pat")[1]["mailed_to"] == "support@acme.example"
    assert dispatch(Settings(), [contact_mail.subscriber()]) == []  # once


def test_without_a_support_address_it_stays_on_the_account(url, mailbox):
    with session(url) as s:
        leave_message(s, Actor("fern", "portal"), "fern", "Hello", "Anyone there?")
    (report,) = dispatch(Settings(), [contact_mail.subscriber()])
    assert "no portal.support_email: kept on the account" in report.result.outcome
    assert mailbox.messages == []
    result = CliRunner().invoke(main, ["portal", "messages", "fern"])
    assert result.exit_code == 0 and "Hello" in result.output and "not mailed" in result.output


@pytest.mark.parametrize(
    ("subject", "body", "message"),
    [("", "text", "give a subject"), ("Hi", "   ", "give a message"), ("x" * 201, "t", "subject")],
)
def test_an_empty_or_oversized_message_is_refused(url, subject, body, message):
    with session(url) as s, pytest.raises(MessageError, match=message):
        leave_message(s, PAT, "pat", subject, body)
