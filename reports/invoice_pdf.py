"""Invoice PDFs: one A4 tax invoice per issued invoice, rendered with fpdf2.

An issued invoice never changes (billing-rules.md, Invoices), so rendering is
deterministic (the PDF's creation date is the invoice's `issued_at`: the same
invoice gives the same bytes) and `write_invoice` never replaces a file that
exists. Amounts are Decimal end to end and printed by `format_money` with the
currency's minor unit.

Text uses a shipped Unicode font (`reports.pdf_fonts`: DejaVu Sans, Latin, Greek and
Cyrillic) or the realm's own, embedded, as PDF/A-3 wants.
"""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from io import BytesIO
from pathlib import Path

import segno
import segno.helpers
from fpdf import FPDF
from fpdf.enums import MethodReturnValue, XPos, YPos
from fpdf.image_datastructures import RasterImageInfo
from fpdf.image_parsing import get_img_info

from jet.money import minor_units, round_money
from reports import locale_text
from reports.facturx import embed_einvoice
from reports.invoice_document import (
    Brand,
    InvoiceDocument,
    InvoiceDocumentLine,
    Party,
    PaymentInstructions,
    TaxSubtotal,
)
from reports.pdf_fonts import FAMILY, FastFonts, use_fonts
from reports.write_once import write_once

__all__ = [
    "InvoiceDocument", "InvoiceDocumentLine", "invoice_file", "render_invoice", "write_invoice"
]  # fmt: skip


_MARGIN = 15.0  # mm, all sides
_COLUMNS = ("User", "Description", "Period", "Quantity", "Unit price", "Amount")
_COL_WIDTHS = (24.0, 50.0, 34.0, 24.0, 22.0, 26.0)  # mm, sums to the 180 mm text width
_RIGHT_ALIGNED = (False, False, False, True, True, True)
_LINE_HEIGHT = 5.0  # mm, a line of table text
_PADDING_Y, _PADDING_X = 0.9, 1.5  # mm, around a table cell's text
_QUANTITY_PLACES = 6  # the most places a quantity prints with
_LOGO_HEIGHT = 16.0  # mm
_QR_SIZE = 30.0  # mm
_QR_MASK = 2  # the EPC QR code's mask pattern: fixed (`_epc_qr`)


def _quantity(value: Decimal) -> str:
    """Exact quantity, at most six places, no trailing zeros: "1", "12.5", "0.333333"."""
    q = Decimal(value).quantize(Decimal(1).scaleb(-_QUANTITY_PLACES), rounding=ROUND_HALF_UP)
    text = f"{q:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _percent(rate: Decimal) -> str:
    """A tax rate as a percentage without trailing zeros: 0.10 -> "10%", 0.085 -> "8.5%"."""
    text = f"{Decimal(rate) * 100:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text}%"


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


class _InvoicePDF(FPDF):
    """A4 portrait with a footer: the realm's footer text (or what the document is) and
    the page; fonts from `reports.pdf_fonts`, the brand's or the shipped Unicode font.

    `pdfa`: a PDF/A-3B document (fpdf2 checks what it is given: embedded fonts only;
    it adds the sRGB output intent and the XMP metadata that say so)."""

    def __init__(self, footer_text: str, brand: Brand, pdfa: bool = False) -> None:
        super().__init__(
            orientation="portrait", unit="mm", format="A4",
            enforce_compliance="PDF/A-3B" if pdfa else None,
        )  # fmt: skip
        self._footer_text = footer_text
        self.brand = brand
        use_fonts(self, brand.font_regular, brand.font_bold)

    def footer(self) -> None:
        self.set_y(-_MARGIN + 1)
        self.set_font(FAMILY, size=7)
        self.set_text_color(110)
        width = self.w - 2 * _MARGIN - 22
        _block(self, width, 3.5, self._footer_text)
        self.set_xy(self.l_margin, -_MARGIN + 1)
        self.cell(0, 3.5, f"Page {self.page_no()} of {{nb}}", align="R")
        self.set_text_color(0)

    def output(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return super().output(*args, output_producer_class=_Output, **kwargs)


class _Output(FastFonts):
    """fpdf2's output with `FastFonts`; a PDF/A document's XMP metadata the same each
    time (fpdf2 dates its modification now) and its document information dictionary
    too (fpdf2 leaves it out of a PDF/A; PDF/A-3 allows it where it says what the XMP
    says, and readers such as pdfinfo show it)."""

    def bufferize(self) -> bytearray:
        self._pdfa = self.fpdf._compliance
        if self._pdfa:
            self.fpdf._compliance = None  # fpdf2 adds the Info dictionary only without
        try:
            return super().bufferize()
        finally:
            self.fpdf._compliance = self._pdfa

    def _add_xmp_metadata(self):  # type: ignore[no-untyped-def]
        saved, self.fpdf._compliance = self.fpdf._compliance, self._pdfa
        try:
            return super()._add_xmp_metadata()
        finally:
            self.fpdf._compliance = saved

    def _build_xmp_from_info(self) -> str:
        xmp = super()._build_xmp_from_info()
        created = re.search(r'xmp:CreateDate="([^"]*)"', xmp)
        if created is None:
            return xmp
        return re.sub(r'(xmp:(?:Modify|Metadata)Date)="[^"]*"', rf'\1="{created[1]}"', xmp)


def start_document(
    realm_name: str,
    title: str,
    number: str,
    subject: str,
    created: datetime,
    note: str = "",
    brand: Brand | None = None,
    seller: Party | None = None,
    pdfa: bool = False,
) -> FPDF:
    """A new document's first page with its header (the realm's logo, who issues it with
    their address, tax id and contact, what it is, the `note` under that) and its
    metadata; `created` makes the bytes the same each time. `pdfa`: `_InvoicePDF`."""
    brand = brand or Brand()
    footer = brand.footer or f"{realm_name} - {title.lower()} {number}"
    pdf = _InvoicePDF(footer_text=footer, brand=brand, pdfa=pdfa)
    pdf.set_margins(_MARGIN, _MARGIN, _MARGIN)
    pdf.set_auto_page_break(auto=True, margin=_MARGIN + 8)
    pdf.set_title(number)
    pdf.set_author(realm_name)
    pdf.set_subject(subject)
    pdf.set_creator("Jet")
    pdf.set_creation_date(_utc(created))
    pdf.add_page()

    top = pdf.y
    if brand.logo:
        logo = _logo(pdf, brand.logo)
        pdf.image(logo, x=pdf.w - _MARGIN - 60, y=top, h=_LOGO_HEIGHT, keep_aspect_ratio=True, w=60)
    pdf.set_text_color(*_rgb(brand.primary_colour))
    pdf.set_font(FAMILY, style="B", size=20)
    width = pdf.w - 2 * _MARGIN - (62 if brand.logo else 0)
    _block(pdf, width, 9, seller.name if seller else realm_name)
    pdf.set_text_color(80)
    if seller is not None:
        pdf.set_font(FAMILY, size=8.5)
        contact = [
            ", ".join(seller.address),
            " - ".join(x for x in (seller.tax_id, seller.email, seller.phone, seller.website) if x),
        ]
        for text in contact:
            if text:
                _block(pdf, width, 4, text)
    pdf.set_y(max(pdf.y, top + (_LOGO_HEIGHT if brand.logo else 0)) + 2)
    pdf.set_text_color(*_rgb(brand.primary_colour))
    pdf.set_font(FAMILY, style="B", size=14)
    _line(pdf, 0, 8, title, next_line=True)
    pdf.set_text_color(80)
    if note:
        pdf.set_font(FAMILY, size=10)
        _paragraph(pdf, 5, note)
    pdf.set_text_color(0)
    pdf.ln(3)
    return pdf


class _Formats:
    """Money, dates and quantities as the realm's locale writes them (babel)."""

    def __init__(self, doc: InvoiceDocument) -> None:
        self.locale = doc.brand.locale
        self.currency = doc.currency.upper()
        self.places = minor_units(doc.currency)

    def money(self, value: Decimal) -> str:
        """In a table: the number only, with the currency's places."""
        return locale_text.money(self._rounded(value), self.currency, self.locale, "#,##0.00")

    def total(self, value: Decimal) -> str:
        """With the currency's sign: "$72.69", "1.234,50 €"."""
        return locale_text.money(self._rounded(value), self.currency, self.locale)

    def _rounded(self, value: Decimal) -> str:
        return str(round_money(value, self.places))

    def exact(self, value: Decimal) -> str:
        """A tier's or a unit price's exact figure: the currency's places or more, up to 6."""
        text = _quantity(value)
        places = max(len(text.partition(".")[2]), self.places)
        return locale_text.number(text, "#,##0." + "0" * places if places else "#,##0", self.locale)

    def quantity(self, value: Decimal, unit: str | None) -> str:
        text = _quantity(value)
        places = len(text.partition(".")[2])
        number = locale_text.number(
            text, "#,##0." + "#" * places if places else "#,##0", self.locale
        )
        return f"{number} {unit}" if unit else number

    def day(self, value: date) -> str:
        return locale_text.day(value, self.locale)

    def period(self, start: date, last: date) -> str:
        return locale_text.days(start, last, self.locale)


def render_invoice(doc: InvoiceDocument, einvoice: bool = False) -> bytes:
    """The invoice as PDF/A-3B bytes, with `einvoice` a Factur-X e-invoice
    (`embed_einvoice`); the same document always gives the same bytes."""
    fmt = _Formats(doc)
    currency = doc.currency.upper()
    pdf = start_document(
        doc.realm_name,
        doc.title,
        doc.number,
        f"{doc.title} {doc.number}",
        doc.issued_at,
        doc.note,
        brand=doc.brand,
        seller=doc.seller,
        pdfa=True,
    )
    _parties(pdf, doc, fmt)

    # The User column only where the lines are several users' (a cost-centre's invoice).
    skip = 0 if any(line.account_id != doc.account_id for line in doc.lines) else 1
    widths = (sum(_COL_WIDTHS[: skip + 1]), *_COL_WIDTHS[skip + 1 :])
    rows: list[tuple[list[str], bool]] = []
    for line in doc.lines:
        user = f"{line.account_id}\n{line.user_name}" if line.user_name else line.account_id
        price = fmt.exact(line.unit_price) if line.unit_price is not None else ""
        rows.append(
            (
                [
                    user,
                    line.description,
                    fmt.period(line.period_start, line.last_day),
                    fmt.quantity(line.quantity, line.unit),
                    price,
                    fmt.money(line.amount),
                ][skip:],
                False,
            )
        )
        for part in line.tiers:
            bound = f"up to {fmt.quantity(part.upto, line.unit)}" if part.upto else "above"
            if len(line.tiers) == 1 and part.upto is None:
                bound = "all"
            rows.append(
                (
                    [
                        "",
                        f"  tier: {bound}",
                        "",
                        fmt.quantity(part.quantity, line.unit),
                        fmt.exact(part.unit_price),
                        fmt.exact(part.amount),
                    ][skip:],
                    True,
                )
            )
    _table(
        pdf,
        [f"Amount ({currency})" if title == "Amount" else title for title in _COLUMNS][skip:],
        rows,
        widths,
        _RIGHT_ALIGNED[skip:],
    )
    _totals(pdf, doc, fmt)
    _payment(pdf, doc, fmt)
    if doc.brand.terms:
        pdf.ln(3)
        pdf.set_font(FAMILY, size=8.5)
        pdf.set_text_color(80)
        _paragraph(pdf, 4, doc.brand.terms)
        pdf.set_text_color(0)
    if einvoice:
        embed_einvoice(pdf, doc)
    return bytes(pdf.output())


_LABEL_WIDTH = 36.0  # mm: "Credit note number" in bold 9 pt, and a space


def _parties(pdf: FPDF, doc: InvoiceDocument, fmt: _Formats) -> None:
    """Who is billed (left) and the invoice's number, dates and account (right)."""
    top = pdf.y
    half = (pdf.w - 2 * _MARGIN) / 2
    buyer = doc.buyer or Party(name=doc.account_name)
    pdf.set_font(FAMILY, style="B", size=9)
    pdf.set_text_color(110)
    _line(pdf, half, 5, "Bill to", next_line=True)
    pdf.set_text_color(0)
    pdf.set_font(FAMILY, style="B", size=10)
    _block(pdf, half - 4, 5, buyer.name)
    pdf.set_font(FAMILY, size=9)
    extra = [*buyer.address]
    if buyer.country and buyer.country != (doc.seller.country if doc.seller else None):
        extra.append(buyer.country)
    if buyer.tax_id:
        extra.append(f"Tax id: {buyer.tax_id}")
    for text in extra:
        _block(pdf, half - 4, 4.5, text)
    left_end = pdf.y

    number_label = "Credit note number" if doc.kind == "credit_note" else "Invoice number"
    details = [(number_label, doc.number)]
    if doc.credited_number:
        details.append(("Credits invoice", doc.credited_number))
    details += [
        ("Issue date", fmt.day(_utc(doc.issued_at).date())),
        ("Bill date", fmt.day(doc.bill_date)),
    ]
    if doc.due_date is not None:
        details.append(("Due date", fmt.day(doc.due_date)))
    details += [
        ("Account", f"{doc.account_id} - {doc.account_name}"),
        ("Currency", doc.currency.upper()),
    ]
    pdf.set_y(top)
    for label, value in details:
        pdf.set_x(_MARGIN + half)
        pdf.set_font(FAMILY, style="B", size=9)
        _line(pdf, _LABEL_WIDTH, 5, label)
        pdf.set_font(FAMILY, size=9)
        _block(pdf, half - _LABEL_WIDTH, 5, value)
    pdf.set_y(max(pdf.y, left_end) + 5)


def _totals(pdf: FPDF, doc: InvoiceDocument, fmt: _Formats) -> None:
    """Subtotal, tax per rate, total, credit applied and amount due, under the amounts."""
    label_width, amount_width = 70.0, 30.0
    x = pdf.l_margin + sum(_COL_WIDTHS) - label_width - amount_width
    row_height = 6.0
    totals = [("Subtotal", fmt.total(doc.subtotal), False)]
    taxes = doc.taxes or [TaxSubtotal("S", doc.tax_rate, doc.subtotal, doc.tax)]
    for tax in taxes:
        if tax.category == "S":
            label = f"Tax {_percent(tax.rate)} on {fmt.total(tax.basis)}"
        else:
            label = f"No tax (exempt) on {fmt.total(tax.basis)}"
        totals.append((label, fmt.total(tax.tax), False))
    totals.append((f"Total {doc.currency.upper()}", fmt.total(doc.total), True))
    if doc.credit_applied is not None:
        if doc.credit_applied:
            totals.append(("Paid from credit", fmt.total(-doc.credit_applied), False))
        totals.append((f"Amount due {doc.currency.upper()}", fmt.total(doc.amount_due), True))
    if pdf.will_page_break(len(totals) * row_height + 4):
        pdf.add_page()
    pdf.ln(3)
    for label, amount, bold in totals:
        pdf.set_x(x)
        pdf.set_font(FAMILY, style="B" if bold else "", size=10.5 if bold else 9)
        border = "T" if bold else ""
        _line(pdf, label_width, row_height, label, align="R", border=border)
        _line(pdf, amount_width, row_height, amount, align="R", border=border, next_line=True)


def _payment(pdf: FPDF, doc: InvoiceDocument, fmt: _Formats) -> None:
    """How to pay: bank details, the reference, the portal's link, the realm's text and,
    for a euro realm that enables it, an EPC QR code a banking app scans."""
    pay = doc.payment
    if pay is None:
        return
    rows = [
        ("Account name", pay.account_name),
        ("BSB", pay.bank_code),
        ("Account number", pay.account_number),
        ("IBAN", _iban_groups(pay.iban) if pay.iban else None),
        ("BIC", pay.bic),
        ("Reference", pay.reference),
        ("Pay online", pay.pay_url),
    ]
    rows = [(label, value) for label, value in rows if value]
    height = 8 + 5 * len(rows) + (8 if pay.text else 0)
    if pdf.will_page_break(max(height, _QR_SIZE + 8 if pay.epc_qr else 0) + 6):
        pdf.add_page()
    pdf.ln(6)
    top = pdf.y
    pdf.set_text_color(*_rgb(doc.brand.primary_colour))
    pdf.set_font(FAMILY, style="B", size=10)
    _line(pdf, 0, 6, "How to pay", next_line=True)
    pdf.set_text_color(0)
    text_width = pdf.w - 2 * _MARGIN - (_QR_SIZE + 6 if pay.epc_qr else 0)
    for label, value in rows:
        pdf.set_font(FAMILY, style="B", size=9)
        _line(pdf, 32, 5, label)
        pdf.set_font(FAMILY, size=9)
        _block(pdf, text_width - 32, 5, value)
    if pay.text:
        pdf.set_font(FAMILY, size=9)
        _block(pdf, text_width, 4.5, pay.text)
    if pay.epc_qr and pay.iban:
        _epc_qr(pdf, doc, pay, pdf.w - _MARGIN - _QR_SIZE, top)
        pdf.set_font(FAMILY, size=7)
        pdf.text(pdf.w - _MARGIN - _QR_SIZE, top + _QR_SIZE + 3, "Scan to pay (EPC QR)")
        pdf.set_y(max(pdf.y, top + _QR_SIZE + 5))


def _iban_groups(iban: str) -> str:
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))


def _logo(pdf: FPDF, logo: str) -> str | BytesIO:
    """What `pdf.image` is given for a brand's logo (a file's path or a data: URI), its
    decoded image already in the document's image cache: fpdf2 decodes and compresses
    a PNG on every document, here once per process and file version."""
    if logo.startswith("data:"):
        data = base64.b64decode(logo.partition(",")[2])
        source: str | BytesIO = BytesIO(data)
        key = hashlib.md5(data.strip(), usedforsecurity=False).hexdigest()  # as fpdf2 names it
        version: tuple = ()
    else:
        source = key = logo
        stat = Path(logo).stat()
        version = (stat.st_mtime_ns, stat.st_size)
    images = pdf.image_cache.images
    if key not in images:
        info = _image_info(logo, version)
        if info.get("iccp") is not None:  # fpdf2 registers an ICC profile per document
            return source
        images[key] = type(info)(info, i=len(images) + 1, usages=0, iccp_i=None)
    return source


@lru_cache(maxsize=64)
def _image_info(logo: str, version: tuple) -> RasterImageInfo:
    """The decoded image of `logo` (`version`: its file's mtime and size, a file replaced
    is decoded again)."""
    if logo.startswith("data:"):
        return get_img_info("logo", BytesIO(base64.b64decode(logo.partition(",")[2])))
    return get_img_info(logo)


def _epc_qr(pdf: FPDF, doc: InvoiceDocument, pay: PaymentInstructions, x: float, y: float) -> None:
    """The EPC069-12 QR code of a SEPA credit transfer of the amount due, `_QR_SIZE` wide
    at (x, y), with two modules of quiet zone: drawn as filled rectangles, one per run
    of dark modules in a row, not as an image (no PNG to write and decode). The mask is
    fixed (any of the eight is valid; segno's search for the best one was 80% of the
    code's time) so the same invoice draws the same code."""
    data = segno.helpers._make_epc_qr_data(
        name=(pay.account_name or doc.realm_name)[:70],
        iban=pay.iban,
        amount=round_money(doc.amount_due, 2) if doc.amount_due > 0 else None,
        text=(pay.reference or doc.number)[:140],
        reference=None,
        bic=pay.bic,
        purpose=None,
        encoding="UTF-8",
    )
    qr = segno.make_qr(data, error="m", boost_error=False, mask=_QR_MASK)
    matrix = qr.matrix
    module = _QR_SIZE / (len(matrix) + 4)
    k, left, top = pdf.k, x + 2 * module, y + 2 * module
    runs = []
    for row, cells in enumerate(matrix):
        bottom = (pdf.h - top - (row + 1) * module) * k
        start = None
        for col, dark in enumerate([*cells, 0]):
            if dark and start is None:
                start = col
            elif not dark and start is not None:
                runs.append(
                    f"{(left + start * module) * k:.2f} {bottom:.2f} "
                    f"{(col - start) * module * k:.2f} {module * k:.2f} re"
                )
                start = None
    pdf._out(f"q 0 g {' '.join(runs)} f Q")  # fpdf2 writes its own drawing the same way


def _width(pdf: FPDF, text: str) -> float:
    """`get_string_width` of plain text in the current font, without its fragment parsing."""
    return pdf.current_font.get_text_width(text, pdf.font_size_pt, None)[1] / pdf.k


def _line(
    pdf: FPDF, width: float, height: float, text: str, align: str = "L", border: str = "",
    next_line: bool = False,
) -> None:  # fmt: skip
    """One line of text in a `width` x `height` box at the current position, placed as
    fpdf2's `cell` places it (a page break first where it would not fit), then the
    position moves right of it, or to the next line's start. `cell` lays the text out
    fragment by fragment: a fifth of an invoice's time when every line went through it."""
    if pdf.auto_page_break and not pdf.in_footer and pdf.will_page_break(height):
        x = pdf.x
        pdf.add_page()
        pdf.x = x
    if width == 0:
        width = pdf.w - pdf.r_margin - pdf.x
    if border == "T":
        pdf.line(pdf.x, pdf.y, pdf.x + width, pdf.y)
    if text:
        dx = width - pdf.c_margin - _width(pdf, text) if align == "R" else pdf.c_margin
        pdf.text(pdf.x + dx, pdf.y + 0.5 * height + 0.3 * pdf.font_size, text)
    if next_line:
        pdf.set_xy(pdf.l_margin, pdf.y + height)
    else:
        pdf.x += width


def _block(pdf: FPDF, width: float, height: float, text: str) -> None:
    """`text` left-aligned in `width`, wrapped as `multi_cell` wraps it, then the next
    line's start."""
    x = pdf.x
    for line in _wrapped(pdf, width, text, pdf.c_margin):
        pdf.x = x
        _line(pdf, width, height, line, next_line=True)


_WRAPPED: dict[tuple, tuple[str, ...]] = {}


def _wrapped(pdf: FPDF, width: float, text: str, padding: float) -> tuple[str, ...]:
    """The lines `text` prints on in `width` less `padding` each side, in the current font:
    itself when it fits, else broken as `multi_cell` breaks it, worked out once per
    process (product names and periods recur on every invoice; fpdf2's line breaking was
    a fifth of an invoice's time)."""
    if "\n" not in text and _width(pdf, text) <= width - 2 * padding:
        return (text,)
    key = (pdf.current_font.fontkey, pdf.font_size_pt, width, padding, text)
    lines = _WRAPPED.get(key)
    if lines is None:
        lines = tuple(
            pdf.multi_cell(
                width, _LINE_HEIGHT, text, padding=(0, padding), dry_run=True,
                output=MethodReturnValue.LINES,
            )
        )  # fmt: skip
        if len(_WRAPPED) > 4096:
            _WRAPPED.clear()
        _WRAPPED[key] = lines
    return lines


def _paragraph(pdf: FPDF, height: float, text: str) -> None:
    """`text` from the current position to the right margin, then a new line: as
    `multi_cell` prints it (justified), but as one line when it fits on one."""
    width = pdf.w - pdf.r_margin - pdf.x
    if "\n" not in text and _width(pdf, text) <= width - 2 * pdf.c_margin:
        _line(pdf, width, height, text, next_line=True)
    else:
        pdf.multi_cell(width, height, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _table(
    pdf: FPDF,
    heading: list[str],
    rows: list[tuple[list[str], bool]],
    widths: tuple[float, ...] = _COL_WIDTHS,
    right: tuple[bool, ...] = _RIGHT_ALIGNED,
) -> None:
    """The lines table: a filled heading row (the brand's accent colour), repeated on every
    page the table runs onto, and a line between lines (not above a line's tier rows,
    which print smaller); a cell's text wraps in its column, centred in the row.

    Each cell's text is measured once and wrapped only when it does not fit: fpdf2's
    `table()` wrapped every cell twice, two thirds of the time an invoice took. `widths`
    (mm) and `right` (right-aligned) give its columns: the invoice's by default."""
    fill = _rgb(pdf.brand.accent_colour)
    heading_cells = _table_cells(pdf, heading, "B", 8, widths)
    body = [
        (_table_cells(pdf, row, "", 7.5 if detail else 9, widths), detail) for row, detail in rows
    ]
    x, width = pdf.l_margin, sum(widths)
    if body and pdf.will_page_break(_row_height(heading_cells) + _row_height(body[0][0])):
        pdf.add_page()  # not the heading alone at the foot of a page
    _table_row(pdf, heading_cells, "B", 8, fill, widths, right)
    for cells, detail in body:
        if pdf.will_page_break(_row_height(cells)):
            pdf.line(x, pdf.y, x + width, pdf.y)  # under the page's last row
            pdf.add_page()
            _table_row(pdf, heading_cells, "B", 8, fill, widths, right)
        if not detail:
            pdf.line(x, pdf.y, x + width, pdf.y)
        else:
            pdf.set_text_color(90)
        _table_row(pdf, cells, "", 7.5 if detail else 9, None, widths, right)
        pdf.set_text_color(0)
    pdf.line(x, pdf.y, x + width, pdf.y)
    pdf.set_x(x)


def _table_cells(
    pdf: FPDF, texts: list[str], style: str, size: float, widths: tuple[float, ...]
) -> list[tuple[str, ...]]:
    """Each cell's text as the lines it prints on."""
    pdf.set_font(FAMILY, style=style, size=size)
    return [
        _wrapped(pdf, width, text, _PADDING_X) for text, width in zip(texts, widths, strict=True)
    ]


def _row_height(cells: list[tuple[str, ...]]) -> float:
    return max(len(lines) for lines in cells) * _LINE_HEIGHT + 2 * _PADDING_Y


def _table_row(
    pdf: FPDF,
    cells: list[tuple[str, ...]],
    style: str,
    size: float,
    fill: tuple[int, int, int] | None,
    widths: tuple[float, ...],
    right_aligned: tuple[bool, ...],
) -> None:
    """One row at the current position, which then moves under it."""
    top, height = pdf.y, _row_height(cells)
    if fill:
        pdf.set_fill_color(*fill)
        pdf.rect(pdf.l_margin, top, sum(widths), height, style="F")
    pdf.set_font(FAMILY, style=style, size=size)
    x = pdf.l_margin
    for lines, column_width, right in zip(cells, widths, right_aligned, strict=True):
        # Baselines as fpdf2 places a line's text: half a line down, plus 0.3 of the font.
        y = top + (height - len(lines) * _LINE_HEIGHT) / 2 + _LINE_HEIGHT / 2
        for line in lines:
            indent = column_width - _PADDING_X - _width(pdf, line) if right else _PADDING_X
            pdf.text(x + indent, y + 0.3 * pdf.font_size, line)
            y += _LINE_HEIGHT
        x += column_width
    pdf.set_y(top + height)


def _path_part(value: str, what: str) -> str:
    if not value or value in {".", ".."} or "/" in value or "\\" in value or "\0" in value:
        raise ValueError(
            f"invoice {what} {value!r} cannot be used as a file name: "
            "it must be non-empty and contain no '/', '\\' or NUL, and not be '.' or '..'"
        )
    return value


def write_invoice(doc: InvoiceDocument, directory: Path) -> Path:
    """Write `<directory>/<realm_id>/<number>.pdf` once (`write_once`) and return its
    path. An existing file is an issued invoice and is left exactly as it is."""
    folder = Path(directory) / _path_part(doc.realm_id, "realm id")
    return write_once(folder / f"{_path_part(doc.number, 'number')}.pdf", lambda: invoice_file(doc))


def invoice_file(doc: InvoiceDocument) -> bytes:
    """What `write_invoice` writes: the rendered invoice, as a Factur-X e-invoice unless
    the realm turned them off; the same bytes for the same document."""
    return render_invoice(doc, einvoice=doc.brand.einvoice)
