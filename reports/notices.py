"""Notices by e-mail: the dunning ladder's reminders and the usage warnings (80 % and
100 % of a plan's included usage, jet.usage_alerts), sent over SMTP (jet/mail_server.py)
to the account's address.

A subscriber of `dunning.reminder` and `usage.threshold_crossed` (`jet.deliveries`):
delivery is at least once, so a notice sent again after a crash carries the same
Message-ID (derived from the event's id), which mail clients use to show it once; the
events are one per reminder step, and one per account, cycle and threshold. Without a
mail server configured a notice fails and waits (backing off) until there is one; an
account without an e-mail address is told on paper, which the delivery's outcome says.

Notices go out in batches of `BATCH` over one SMTP connection, opened at the batch's
first message and closed by the dispatcher's `flush` at its end (a connection per
message cost more than the message: the demo's 1,600 usage warnings took 48 s that way,
20 s so). A server that cannot be reached or drops the connection fails the rest of
the batch at once, to be retried together, rather than each waiting out its timeout."""

from __future__ import annotations

import smtplib
import threading
from datetime import date, timedelta
from email.message import EmailMessage
from typing import Any

from jet.config import Settings
from jet.deliveries import Delivered, Failed, Result, Subscriber
from jet.mail_server import NO_SERVER, connect, message_id
from jet.realms import catalog_on
from jet.store.db import session
from jet.store.models import Account, Event, Realm

BATCH = 100  # notices a claim takes and a connection sends; a crash repeats at most these
CLAIM = timedelta(minutes=10)  # a batch's time: 100 messages at most 10 s (timeout) each
# Refusals of one message: the connection stays good for the next.
_REFUSED = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError)


class _Connection(threading.local):
    """The SMTP connection of the batch this thread is delivering, if open, and why the
    server failed the batch, if it did."""

    smtp: smtplib.SMTP | None = None
    down: str | None = None


_batch = _Connection()


def subscriber() -> Subscriber:
    topics = frozenset({"dunning.reminder", "usage.threshold_crossed"})
    return Subscriber("mail", topics, deliver, claim=CLAIM, batch=BATCH, flush=hang_up)


def hang_up() -> None:
    """Close the batch's connection (the dispatcher calls it after each batch)."""
    smtp, _batch.smtp, _batch.down = _batch.smtp, None, None
    if smtp is not None:
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()


def deliver(settings: Settings, event: Event, progress: dict[str, Any]) -> Result:
    if not settings.smtp_host:
        return Failed(NO_SERVER)
    with session(settings.db_url) as s:
        account = s.get(Account, event.account_id)
        realm = s.get(Realm, account.realm_id)
        to, name, sender = account.email, account.name, realm.name
        if event.topic == "usage.threshold_crossed":
            if not to and event.payload.get("billing_account"):
                to = s.get(Account, event.payload["billing_account"]).email
            message = usage_warning(event.payload, name, sender, _unit(s, event.payload))
        else:
            message = reminder(event.payload, name, sender)
    if not to:
        return Delivered(f"{account.id} has no e-mail address: send it on paper", refused=True)
    message["From"] = f"{sender} <{settings.mail_from}>"
    message["To"] = to
    message["Message-ID"] = message_id(settings, f"jet-event-{event.id}")
    if _batch.down is not None:
        return Failed(_batch.down)
    try:
        if _batch.smtp is None:
            _batch.smtp = connect(settings, timeout=10)
        _batch.smtp.send_message(message)
    except _REFUSED as err:
        return Failed(f"{settings.smtp_host}:{settings.smtp_port}: {err}")
    except (OSError, smtplib.SMTPException) as err:
        hang_up()
        _batch.down = f"{settings.smtp_host}:{settings.smtp_port}: {err}"
        return Failed(_batch.down)
    return Delivered(f"sent to {to}")


def _unit(s, payload: dict[str, Any]) -> str:
    """The unit the plan's product counts its usage in ("GB"), as its catalog says."""
    start = date.fromisoformat(payload["period_start"])
    catalog = catalog_on(s, payload["realm"], start)
    product = catalog.products.get(payload["product"]) if catalog else None
    return getattr(product, "unit", None) or ""


def usage_warning(payload: dict[str, Any], name: str, sender: str, unit: str) -> EmailMessage:
    """The warning: how much of the plan's included usage is used, in which cycle."""
    message = EmailMessage()
    threshold, included = payload["threshold"], f"{payload['included']} {unit}".strip()
    cycle = cycle_words(
        date.fromisoformat(payload["period_start"]), date.fromisoformat(payload["period_end"])
    )
    message["Subject"] = f"You have used {threshold} % of your included usage ({cycle})"
    used = f"{payload['used']} {unit}".strip()
    after = (
        "Usage beyond it is charged as your plan says."
        if threshold >= 100
        else "When it is used up, usage beyond it is charged as your plan says."
    )
    message.set_content(
        f"Dear {name},\n\n"
        f"You have used {threshold} % of the {included} included in your plan for {cycle} "
        f"({used} so far).\n{after}\n\n{sender}\n"
    )
    return message


def cycle_words(start: date, end: date) -> str:
    """A cycle `start` to `end` (exclusive) as people write it: "1–30 Sep", "15 Sep–14 Oct"."""
    last = end - timedelta(days=1)
    if (start.year, start.month) == (last.year, last.month):
        return f"{start.day}–{last.day} {last:%b}"
    return f"{start.day} {start:%b}–{last.day} {last:%b}"


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
