"""Invoices by e-mail: each issued invoice (and credit note) of an account that takes its
invoices by e-mail goes to the account's address once its PDF exists, the PDF attached,
worded by the realm's templates (reports/mail_templates.py).

Each invoice has an `InvoiceMailing` row. A batch goes over one SMTP connection; for
each message the row's Message-ID and `sending` are committed before the message is
handed to the server, and `sent` right after the server's 250 (in the same commit as the
next message's `sending`, so one commit a message). A run that dies leaves at most one
row `sending`: the next run sends it again under the same Message-ID. So an invoice
recorded as sent is never sent again (unless someone asks, `jet invoice send`), and the
one in flight when a process died may reach the customer twice, as one Message-ID that
mail clients show once. One sender runs at a time on a JET_HOME (a lock file the system
releases when the process dies).

A refusal (4xx, 5xx) or a server that cannot be reached is tried again after the
outbox's backoff (`jet.deliveries.backoff`: 30 s, doubling, at most an hour); a
permanent refusal (5xx) at the `REFUSALS`-th attempt or later leaves the invoice
`failed` until `jet invoice send`. Paper accounts' invoices are printed instead
(reports/print_run.py)."""

from __future__ import annotations

import fcntl
import secrets
import smtplib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.header import Header
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import formataddr, formatdate, parseaddr

from sqlalchemy import Row, and_, or_, select, update
from sqlalchemy.orm import Session

from jet.config import Settings
from jet.deliveries import backoff
from jet.errors import JetError
from jet.ledger_documents import due_date
from jet.mail_server import NO_SERVER, connect, message_id
from jet.realms import catalog_on
from jet.store.db import engine, session
from jet.store.models import Account, Invoice, InvoiceMailing, Realm
from reports.issued_invoices import pdf_path
from reports.mail_templates import InvoiceMail, Wording, compose

REFUSALS = 3  # attempts after which a permanent (5xx) refusal is final: `failed`

Now = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class MailRun:
    """What a run did: messages the server took, refusals and unreachable tries (each
    waits for its retry), invoices that failed for good."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    error: str | None = None  # why the server could not be reached, if it could not


def send_invoices(
    settings: Settings, now: Now = _utcnow, invoice_ids: list[int] | None = None
) -> MailRun:
    """Send every invoice that is due (only `invoice_ids`, if given) over one
    connection; what became of them. Without JET_SMTP_HOST it refuses (JetError)."""
    if not settings.smtp_host:
        raise JetError(NO_SERVER)
    with _one_sender(settings):
        open_mailings(settings)
        with session(settings.db_url) as s:
            due = list(s.execute(_due(now(), invoice_ids)))
        run = MailRun()
        if not due:
            return run
        try:
            smtp = connect(settings)
        except (OSError, smtplib.SMTPException) as err:
            run.error = f"{settings.smtp_host}:{settings.smtp_port}: {err}"
            with session(settings.db_url) as s:
                for row in due:
                    _refused(s, row.mailing_id, row.attempts + 1, None, run.error, now(), run)
            return run
        with smtp, Session(engine(settings.db_url), expire_on_commit=False) as s:
            try:
                _send(settings, s, smtp, due, now, run)
            finally:
                s.commit()  # the last message's `sent`
        return run


def _send(
    settings: Settings, s: Session, smtp: smtplib.SMTP, due: list[Row], now: Now, run: MailRun
) -> None:
    """Hand each message to the server, its row committed as `sending` first; `s` is
    committed by hand (`sent` and a refusal go with the next message's `sending`)."""
    words = _Wording(s, settings)
    for row in due:
        mid = row.message_id or message_id(
            settings, f"jet-invoice-{row.number}.{row.resends}.{secrets.token_hex(6)}"
        )
        pdf = pdf_path(settings, row.realm_id, row.number).read_bytes()
        message = _mime(words.wording(row), row.to_address, mid, pdf, f"{row.number}.pdf")
        attempts = row.attempts + 1
        s.execute(
            update(InvoiceMailing)
            .where(InvoiceMailing.id == row.mailing_id)
            .values(status="sending", message_id=mid, attempts=attempts, next_attempt_at=None)
        )
        s.commit()  # with the previous message's `sent`: one commit a message
        try:
            smtp.sendmail(settings.mail_from, [row.to_address], message)
        except smtplib.SMTPRecipientsRefused as err:
            code, text = next(iter(err.recipients.values()))
            _refused(s, row.mailing_id, attempts, code, _said(code, text), now(), run)
        except smtplib.SMTPResponseException as err:
            _refused(
                s,
                row.mailing_id,
                attempts,
                err.smtp_code,
                _said(err.smtp_code, err.smtp_error),
                now(),
                run,
            )
            if err.smtp_code == 421:  # the server is closing the connection
                break
        except (OSError, smtplib.SMTPException) as err:  # the connection is gone
            _refused(s, row.mailing_id, attempts, None, f"connection lost: {err}", now(), run)
            break
        else:
            s.execute(
                update(InvoiceMailing)
                .where(InvoiceMailing.id == row.mailing_id)
                .values(status="sent", sent_at=now(), last_error=None)
            )
            run.sent += 1


def _said(code: int, text: bytes | str) -> str:
    text = text.decode(errors="replace") if isinstance(text, bytes) else text
    return f"{code} {text}"[:500]


def _refused(
    s: Session,
    mailing_id: int,
    attempts: int,
    code: int | None,
    error: str,
    now: datetime,
    run: MailRun,
) -> None:
    """Record a try that did not get the message through: retried after the backoff,
    or `failed` if the server refused for good at the `REFUSALS`-th attempt or later."""
    failed = code is not None and code >= 500 and attempts >= REFUSALS
    s.execute(
        update(InvoiceMailing)
        .where(InvoiceMailing.id == mailing_id)
        .values(
            status="failed" if failed else "pending",
            attempts=attempts,
            next_attempt_at=None if failed else now + backoff(attempts),
            last_error=error[:500],
        )
    )
    s.flush()
    if failed:
        run.failed += 1
    else:
        run.retrying += 1


def open_mailings(settings: Settings) -> int:
    """A `pending` row for every issued invoice of an e-mail account whose PDF exists and
    that has none yet; how many."""
    query = (
        select(Invoice.id, Invoice.realm_id, Invoice.number, Account.email)
        .join(Account, Account.id == Invoice.account_id)
        .outerjoin(InvoiceMailing, InvoiceMailing.invoice_id == Invoice.id)
        .where(InvoiceMailing.id.is_(None), Account.delivery == "email")
        .where(Account.email.is_not(None), Account.email != "")
        .order_by(Invoice.id)
    )
    with session(settings.db_url) as s:
        new = [
            InvoiceMailing(
                invoice_id=i.id, to_address=i.email, status="pending", attempts=0, resends=0
            )
            for i in s.execute(query)
            if pdf_path(settings, i.realm_id, i.number).exists()
        ]
        s.add_all(new)
    return len(new)


def _due(now: datetime, invoice_ids: list[int] | None):
    query = (
        select(
            InvoiceMailing.id.label("mailing_id"),
            InvoiceMailing.to_address,
            InvoiceMailing.message_id,
            InvoiceMailing.attempts,
            InvoiceMailing.resends,
            Invoice.id.label("invoice_id"),
            Invoice.number,
            Invoice.kind,
            Invoice.realm_id,
            Invoice.bill_date,
            Invoice.currency,
            Invoice.total,
            Account.name.label("account_name"),
            Realm.name.label("realm_name"),
        )
        .join(Invoice, Invoice.id == InvoiceMailing.invoice_id)
        .join(Account, Account.id == Invoice.account_id)
        .join(Realm, Realm.id == Invoice.realm_id)
        .where(InvoiceMailing.status.in_(("pending", "sending")))
        .where(or_(InvoiceMailing.next_attempt_at.is_(None), InvoiceMailing.next_attempt_at <= now))
        .order_by(InvoiceMailing.invoice_id)
    )
    if invoice_ids is not None:
        query = query.where(InvoiceMailing.invoice_id.in_(invoice_ids))
    return query


class _Wording:
    """The messages of a run: each realm's templates and due date per bill date, read once."""

    def __init__(self, s: Session, settings: Settings) -> None:
        self.s, self.settings = s, settings
        self._known: dict[tuple[str, date], tuple] = {}

    def wording(self, row: Row) -> Wording:
        key = (row.realm_id, row.bill_date)
        if key not in self._known:
            catalog = catalog_on(self.s, row.realm_id, row.bill_date)
            mail = catalog.realm.mail if catalog else None
            self._known[key] = (mail, due_date(self.s, row.realm_id, row.bill_date))
        mail, due = self._known[key]
        invoice = InvoiceMail(
            number=row.number,
            kind=row.kind,
            realm=row.realm_name,
            account=row.account_name,
            bill_date=row.bill_date,
            due_date=due if row.kind == "invoice" else None,
            currency=row.currency,
            total=row.total,
        )
        return compose(mail, invoice, self.settings.mail_from)


_WIRE = compat32.clone(linesep="\r\n")  # smtplib sends bytes as they are


def _mime(wording: Wording, to: str, mid: str, pdf: bytes, filename: str) -> bytes:
    """The message on the wire: its text and the PDF. Built with the compat32 classes,
    a quarter of the time of `EmailMessage`'s (a run sends thousands)."""
    message = MIMEMultipart()
    name, address = parseaddr(wording.sender)
    message["From"] = formataddr((name, address), charset="utf-8")
    message["To"] = to
    message["Subject"] = Header(wording.subject, "utf-8" if not wording.subject.isascii() else None)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = mid
    message.attach(MIMEText(wording.body, "plain", "utf-8"))
    attachment = MIMEApplication(pdf, "pdf")
    attachment.add_header("Content-Disposition", "attachment", filename=filename)
    message.attach(attachment)
    return message.as_bytes(policy=_WIRE)


@contextmanager
def _one_sender(settings: Settings) -> Iterator[None]:
    """Hold JET_HOME's mail lock (waiting for another sender to finish): two senders at
    once would both send a row a dead run left `sending`."""
    settings.root.mkdir(parents=True, exist_ok=True)
    with open(settings.root / "invoice-mail.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def request_resend(settings: Settings, number: str) -> int:
    """Make invoice NUMBER due again, to its account's address as it is now, under a new
    Message-ID; its invoice id. Refuses a paper account or one without an address."""
    with session(settings.db_url) as s:
        found = s.execute(
            select(Invoice, Account)
            .join(Account, Account.id == Invoice.account_id)
            .where(Invoice.number == number)
        ).first()
        if found is None:
            raise JetError(
                f"no invoice {number}: see `jet account invoices ACCOUNT` for the numbers"
            )
        invoice, account = found
        if account.delivery != "email" or not account.email:
            raise JetError(
                f"{account.id} takes its invoices on paper (delivery {account.delivery!r}, "
                f"e-mail {account.email or 'none'}): print it with `jet invoice print --date "
                f"{invoice.bill_date}`, or give the account an e-mail address first"
            )
        if not pdf_path(settings, invoice.realm_id, number).exists():
            raise JetError(
                f"invoice {number} has no PDF yet: render it first (the billing cycle's "
                "invoice_pdfs step)"
            )
        mailing = s.scalar(select(InvoiceMailing).where(InvoiceMailing.invoice_id == invoice.id))
        if mailing is None:
            s.add(
                InvoiceMailing(
                    invoice_id=invoice.id,
                    to_address=account.email,
                    status="pending",
                    attempts=0,
                    resends=1,
                )
            )
        else:
            mailing.to_address = account.email
            mailing.status, mailing.message_id = "pending", None
            mailing.attempts, mailing.next_attempt_at, mailing.last_error = 0, None, None
            mailing.resends += 1
        return invoice.id


@dataclass(frozen=True, slots=True)
class Mailing:
    """One invoice's e-mail as `jet invoice deliveries` lists it."""

    number: str
    account: str
    to: str
    status: str
    attempts: int
    sent_at: datetime | None
    next_attempt_at: datetime | None
    last_error: str | None
    message_id: str | None


def mailings(settings: Settings, troubled: bool = False) -> list[Mailing]:
    """Every invoice's e-mail, by invoice; with `troubled`, only those that failed for
    good or wait for a retry after a refusal."""
    query = (
        select(
            Invoice.number,
            Invoice.account_id,
            InvoiceMailing.to_address,
            InvoiceMailing.status,
            InvoiceMailing.attempts,
            InvoiceMailing.sent_at,
            InvoiceMailing.next_attempt_at,
            InvoiceMailing.last_error,
            InvoiceMailing.message_id,
        )
        .join(Invoice, Invoice.id == InvoiceMailing.invoice_id)
        .order_by(Invoice.id)
    )
    if troubled:
        query = query.where(
            or_(
                InvoiceMailing.status == "failed",
                and_(InvoiceMailing.status != "sent", InvoiceMailing.last_error.is_not(None)),
            )
        )
    with session(settings.db_url) as s:
        return [Mailing(*row) for row in s.execute(query)]
