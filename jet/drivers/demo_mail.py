"""The demo's mail server: aiosmtpd on loopback, in this process, keeping each message it
receives in a Maildir (JET_HOME/demo-mail), so that the demo e-mails its invoices and
usage warnings over SMTP as a deployment does (reports/invoice_mail.py, reports/notices.py)
and anyone can open them."""

from __future__ import annotations

import mailbox
import socket
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from aiosmtpd.controller import Controller

from jet.config import Settings
from jet.deliveries import Delivered, dispatch
from jet.drivers.jobs import run_job
from reports import notices, report_mail
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


@contextmanager
def mailing(settings: Settings) -> Iterator[tuple[Settings, Path]]:
    """`settings` pointed at the demo's mail server while it runs, and its Maildir."""
    folder = settings.root / "demo-mail"
    with mail_server(folder) as port:
        yield settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": port}), folder


def email_invoices(settings: Settings) -> tuple[int, Path]:
    """Send every rendered invoice of the e-mail accounts to the demo's mail server; how
    many the server took, and its Maildir."""
    with mailing(settings) as (local, folder):
        run = send_invoices(local)
    return run.sent, folder


def email_notices(settings: Settings) -> Counter[str]:
    """Deliver the outbox's notices (usage warnings; dunning's reminders, once it has run)
    to the mail subscriber with the demo's mail server up, as `jet events dispatch` does;
    how many of each topic were e-mailed."""
    with mailing(settings) as (local, _):
        done = dispatch(local, [notices.subscriber()])
    return Counter(
        r.topic for r in done if isinstance(r.result, Delivered) and not r.result.refused
    )


def email_reports(settings: Settings, month: date) -> int:
    """Run the monthly reports job for `month` as its schedule does on the 2nd of the next
    (report models, then each realm's `report_mail` files and events), and deliver those
    to the demo's mail server; how many e-mails it took."""
    run_job(settings, "monthly_reports", month, month)
    with mailing(settings) as (local, _):
        done = dispatch(local, [report_mail.subscriber()])
    return sum(isinstance(r.result, Delivered) for r in done)
