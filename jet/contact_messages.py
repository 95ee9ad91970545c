"""Messages customers leave for their realm's helpdesk through the portal's contact page:
kept on the account (the console's account page and `jet portal messages` show them)
and e-mailed to the realm's support address (its catalog's `portal.support_email`) by
the `contact.message_left` event's mail subscriber (reports/contact_mail.py), so a mail
server that is down delays the e-mail and loses nothing."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from jet.accounts import get_account
from jet.audit import Actor, record
from jet.errors import JetError
from jet.ledger_documents import utc
from jet.outbox import publish
from jet.store.models import ContactMessage

SUBJECT_MAX = 200
BODY_MAX = 5000


class MessageError(JetError, ValueError):
    """A message that cannot be left as written; the message says what to change."""


def leave_message(s: Session, actor: Actor, account_id: str, subject: str, body: str) -> int:
    """Keep a message from `actor` on `account_id` and announce it for the helpdesk's
    e-mail; its id. The audit entry says that a message was left, not what it says."""
    account = get_account(s, account_id)
    subject, body = " ".join((subject or "").split()), (body or "").strip()
    if not subject or len(subject) > SUBJECT_MAX:
        raise MessageError(f"give a subject of 1 to {SUBJECT_MAX} characters ({len(subject)})")
    if not body or len(body) > BODY_MAX:
        raise MessageError(f"give a message of 1 to {BODY_MAX} characters ({len(body)})")
    message = ContactMessage(
        account_id=account.id,
        author=actor.name,
        subject=subject,
        body=body,
        created_at=datetime.now(UTC),
    )
    s.add(message)
    s.flush()
    record(
        s,
        actor,
        "contact.message_left",
        "contact_message",
        str(message.id),
        account_id=account.id,
        after={"characters": len(body)},
    )
    publish(
        s,
        "contact.message_left",
        account.id,
        {"account": account.id, "realm": account.realm_id, "message": message.id},
    )
    return message.id


def messages(s: Session, account_id: str) -> list[dict]:
    """The messages left on `account_id`, newest first."""
    rows = s.scalars(
        select(ContactMessage)
        .where(ContactMessage.account_id == account_id)
        .order_by(ContactMessage.id.desc())
    )
    return [
        {
            "id": m.id,
            "created_at": utc(m.created_at),
            "author": m.author,
            "subject": m.subject,
            "body": m.body,
            "mailed_to": m.mailed_to,
            "mailed_at": m.mailed_at and utc(m.mailed_at),
        }
        for m in rows
    ]
