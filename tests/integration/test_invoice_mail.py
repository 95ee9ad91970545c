"""Invoices by e-mail against a real SMTP server on loopback (aiosmtpd): once per
invoice across billing runs, the PDF attached; a sender killed mid-run and run again
leaves none unsent and none recorded as sent twice; refusals are retried; usage warnings
go once per threshold; the paper run merges the paper accounts' PDFs."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from click.testing import CliRunner
from pypdf import PdfReader
from sqlalchemy import select

from jet.cli import main
from jet.config import Settings
from jet.deliveries import dispatch
from jet.drivers.jobs import run_job
from jet.drivers.simulate import load_scenario
from jet.invoicing import issue_invoices
from jet.store.db import session
from jet.store.models import Account, Invoice
from jet.usage_alerts import announce_thresholds
from jet.warehouse import rate
from reports import notices
from reports.invoice_mail import mailings, request_resend, send_invoices
from reports.issued_invoices import pdf_path, render_pdfs

pytestmark = pytest.mark.integration

CUSTOMERS = 24


def scenario(folder: Path) -> Path:
    """Monthly customers with e-mail, one on paper, one without an address, and ann, whose
    January usage crosses 80 % and 100 % of her plan's 10 GB."""
    accounts = [
        f"  - {{id: c{n:02d}, name: Customer {n}, email: c{n:02d}@example.net}}"
        for n in range(CUSTOMERS)
    ]
    subs = [f"  - {{account: c{n:02d}, plan: basic, start: 2026-01-01}}" for n in range(CUSTOMERS)]
    path = folder / "scenario.yaml"
    path.write_text(
        "realm: {id: demo, name: Demo Net, currency: AUD, tax_rate: '0.10', cycle: fixed_date,"
        " cycle_day: 1}\n"
        "catalog:\n"
        "  products:\n"
        "    access: {type: flat, price: '30.00', period: monthly}\n"
        "    data: {type: usage, metric: bytes_total, unit: GB, tier_mode: graduated,"
        " tiers: [{upto: 10, price: '0'}, {price: '2.50'}]}\n"
        "  plans:\n"
        "    basic: {products: [access]}\n"
        "    home: {products: [access, data]}\n"
        "accounts:\n" + "\n".join(accounts) + "\n"
        "  - {id: paper1, name: Paper One, email: p1@example.net, delivery: paper}\n"
        "  - {id: nomail, name: No Mail}\n"
        "  - {id: ann, name: Ann, email: ann@example.net}\n"
        "subscriptions:\n" + "\n".join(subs) + "\n"
        "  - {account: paper1, plan: basic, start: 2026-01-01}\n"
        "  - {account: nomail, plan: basic, start: 2026-01-01}\n"
        "  - {account: ann, plan: home, start: 2026-01-01}\n"
        "usage:\n"
        "  - {account: ann, ts: '2026-01-05T08:00:00Z', bytes_in: 11000000000, bytes_out: 0}\n"
        "until: 2026-02-01\n"
    )
    return path


@pytest.fixture(scope="module")
def billed(tmp_path_factory) -> Path:
    """A JET_HOME with the scenario rated and its bill dates 2026-01-01 and 2026-02-01
    issued and rendered; each test gets a copy (`home`)."""
    root = tmp_path_factory.mktemp("billed")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("JET_HOME", str(root / "home"))
        env.delenv("JET_DATABASE_URL", raising=False)
        settings = Settings()
        settings.export()
        load_scenario(scenario(root), settings)
        rate(settings, "2026-02-01", "run")
        issue_invoices(settings, date(2026, 1, 1), date(2026, 2, 1))
        render_pdfs(settings, processes=1)
    return root / "home"


@pytest.fixture
def home(billed: Path, settings: Settings) -> Path:
    """This test's JET_HOME (the `settings` fixture's), a copy of the billed one."""
    shutil.copytree(billed, settings.root, dirs_exist_ok=True)
    return settings.root


class Inbox:
    """An aiosmtpd handler that keeps what it receives; `refuse` answers 451 to that
    many messages first; `delay` seconds before each answer."""

    def __init__(self, refuse: int = 0, delay: float = 0.0) -> None:
        self.messages: list = []
        self.refuse, self.delay = refuse, delay
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            time.sleep(self.delay)  # hold the server: the client waits for the answer
        with self.lock:
            if self.refuse > 0:
                self.refuse -= 1
                return "451 4.3.0 try again later"
            self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def by_invoice(self) -> Counter:
        return Counter(m["Subject"].split()[3] for m in self.messages)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp(monkeypatch):
    """Start an Inbox on loopback; JET_SMTP_HOST and JET_SMTP_PORT point at it."""
    started = []

    def start(inbox: Inbox) -> Inbox:
        port = free_port()
        controller = Controller(inbox, hostname="127.0.0.1", port=port)
        controller.start()
        started.append(controller)
        monkeypatch.setenv("JET_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("JET_SMTP_PORT", str(port))
        monkeypatch.setenv("JET_MAIL_FROM", "billing@demo.example")
        return inbox

    yield start
    for controller in started:
        controller.stop()


def mailed_numbers(settings: Settings) -> list[str]:
    with session(settings.db_url) as s:
        return list(
            s.scalars(
                select(Invoice.number)
                .join(Account, Account.id == Invoice.account_id)
                .where(Account.delivery == "email", Account.email.is_not(None))
                .order_by(Invoice.number)
            )
        )


def test_two_billing_runs_send_each_invoice_once_with_its_pdf(home, tmp_path, smtp):
    inbox = smtp(Inbox())
    settings = Settings()
    first_run = send_invoices(settings)  # the first billing run's invoices (1 Jan, 1 Feb)
    assert first_run.sent == len(mailed_numbers(settings)) == 2 * (CUSTOMERS + 1)
    # the second: through Dagster, whose invoice_emails step sends the new ones
    run_job(settings, "billing_cycle", date(2026, 2, 2), date(2026, 3, 1))

    numbers = mailed_numbers(settings)
    assert len(numbers) == 3 * (CUSTOMERS + 1)  # paper1 and nomail are not mailed
    assert inbox.by_invoice() == Counter(numbers)
    for message in inbox.messages:
        number = message["Subject"].split()[3]
        (pdf,) = list(message.iter_attachments())
        assert pdf.get_filename() == f"{number}.pdf"
        assert pdf.get_content() == pdf_path(settings, "demo", number).read_bytes()
        assert message["From"] == "Demo Net <billing@demo.example>"
        assert message["Subject"].startswith(f"Demo Net: invoice {number} (AUD ")
    assert {m.status for m in mailings(settings)} == {"sent"}
    ids = [m.message_id for m in mailings(settings)]
    assert len(set(ids)) == len(ids) and all(i.endswith("@demo.example>") for i in ids)

    # a re-send on request: again, under a new Message-ID, recorded
    first = numbers[0]
    before = next(m for m in mailings(settings) if m.number == first).message_id
    send_invoices(settings, invoice_ids=[request_resend(settings, first)])
    assert inbox.by_invoice()[first] == 2
    again = next(m for m in mailings(settings) if m.number == first)
    assert again.status == "sent" and again.message_id != before
    assert inbox.messages[-1]["Message-ID"] == again.message_id

    # the paper run: paper1's and nomail's invoices of 2026-03-01, merged
    printed = CliRunner().invoke(
        main, ["invoice", "print", "--date", "2026-03-01", "--out", str(tmp_path / "print.pdf")]
    )
    assert printed.output == f"2 invoices: {tmp_path / 'print.pdf'}\n", printed.output
    out = tmp_path / "print.pdf"
    singles = [
        len(PdfReader(pdf_path(settings, "demo", n)).pages)
        for n in (i.number for i in _invoices(settings, date(2026, 3, 1), ("paper1", "nomail")))
    ]
    assert len(PdfReader(out).pages) == sum(singles)


def _invoices(settings, day, accounts):
    with session(settings.db_url) as s:
        return list(
            s.scalars(
                select(Invoice).where(Invoice.bill_date == day, Invoice.account_id.in_(accounts))
            )
        )


def test_a_sender_killed_mid_run_and_run_again_sends_each_invoice_once(home, smtp):
    inbox = smtp(Inbox(delay=0.05))
    settings = Settings()
    numbers = mailed_numbers(settings)
    env = {**os.environ}
    sender = subprocess.Popen(
        [sys.executable, "-m", "jet.cli", "invoice", "mail"], env=env, stdout=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 30
    while len(inbox.messages) < 5 and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(sender.pid, signal.SIGKILL)
    sender.wait()
    received_before = len(inbox.messages)
    assert 5 <= received_before < len(numbers)
    states = Counter(m.status for m in mailings(settings))
    assert states["sending"] <= 1 and states["sent"] >= received_before - 1

    result = subprocess.run(
        [sys.executable, "-m", "jet.cli", "invoice", "mail"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr

    got = inbox.by_invoice()
    assert set(got) == set(numbers)  # none unsent
    ids: dict[str, set[str]] = {}
    for message in inbox.messages:
        ids.setdefault(message["Subject"].split()[3], set()).add(message["Message-ID"])
    assert all(len(v) == 1 for v in ids.values())  # never under two Message-IDs
    twice = [n for n, k in got.items() if k > 1]
    assert len(twice) <= 1  # at most the one in flight at the kill
    assert {m.status for m in mailings(settings)} == {"sent"}
    assert all(m.message_id in ids[m.number] for m in mailings(settings))


def test_a_server_that_refuses_for_a_while_is_retried_after_the_backoff(home, smtp):
    inbox = smtp(Inbox(refuse=5))
    settings = Settings()
    clock = [datetime(2026, 2, 1, 8, tzinfo=UTC)]

    due = len(mailed_numbers(settings))
    first = send_invoices(settings, now=lambda: clock[0])
    assert (first.sent, first.retrying, first.failed) == (due - 5, 5, 0)
    waiting = mailings(settings, troubled=True)
    assert [m.status for m in waiting] == ["pending"] * 5
    assert all(m.last_error.startswith("451") for m in waiting)
    listed = CliRunner().invoke(main, ["invoice", "deliveries", "--failed"])
    assert listed.exit_code == 0, listed.output
    assert [line.split("\t")[3] for line in listed.output.splitlines()] == ["pending"] * 5
    assert "451 4.3.0 try again later" in listed.output
    assert send_invoices(settings, now=lambda: clock[0] + timedelta(seconds=10)).sent == 0

    clock[0] += timedelta(seconds=31)  # the outbox's first retry: after 30 s
    assert send_invoices(settings, now=lambda: clock[0]).sent == 5
    assert inbox.by_invoice() == Counter(mailed_numbers(settings))
    assert mailings(settings, troubled=True) == []


def test_a_server_that_cannot_be_reached_is_retried_and_5xx_fails_for_good(home, monkeypatch):
    monkeypatch.setenv("JET_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("JET_SMTP_PORT", str(free_port()))  # nobody listens
    settings = Settings()
    now = datetime(2026, 2, 1, 8, tzinfo=UTC)
    due = len(mailed_numbers(settings))
    run = send_invoices(settings, now=lambda: now)
    assert run.sent == 0 and run.retrying == due and "refused" in run.error.lower()
    assert all(m.status == "pending" for m in mailings(settings, troubled=True))

    class Refuses(Inbox):
        async def handle_RCPT(self, server, session, envelope, address, options):
            return "550 5.1.1 no such user"

    port = free_port()
    controller = Controller(Refuses(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings = Settings(smtp_port=port)
        failed = []
        for _ in range(3):  # attempts 2 and 3: the third attempt's 550 is final
            now += timedelta(hours=2)
            failed.append(send_invoices(settings, now=lambda t=now: t).failed)
        assert failed == [0, due, 0]
        failed = mailings(settings, troubled=True)
        assert {m.status for m in failed} == {"failed"}
        assert failed[0].last_error.startswith("550")
        now += timedelta(days=1)
        assert send_invoices(settings, now=lambda: now).failed == 0  # failed waits for a person
    finally:
        controller.stop()


def test_usage_warnings_are_mailed_once_per_threshold(home, smtp):
    inbox = smtp(Inbox())
    settings = Settings()
    assert announce_thresholds(settings) == 2
    dispatch(settings, [notices.subscriber()])
    dispatch(settings, [notices.subscriber()])
    assert announce_thresholds(settings) == 0  # the next rating run sees the same crossings
    dispatch(settings, [notices.subscriber()])

    subjects = sorted(m["Subject"] for m in inbox.messages)
    assert subjects == [
        "You have used 100 % of your included usage (1–31 Jan)",
        "You have used 80 % of your included usage (1–31 Jan)",
    ]
    body = next(m for m in inbox.messages if "80 %" in m["Subject"]).get_content()
    assert "You have used 80 % of the 10 GB included in your plan for 1–31 Jan" in body
    assert all(m["To"] == "ann@example.net" for m in inbox.messages)
