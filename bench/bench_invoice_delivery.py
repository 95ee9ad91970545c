"""Invoices out: render and e-mail the invoices of N accounts (default 100,000), as the
billing cycle's `invoice_pdfs` and `invoice_emails` steps do, to an SMTP server on
loopback (aiosmtpd in a process of its own, counting what it takes).

The store holds N issued invoices of the demo's kind (most with one or two lines, every
twentieth a cost-centre's with 24 lines) under the acme catalog (seller, payment details,
logo, product names), every account with an e-mail address. Measured: `render_pdfs`
with a process per core (each PDF a Factur-X e-invoice), then `send_invoices` (one
connection), and the server's count: exactly one message a PDF.

    .venv/bin/python bench/bench_invoice_delivery.py [--accounts 100000]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import update

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import report  # noqa: E402
from jet.catalog import load_catalog_file  # noqa: E402
from jet.config import Settings  # noqa: E402
from jet.realms import store_catalog  # noqa: E402
from jet.store.db import session  # noqa: E402
from jet.store.models import Account  # noqa: E402
from reports.invoice_mail import send_invoices  # noqa: E402
from reports.issued_invoices import render_pdfs  # noqa: E402
from tests.invoice_documents import documents, issue  # noqa: E402

ACME = Path(__file__).resolve().parent.parent / "examples" / "catalogs" / "acme.yaml"

# The server: counts messages and bytes, checks each carries a PDF, prints the totals
# and its CPU seconds when told to stop (a line on stdin).
_SERVER = """
import asyncio, resource, sys
from aiosmtpd.controller import Controller
class Count:
    messages = 0; size = 0; without_pdf = 0
    async def handle_DATA(self, server, session, envelope):
        Count.messages += 1; Count.size += len(envelope.content)
        if b"application/pdf" not in envelope.content: Count.without_pdf += 1
        return "250 OK"
c = Controller(Count(), hostname="127.0.0.1", port=int(sys.argv[1])); c.start()
print("ready", flush=True); sys.stdin.readline(); c.stop()
u = resource.getrusage(resource.RUSAGE_SELF)
print(Count.messages, Count.size, Count.without_pdf, round(u.ru_utime + u.ru_stime, 2), flush=True)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cpu() -> float:
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=100_000)
    n = parser.parse_args().accounts
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["JET_HOME"] = tmp
        port = _free_port()
        os.environ.update(JET_SMTP_HOST="127.0.0.1", JET_SMTP_PORT=str(port))
        settings = Settings()

        began = time.perf_counter()
        docs = documents(n)
        issue(settings, docs)
        with session(settings.db_url) as s:
            store_catalog(s, load_catalog_file(ACME), str(ACME))
            s.execute(update(Account).values(email=Account.id + "@example.net"))
        setup = time.perf_counter() - began
        print(f"set-up: {n:,} issued invoices in {setup:.1f} s", flush=True)

        server = subprocess.Popen(
            [sys.executable, "-c", _SERVER, str(port)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert server.stdout.readline().strip() == "ready"
        load = os.getloadavg()[0]

        def progress(done: int, total: int) -> None:
            if done % 10_000 == 0 or done == total:
                print(f"  rendered {done:,} of {total:,}", flush=True)

        began, cpu = time.perf_counter(), _cpu()
        written = render_pdfs(settings, progress)
        render, render_cpu = time.perf_counter() - began, _cpu() - cpu
        print(f"rendered {len(written):,} PDFs in {render:.1f} s", flush=True)

        began, cpu = time.perf_counter(), _cpu()
        run = send_invoices(settings)
        mail, mail_cpu = time.perf_counter() - began, _cpu() - cpu
        server.stdin.write("stop\n")
        server.stdin.flush()
        messages, size, without_pdf, server_cpu = server.stdout.readline().split()
        server.wait()
        assert len(written) == n, f"{len(written)} PDFs for {n} invoices"
        assert run.sent == int(messages) == n, f"sent {run.sent}, received {messages}, of {n}"
        assert int(without_pdf) == 0, f"{without_pdf} messages without a PDF"

        cores = len(os.sched_getaffinity(0))
        report(
            "invoice_delivery",
            f"{n:,} accounts' invoices ({sum(len(d.lines) for d in docs):,} lines) rendered "
            f"as Factur-X PDFs with {cores} processes, then e-mailed to aiosmtpd on loopback",
            render + mail,
            "none: the issue's target is 200 PDFs a second on 2 cores",
            n / 200,
            accounts=n,
            pdfs_per_second=round(n / render, 1),
            mails_per_second=round(n / mail, 1),
            render_seconds=round(render, 1),
            render_cpu_seconds=round(render_cpu, 1),
            mail_seconds=round(mail, 1),
            mail_cpu_seconds=round(mail_cpu, 1),
            server_cpu_seconds=float(server_cpu),
            mail_mb=round(int(size) / 1e6, 1),
            setup_seconds=round(setup, 1),
            processes=cores,
            load_average=[round(load, 2), round(os.getloadavg()[0], 2)],
        )


if __name__ == "__main__":
    main()
