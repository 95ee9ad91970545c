"""Invoice PDFs the real way: a store with the demo realms' catalogs (acme, skyfi,
eurowave: sellers, payment blocks, logos, locales, eurowave's EPC QR) and N issued
invoices of theirs with catalog products (names, units, tiers), through `render_pdfs`:
store -> documents -> PDF -> Factur-X (the CII XML checked against the XSD and embedded)
-> file, with one process and with every core. Against the floor: fpdf2 printing the
same invoices' text as one page of plain cells each, in a loop, no store and no files.

    .venv/bin/python bench/bench_pdfs.py [--invoices 2000] [--profile 500]

`--profile N` instead profiles N invoices in this process (cProfile) and prints the
CPU milliseconds an invoice spends in each stage and the top functions."""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import shutil
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from fpdf import FPDF

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import report  # noqa: E402
from jet.catalog import load_catalog_file  # noqa: E402
from jet.config import Settings  # noqa: E402
from jet.realms import store_catalog  # noqa: E402
from jet.store.db import session  # noqa: E402
from jet.store.models import Account, Invoice, InvoiceLine, Realm  # noqa: E402
from reports.facturx import with_einvoice  # noqa: E402
from reports.invoice_pdf import InvoiceDocument, invoice_file, render_invoice  # noqa: E402
from reports.issued_invoices import _INVOICES, _documents, render_pdfs  # noqa: E402

CATALOGS = Path(__file__).resolve().parent.parent / "examples" / "catalogs"
ISSUED = datetime(2026, 10, 1, 6, 30, tzinfo=UTC)
PERIOD = (date(2026, 9, 1), date(2026, 10, 1))
D = Decimal
# realm: invoices of its kinds, as (product, kind, quantity, amount) lines; every
# twentieth acme invoice a cost-centre's, 24 lines over two pages.
REALMS = ["acme", "skyfi", "eurowave"]
LINES = {
    "acme": [
        [("home-access", "advance", "1", "69.00")],
        [("home-access", "advance", "1", "69.00"), ("home-data", "usage", "750", "12.50")],
    ],
    "skyfi": [
        [("unlimited-pass", "advance", "1", "39.00")],
        [
            ("unlimited-pass", "advance", "1", "39.00"),
            ("pay-as-you-go-data", "usage", "450", "2.50"),
        ],
    ],
    "eurowave": [
        [("fibre-access", "advance", "1", "39.90")],
        [("fibre-access", "advance", "1", "39.90"), ("setup", "once", "1", "49.00")],
    ],
}
BUSINESS = [("business-access", "advance", "1", "237.00"), ("static-ip", "advance", "1", "10.00")]
ADDRESSES = {
    "acme": ("12 Example Street\nSurry Hills NSW 2010", "AU"),
    "skyfi": ("4 Queen Street\nAuckland 1010", "NZ"),
    "eurowave": ("Müllerstraße 5\n13353 Berlin", "DE"),
}


def demo_store(settings: Settings, n: int) -> None:
    """A store with the demo catalogs and `n` issued invoices, the realms in turn."""
    with session(settings.db_url) as s:
        realms = {}
        for realm_id in REALMS:
            path = CATALOGS / f"{realm_id}.yaml"
            store_catalog(s, load_catalog_file(path), str(path))
            s.flush()
            realms[realm_id] = s.get(Realm, realm_id)
        accounts, invoices = [], []
        for i in range(1, n + 1):
            realm = realms[REALMS[i % len(REALMS)]]
            login = f"{realm.id}-{i:06d}"
            address, country = ADDRESSES[realm.id]
            accounts.append(
                Account(
                    id=login, realm_id=realm.id, name=f"Customer {i}", address=address,
                    country=country, email=f"{login}@example.net", created_at=ISSUED,
                )
            )  # fmt: skip
            if realm.id == "acme" and i % 20 == 0:
                lines = [(f"{login}-{k}", *line) for k in range(12) for line in BUSINESS]
            else:
                lines = [(login, *line) for line in LINES[realm.id][i % 2]]
            subtotal = sum((D(amount) for *_, amount in lines), D(0))
            tax = (subtotal * realm.tax_rate).quantize(D("0.01"))
            realm.last_invoice_number += 1
            number = realm.invoice_format.format(
                prefix=realm.invoice_prefix, year=2026, number=realm.last_invoice_number
            )
            invoices.append(
                Invoice(
                    number=number, realm_id=realm.id, account_id=login, bill_date=PERIOD[1],
                    currency=realm.currency, subtotal=subtotal, tax=tax, total=subtotal + tax,
                    issued_at=ISSUED,
                    lines=[
                        InvoiceLine(
                            line_key=f"{number}:{k}", account_id=user, subscription_id=i,
                            product_id=product, kind=kind, description=f"{product} ({kind})",
                            period_start=PERIOD[0], period_end=PERIOD[1], quantity=D(quantity),
                            amount=D(amount), taxable=True,
                        )
                        for k, (user, product, kind, quantity, amount) in enumerate(lines)
                    ],
                )
            )  # fmt: skip
        s.add_all(accounts)
        s.flush()
        s.add_all(invoices)


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


def stored_documents(settings: Settings) -> list[InvoiceDocument]:
    with session(settings.db_url) as s:
        return _documents(s, list(s.execute(_INVOICES)), settings.root)


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


def stages(settings: Settings, n: int) -> dict[str, float]:
    """CPU milliseconds an invoice spends in each stage, in this process (warm: a first
    pass of 30 invoices parses fonts, schema and logos): building documents from the
    store, rendering the PDF/A page, rendering it as Factur-X (the XML made, checked and
    embedded with the page), and what `factur-x`'s own embedding of the XML in the
    rendered page (a pypdf rewrite) would add instead."""
    out: dict[str, float] = {}
    began = time.process_time()
    docs = stored_documents(settings)
    out["documents"] = (time.process_time() - began) * 1000 / len(docs)
    docs = docs[:n]
    for doc in docs[:30]:
        with_einvoice(invoice_file(doc), doc)
    began = time.process_time()
    pdfs = [render_invoice(doc) for doc in docs]
    out["render"] = (time.process_time() - began) * 1000 / n
    began = time.process_time()
    for doc in docs:
        invoice_file(doc)
    out["render_with_einvoice"] = (time.process_time() - began) * 1000 / n
    began = time.process_time()
    for pdf, doc in zip(pdfs, docs, strict=True):
        with_einvoice(pdf, doc)
    out["factur_x_embedding_instead"] = (time.process_time() - began) * 1000 / n
    return {k: round(v, 2) for k, v in out.items()}


def profile(settings: Settings, n: int) -> None:
    print("CPU ms an invoice by stage:", stages(settings, n))
    shutil.rmtree(settings.pdf_dir, ignore_errors=True)
    profiler = cProfile.Profile()
    profiler.enable()
    render_pdfs(settings, processes=1)
    profiler.disable()
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative").print_stats(45)
    stats.sort_stats("tottime").print_stats(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--invoices", type=int, default=2_000)
    parser.add_argument("--profile", type=int, default=0, help="profile N invoices instead")
    args = parser.parse_args()
    n = args.profile or args.invoices
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["JET_HOME"] = tmp
        settings = Settings()
        demo_store(settings, n)
        if args.profile:
            profile(settings, n)
            return
        load = os.getloadavg()[0]
        by_stage = stages(settings, min(n, 500))
        docs = stored_documents(settings)
        began = time.perf_counter()
        bare(docs)
        bare_seconds = time.perf_counter() - began
        one, one_cpu = timed(settings, 1)
        cores = len(os.sched_getaffinity(0))
        every, every_cpu = timed(settings, cores)
        report(
            "invoice_pdfs",
            f"{n:,} issued invoices of the demo realms ({sum(len(d.lines) for d in docs):,} "
            f"lines) from the store to Factur-X PDF files, with {cores} processes",
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
            cpu_ms_per_invoice=round(one_cpu * 1000 / n, 2),
            cpu_ms_per_invoice_by_stage=by_stage,
            processes=cores,
            load_average=[round(load, 2), round(os.getloadavg()[0], 2)],
        )


if __name__ == "__main__":
    main()
