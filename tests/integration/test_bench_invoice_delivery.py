"""bench/bench_invoice_delivery.py: its store holds complete invoices of the demo's kind
(seller, logo, buyer's address, tiers, the cost-centres' 24 lines), and a small run
renders every invoice and mails each e-mail invoice once to its loopback server."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import pytest

from bench.delivery_store import build, emailed
from bench.smtp_sink import Counting
from jet.config import Settings
from jet.store.db import session
from reports.invoice_mail import _mime
from reports.issued_invoices import _INVOICES, _documents
from reports.mail_templates import Wording

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def test_the_store_holds_complete_invoices_of_the_demos_kind(settings: Settings) -> None:
    with session(settings.db_url) as s:
        rows = build(s, 40)
    with session(settings.db_url) as s:
        docs = _documents(s, list(s.execute(_INVOICES)), settings.root)

    assert len(docs) == 40
    assert Counter(d.realm_id for d in docs) == {"acme": 32, "skyfi": 4, "eurowave": 4}
    assert sorted(len(d.lines) for d in docs)[-2:] == [24, 24]  # the two cost-centres
    centre = next(d for d in docs if len(d.lines) == 24)
    assert all(ln.user_name for ln in centre.lines)  # its users, by name
    assert all(d.seller and d.buyer and d.buyer.address and d.brand for d in docs)
    assert all(d.brand.logo for d in docs if d.realm_id != "skyfi")
    assert any(ln.tiers for d in docs for ln in d.lines)
    assert sum(d.payment.epc_qr for d in docs) == 4  # eurowave's, in EUR
    assert all(sum(ln.amount for ln in d.lines) == d.subtotal for d in docs)
    assert len(emailed(rows)) == 38  # accounts 3 and 28 are on paper


def test_a_small_run_renders_every_invoice_and_mails_each_once() -> None:
    out = subprocess.run(
        [sys.executable, "bench/bench_invoice_delivery.py", "--accounts", "40", "--sample", "4"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    figures = json.loads(out.stdout.splitlines()[-1])
    assert figures["invoices"] == 40 and figures["emailed"] == 38
    assert figures["pdfs_per_second"] > 0 and figures["smtp_server_cpu_seconds"] > 0
    assert set(figures["stages_ms_per_invoice"]) == {
        "documents",
        "render",
        "einvoice",
        "write",
        "sample",
    }


def test_the_server_counts_each_invoice_by_its_pdf_and_names_a_message_without_one() -> None:
    wording = Wording(sender="Acme <billing@acme.example>", subject="Invoice", body="Hi")
    pdf = _mime(wording, "a@example.net", "<1@acme.example>", b"%PDF-1.7 ...", "ACME-1.pdf")
    not_pdf = _mime(wording, "b@example.net", "<2@acme.example>", b"GIF89a", "ACME-2.pdf")
    counting = Counting()
    for content in (pdf, pdf, not_pdf):
        asyncio.run(counting.handle_DATA(None, None, SimpleNamespace(content=content)))
    totals = counting.totals()
    assert totals["messages"] == 3 and totals["bytes"] == 2 * len(pdf) + len(not_pdf)
    assert totals["numbers"] == {"ACME-1": 2} and totals["without_pdf"] == ["<2@acme.example>"]
