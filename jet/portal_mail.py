"""The portal's e-mails to customers (sign-up verification, password reset): sent at
once through Jet's mail server (jet.mail_server), from the realm's name at JET_MAIL_FROM,
with a link that carries a one-time token (the store keeps only its SHA-256)."""

from __future__ import annotations

from email.message import EmailMessage
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from jet.config import Settings
from jet.mail_server import send
from jet.store.models import Realm


def link(base_url: str, key: str, token: str) -> str:
    """`base_url` with `key=token` added to its query."""
    joiner = "&" if "?" in base_url else "?"
    return f"{base_url}{joiner}{urlencode({key: token})}"


def mail_customer(
    settings: Settings, s: Session, realm_id: str, to: str, subject: str, text: str
) -> None:
    """E-mail `text` to `to`, signed and sent from the realm."""
    realm = s.get_one(Realm, realm_id)
    message = EmailMessage()
    message["From"] = f"{realm.name} <{settings.mail_from}>"
    message["To"] = to
    message["Subject"] = subject
    message.set_content(f"{text}\n\n{realm.name}\n")
    send(settings, message)
