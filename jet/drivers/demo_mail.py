"""The demo's mail server: aiosmtpd on loopback, in this process, keeping each message it
receives in a Maildir (JET_HOME/demo-mail), so that the demo e-mails its invoices over
SMTP as a deployment does (reports/invoice_mail.py) and anyone can open them."""

from __future__ import annotations

import mailbox
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from aiosmtpd.controller import Controller

from jet.config import Settings
from reports.invoice_mail import send_invoices


class _Maildir:
    """Keeps each message as received (no parsing: the demo sends thousands)."""

    def __init__(self, folder: Path) -> None:
        self.box = mailbox.Maildir(folder, create=True)

    async def handle_DATA(self, server, session, envelope) -> str:
        self.box.add(envelope.original_content or envelope.content)
        return "250 OK"


@contextmanager
def mail_server(folder: Path) -> Iterator[int]:
    """An SMTP server on 127.0.0.1 that files into the Maildir `folder`; its port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(_Maildir(folder), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def email_invoices(settings: Settings) -> tuple[int, Path]:
    """Send every rendered invoice of the e-mail accounts to the demo's mail server; how
    many the server took, and its Maildir."""
    folder = settings.root / "demo-mail"
    with mail_server(folder) as port:
        local = settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": port})
        run = send_invoices(local)
    return run.sent, folder
