"""Invoice delivery (issue #16): the invoices of N accounts (default 100,000) rendered to
PDF with every core (`render_pdfs`), then e-mailed (`send_invoices`) to an SMTP server
on loopback that runs as its own process and only counts (bench/smtp_sink.py). The
issue's target: the PDFs at 200 a second or more.

The store (bench/delivery_store.py: the demo realms' catalogs, accounts with addresses
and e-mail, an issued invoice each) is built in bulk first; its time is printed, not
measured. It checks that every invoice has its file and that the server got exactly one
message, with the PDF attached, per invoice of an e-mail account. Last, where the time
of one invoice goes, in this process on a sample: its document from the store, the
render, the Factur-X e-invoice and the file's write.

    .venv/bin/python bench/bench_invoice_delivery.py [--accounts 100000] [--sample 500]
"""

from __future__ import annotations

import argparse
import json
import os
import smtplib
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy.orm import Session as OrmSession

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import report  # noqa: E402
from bench.delivery_store import build, emailed  # noqa: E402
from jet.config import Settings  # noqa: E402
from jet.store.db import session  # noqa: E402
from reports.invoice_mail import send_invoices  # noqa: E402
from reports.issued_invoices import pdf_path, render_pdfs  # noqa: E402

TARGET = 200  # PDFs a second, the issue's


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=500, help="invoices timed stage by stage")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["JET_HOME"] = str(Path(tmp) / "home")
        os.environ.pop("JET_DATABASE_URL", None)
        began = time.perf_counter()
        with session(Settings().db_url) as s:
            rows = build(s, args.accounts)
        setup = time.perf_counter() - began
        numbers = [inv["realm_id"] + "/" + inv["number"] for inv in rows.invoices]
        by_mail, lines = emailed(rows), len(rows.lines)
        del rows
        log(f"set-up: {args.accounts:,} accounts, {len(numbers):,} invoices, {lines:,} lines "
            f"in {setup:.1f} s")  # fmt: skip

        with SmtpSink() as sink:
            settings = Settings()
            load = os.getloadavg()[0]
            render, render_cpu, written = timed(
                lambda: render_pdfs(settings, progress=Progress("PDFs"))
            )
            missing = [n for n in numbers if not pdf_path(settings, *n.split("/")).exists()]
            check(len(written) == len(numbers) and not missing, f"PDFs missing: {missing[:5]}")
            log(f"rendered {len(written):,} PDFs in {render:.1f} s ({len(written) / render:.0f}/s)")
            with Clocks((smtplib.SMTP, "sendmail"), (OrmSession, "commit")) as clocks:
                send, send_cpu, run = timed(lambda: send_invoices(settings))
            got = sink.totals()
        check(run.sent == len(by_mail) and not run.failed and not run.retrying, f"sent: {run}")
        check(not got["without_pdf"], f"messages without a PDF: {got['without_pdf'][:5]}")
        wrong = {n: c for n, c in got["numbers"].items() if c != 1 or n not in by_mail}
        check(not wrong and len(got["numbers"]) == len(by_mail), f"not once each: {wrong}")
        log(f"sent {run.sent:,} messages in {send:.1f} s ({run.sent / send:.0f}/s)")
        pdf_bytes = sum(p.stat().st_size for p in written)
        stages = stage_times(settings, args.sample, Path(tmp) / "sample")
        report(
            "invoice_delivery",
            f"{len(numbers):,} issued invoices ({lines:,} lines; acme, skyfi and eurowave) "
            f"to PDF files with every core, then {run.sent:,} of them e-mailed to a "
            "loopback SMTP server",
            render,
            f"the issue's target for the PDFs: {TARGET} a second",
            len(numbers) / TARGET,
            accounts=args.accounts,
            invoices=len(numbers),
            emailed=run.sent,
            pdfs_per_second=round(len(numbers) / render),
            render_cpu_seconds=round(render_cpu, 1),
            render_cores_used=round(render_cpu / render, 2),  # of the machine's, shared
            send_seconds=round(send, 1),
            messages_per_second=round(run.sent / send),
            send_cpu_seconds=round(send_cpu, 1),
            send_ms_per_message=round(send * 1000 / max(run.sent, 1), 1),
            send_stages_ms_per_message={
                "smtp": clocks.ms_per("sendmail", run.sent),
                "commit": clocks.ms_per("commit", run.sent),
                "rest": round((send - sum(clocks.seconds.values())) * 1000 / max(run.sent, 1), 2),
            },
            smtp_server_cpu_seconds=got["cpu_seconds"],
            whole_seconds=round(render + send, 1),
            setup_seconds=round(setup, 1),
            pdf_kb_mean=round(pdf_bytes / len(written) / 1024, 1),
            message_kb_mean=round(got["bytes"] / max(got["messages"], 1) / 1024, 1),
            processes=len(os.sched_getaffinity(0)),
            stages_ms_per_invoice=stages,
            load_average=[round(load, 2), round(os.getloadavg()[0], 2)],
        )


class SmtpSink:
    """bench/smtp_sink.py in its own process; JET_SMTP_HOST and JET_SMTP_PORT name it."""

    def __enter__(self) -> SmtpSink:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.smtp_sink"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        port = json.loads(self.process.stdout.readline())["port"]
        os.environ |= {
            "JET_SMTP_HOST": "127.0.0.1",
            "JET_SMTP_PORT": str(port),
            "JET_MAIL_FROM": "billing@bench.example",
        }
        return self

    def totals(self) -> dict:
        """Stop the server; what it got."""
        self.process.stdin.write("stop\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def __exit__(self, *exc: object) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)


class Clocks:
    """Adds up the wall time spent in some methods while it is entered, by method name:
    where a message's time goes (the SMTP exchange, the store's commits, the rest)."""

    def __init__(self, *methods: tuple[type, str]) -> None:
        self.methods = methods
        self.seconds: dict[str, float] = {name: 0.0 for _, name in methods}

    def __enter__(self) -> Clocks:
        self.saved = [(cls, name, getattr(cls, name)) for cls, name in self.methods]
        for cls, name, method in self.saved:
            setattr(cls, name, self._clocked(name, method))
        return self

    def _clocked(self, name: str, method):  # type: ignore[no-untyped-def]
        def clocked(*args, **kwargs):  # type: ignore[no-untyped-def]
            began = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                self.seconds[name] += time.perf_counter() - began

        return clocked

    def __exit__(self, *exc: object) -> None:
        for cls, name, method in self.saved:
            setattr(cls, name, method)

    def ms_per(self, name: str, count: int) -> float:
        return round(self.seconds[name] * 1000 / max(count, 1), 2)


def timed(work):  # type: ignore[no-untyped-def]
    """Wall seconds, CPU seconds of this process and its finished children, and the result."""
    began, cpu = time.perf_counter(), cpu_seconds()
    result = work()
    return time.perf_counter() - began, cpu_seconds() - cpu, result


def cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


class Progress:
    """A line on stderr every tenth of the way, with the rate so far."""

    def __init__(self, what: str) -> None:
        self.what, self.began, self.shown = what, time.perf_counter(), 0

    def __call__(self, done: int, total: int) -> None:
        if done * 10 // total > self.shown:
            self.shown = done * 10 // total
            seconds = time.perf_counter() - self.began
            log(f"{self.what}: {done:,}/{total:,} in {seconds:.0f} s ({done / seconds:.0f}/s)")


def stage_times(settings: Settings, sample: int, scratch: Path) -> dict[str, float] | None:
    """Milliseconds per invoice in one process, over the first `sample` invoices (after
    a first pass that warms the per-process caches): their documents from the store, the
    PDF/A render, what the Factur-X e-invoice adds to it (the XML made, checked against
    the XSD and embedded) and the file's write (with its fsync). It uses the renderer's
    inner steps as they are; None if they changed."""
    try:
        from reports.invoice_pdf import invoice_file, render_invoice
        from reports.issued_invoices import _INVOICES, _documents
        from reports.write_once import write_once
    except ImportError as err:
        log(f"no stage times: {err}")
        return None
    times = dict.fromkeys(("documents", "render", "einvoice", "write"), 0.0)
    with session(settings.db_url) as s:
        invoices = list(s.execute(_INVOICES.limit(sample)))
        began = time.perf_counter()
        docs = _documents(s, invoices, settings.root)
        times["documents"] = time.perf_counter() - began
    for doc in docs[:30]:
        invoice_file(doc)
    for doc in docs:
        t0 = time.perf_counter()
        render_invoice(doc)
        t1 = time.perf_counter()
        data = invoice_file(doc)
        t2 = time.perf_counter()
        write_once(scratch / f"{doc.number}.pdf", lambda data=data: data)
        t3 = time.perf_counter()
        times["render"] += t1 - t0
        times["einvoice"] += (t2 - t1) - (t1 - t0)
        times["write"] += t3 - t2
    return {k: round(v * 1000 / len(docs), 2) for k, v in times.items()} | {"sample": len(docs)}


def check(ok: bool, problem: str) -> None:
    if not ok:
        sys.exit(f"bench_invoice_delivery: {problem}")


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
