"""Invoice PDFs: `render_pdfs` over a store of N issued invoices of the demo's kind (most
with one or two lines, every twentieth a cost-centre's with 24 lines over two pages),
with one process and with every core, against the floor: fpdf2 printing the same
invoices' text as one page of plain cells each, in a loop, no store and no files.

    .venv/bin/python bench/bench_pdfs.py [--invoices 2000]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from fpdf import FPDF

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import report  # noqa: E402
from jet.catalog import load_catalog_file  # noqa: E402
from jet.config import Settings  # noqa: E402
from jet.realms import store_catalog  # noqa: E402
from jet.store.db import session  # noqa: E402
from reports.invoice_pdf import InvoiceDocument  # noqa: E402
from reports.issued_invoices import render_pdfs  # noqa: E402
from tests.invoice_documents import documents, issue  # noqa: E402

ACME = Path(__file__).resolve().parent.parent / "examples" / "catalogs" / "acme.yaml"


def bare(docs: list[InvoiceDocument]) -> None:
    """The floor: each invoice's text as one page of cells, fpdf2's cheapest way to print."""
    for doc in docs:
        pdf = FPDF(format="A4")
        pdf.add_page()
        pdf.set_font("helvetica", size=9)
        for text in [doc.realm_name, doc.title, doc.number, doc.account_name]:
            pdf.cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
        for line in doc.lines:
            for width, text in [
                (28, line.account_id),
                (62, line.description),
                (40, f"{line.period_start} - {line.period_end}"),
                (22, str(line.quantity)),
                (28, str(line.amount)),
            ]:
                pdf.cell(width, 4, text)
            pdf.ln()
        for text in [str(doc.subtotal), str(doc.tax), str(doc.total)]:
            pdf.cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
        pdf.output()


def timed(settings: Settings, processes: int) -> tuple[float, float]:
    """Seconds `render_pdfs` takes to write every PDF, from none, and the CPU seconds it
    and its workers used (on a shared machine the wall time also holds others' work)."""
    shutil.rmtree(settings.pdf_dir, ignore_errors=True)
    began, cpu = time.perf_counter(), _cpu()
    written = render_pdfs(settings, processes=processes)
    seconds, cpu = time.perf_counter() - began, _cpu() - cpu
    assert len(written) == len(list(settings.pdf_dir.rglob("*.pdf"))), "files missing"
    return seconds, cpu


def _cpu() -> float:
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--invoices", type=int, default=2_000)
    n = parser.parse_args().invoices
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["JET_HOME"] = tmp
        settings = Settings()
        docs = documents(n)
        issue(settings, docs)
        with session(settings.db_url) as s:  # the acme catalog: seller, payment, logo, names
            store_catalog(s, load_catalog_file(ACME), str(ACME))

        load = os.getloadavg()[0]
        began = time.perf_counter()
        bare(docs)
        bare_seconds = time.perf_counter() - began
        one, one_cpu = timed(settings, 1)
        cores = len(os.sched_getaffinity(0))
        every, every_cpu = timed(settings, cores)
        report(
            "invoice_pdfs",
            f"{n:,} issued invoices ({sum(len(d.lines) for d in docs):,} lines) from the "
            f"store to PDF files, with {cores} processes",
            every,
            "fpdf2 printing the same text as one page of cells each, in a loop, no files",
            bare_seconds,
            invoices=n,
            per_second_1_process=round(n / one),
            per_second_every_core=round(n / every),
            per_second_floor=round(n / bare_seconds),
            seconds_1_process=round(one, 2),
            cpu_seconds_1_process=round(one_cpu, 2),
            cpu_seconds_every_core=round(every_cpu, 2),
            processes=cores,
            load_average=[round(load, 2), round(os.getloadavg()[0], 2)],
        )


if __name__ == "__main__":
    main()
