"""The one way Jet reaches its mail server: host, port, STARTTLS and login from the
settings (JET_SMTP_HOST, JET_SMTP_PORT, JET_SMTP_TLS, JET_SMTP_USER, JET_SMTP_PASSWORD),
and Message-IDs in the sender's domain. In the core, because the portal's links (sign-up
verification, password reset) are sent while the customer waits (`send`); invoices and
notices (reports/) batch their messages over one connection."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

from jet.config import Settings
from jet.errors import JetError

NO_SERVER = "no mail server: set JET_SMTP_HOST (and JET_SMTP_PORT, JET_MAIL_FROM)"


def connect(settings: Settings, timeout: float = 30) -> smtplib.SMTP:
    """An open connection, upgraded to TLS and logged in as the settings ask."""
    if not settings.smtp_host:
        raise JetError(NO_SERVER)
    smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout)
    try:
        if settings.smtp_tls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password or "")
    except BaseException:
        smtp.close()
        raise
    return smtp


def message_id(settings: Settings, local: str) -> str:
    """`<local@domain>` in the domain of JET_MAIL_FROM: the same `local`, the same id, so
    a message sent again is one that mail clients show once."""
    domain = settings.mail_from.rpartition("@")[2].strip(" >") or "localhost"
    return f"<{local}@{domain}>"


class MailNotSent(JetError):
    """The mail server could not be reached, or refused a message."""


def send(settings: Settings, message: EmailMessage) -> None:
    """Send one message now, over a connection of its own; `MailNotSent` when the server
    cannot be reached or refuses it (without a server configured, a JetError saying so)."""
    smtp = None
    try:
        smtp = connect(settings, timeout=10)
        smtp.send_message(message)
        smtp.quit()
    except (OSError, smtplib.SMTPException) as err:
        if smtp is not None:
            smtp.close()
        raise MailNotSent(
            f"the mail server {settings.smtp_host}:{settings.smtp_port} did not take the "
            f"e-mail ({err}): try again in a few minutes"
        ) from None
