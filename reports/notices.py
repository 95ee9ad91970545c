"""Notices by e-mail: the dunning ladder's reminders, sent over SMTP to the account's
address (JET_SMTP_HOST, JET_SMTP_PORT, JET_MAIL_FROM).

A subscriber of `dunning.reminder` (`jet.deliveries`): delivery is at least once, so a
reminder sent again after a crash carries the same Message-ID, which mail clients use
to show it once. Without a mail server configured a reminder fails and waits (backing
off) until there is one; an account without an e-mail address is told on paper, which
the delivery's outcome says."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from jet.config import Settings
from jet.deliveries import Delivered, Failed, Result, Subscriber
from jet.store.db import session
from jet.store.models import Account, Event, Realm


def subscriber() -> Subscriber:
    return Subscriber("mail", frozenset({"dunning.reminder"}), deliver)


def deliver(settings: Settings, event: Event, progress: dict[str, Any]) -> Result:
    if not settings.smtp_host:
        return Failed("no mail server: set JET_SMTP_HOST (and JET_SMTP_PORT, JET_MAIL_FROM)")
    with session(settings.db_url) as s:
        account = s.get(Account, event.account_id)
        realm = s.get(Realm, account.realm_id)
        to, name, sender = account.email, account.name, realm.name
    if not to:
        return Delivered(f"{account.id} has no e-mail address: send it on paper", refused=True)
    message = reminder(event.payload, name, sender)
    message["From"] = f"{sender} <{settings.mail_from}>"
    message["To"] = to
    domain = settings.mail_from.rpartition("@")[2] or "localhost"
    message["Message-ID"] = make_msgid(f"jet-event-{event.id}", domain=domain)
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as smtp:
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as err:
        return Failed(f"{settings.smtp_host}:{settings.smtp_port}: {err}")
    return Delivered(f"sent to {to}")


def reminder(payload: dict[str, Any], name: str, sender: str) -> EmailMessage:
    """The reminder's subject and text: which invoice, how much, since when."""
    message = EmailMessage()
    invoice, amount = payload["invoice"], f"{payload['currency']} {payload['due']}"
    message["Subject"] = f"Reminder: invoice {invoice} is overdue ({amount})"
    message.set_content(
        f"Dear {name},\n\n"
        f"invoice {invoice} was due on {payload['due_date']} and {amount} of it is still "
        f"unpaid ({payload['days_overdue']} days overdue).\n"
        "Please pay it now; if you have paid in the last few days, thank you, and please "
        "ignore this reminder.\n\n"
        f"{sender}\n"
    )
    return message
