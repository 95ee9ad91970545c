"""The contact page's messages by e-mail: a subscriber of `contact.message_left`
(jet.contact_messages) that sends each message to its realm's support address (the
catalog's `portal.support_email`), with the customer's address to reply to.

Delivery is at least once: a message sent again after a crash carries the same
Message-ID (from the event's id), which mail clients show once. A realm without a
support address keeps the message on the account only, which the delivery's outcome
says; without a mail server the e-mail fails and waits until there is one."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

from jet.config import Settings
from jet.deliveries import Delivered, Failed, Result, Subscriber
from jet.mail_server import NO_SERVER, MailNotSent, message_id, send
from jet.portal_realms import portal_of
from jet.store.db import session
from jet.store.models import Account, ContactMessage, Event, Realm


def subscriber() -> Subscriber:
    return Subscriber("contact-mail", frozenset({"contact.message_left"}), deliver)


def deliver(settings: Settings, event: Event, progress: dict[str, Any]) -> Result:
    with session(settings.db_url) as s:
        message = s.get_one(ContactMessage, event.payload["message"])
        account = s.get_one(Account, message.account_id)
        realm = s.get_one(Realm, account.realm_id)
        portal = portal_of(s, realm.id)
        to = portal and portal.support_email
        mail = _mail(message, account, realm.name, settings, to)
    if not to:
        return Delivered(f"realm {realm.id} has no portal.support_email: kept on the account")
    if not settings.smtp_host:
        return Failed(NO_SERVER)
    mail["Message-ID"] = message_id(settings, f"jet-event-{event.id}")
    try:
        send(settings, mail)
    except MailNotSent as err:
        return Failed(str(err))
    with session(settings.db_url) as s:
        sent = s.get_one(ContactMessage, event.payload["message"])
        sent.mailed_to, sent.mailed_at = to, datetime.now(UTC)
    return Delivered(f"sent to {to}")


def _mail(
    message: ContactMessage, account: Account, realm: str, settings: Settings, to: str | None
) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = f"{realm} portal <{settings.mail_from}>"
    mail["To"] = to or ""
    if account.email:
        mail["Reply-To"] = f"{account.name} <{account.email}>"
    mail["Subject"] = f"[{account.id}] {message.subject}"
    mail.set_content(
        f"{message.author} left this message for account {account.id} ({account.name}) "
        f"through the portal:\n\n{message.body}\n\n"
        f"The console's account page and `jet portal messages {account.id}` keep it.\n"
    )
    return mail
