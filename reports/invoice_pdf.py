"""Invoice PDFs: one A4 tax invoice per issued invoice, rendered with fpdf2.

An issued invoice never changes (billing-rules.md, Invoices), so rendering is
deterministic (the PDF's creation date is the invoice's `issued_at`: the same
invoice gives the same bytes) and `write_invoice` never replaces a file that
exists. Amounts are Decimal end to end and printed by `format_money` with the
currency's minor unit.

Text uses the PDF core font Helvetica (no font files to ship); it encodes only
Latin-1, so `_latin1` replaces what it cannot print ("—" becomes "-", "ő"
becomes "o") instead of failing.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import MethodReturnValue, XPos, YPos

from jet.money import format_money, minor_units
from reports.facturx import with_einvoice
from reports.invoice_document import InvoiceDocument, InvoiceDocumentLine
from reports.write_once import write_once

__all__ = ["InvoiceDocument", "InvoiceDocumentLine", "render_invoice", "write_invoice"]


# Characters outside Latin-1 that have an obvious plain replacement.
_REPLACEMENTS = {
    "\u2010": "-",  # hyphen
    "\u2011": "-",  # non-breaking hyphen
    "\u2012": "-",  # figure dash
    "\u2013": "-",  # en dash
    "\u2014": "-",  # em dash
    "\u2015": "-",  # horizontal bar
    "\u2212": "-",  # minus sign
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": "'",
    "\u2032": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u2033": '"',
    "\u2026": "...",
    "\u2022": "*",
    "\u2009": " ",  # thin space
    "\u202f": " ",  # narrow no-break space
    "\u2002": " ",
    "\u2003": " ",
    "\u200b": "",  # zero-width space
    "\u0141": "L",  # Ł and the other letters that do not decompose to a base letter
    "\u0142": "l",
    "\u0110": "D",
    "\u0111": "d",
    "\u0126": "H",
    "\u0127": "h",
    "\u0131": "i",
    "\u0152": "OE",
    "\u0153": "oe",
    "\u20ac": "EUR",
    "\u2122": "TM",
}

_MARGIN = 15.0  # mm, all sides
_COLUMNS = ("User", "Description", "Period", "Quantity", "Amount")
_COL_WIDTHS = (28.0, 62.0, 40.0, 22.0, 28.0)  # mm, sums to the 180 mm text width
_RIGHT_ALIGNED = (False, False, False, True, True)
_LINE_HEIGHT = 5.0  # mm, a line of table text
_PADDING_Y, _PADDING_X = 0.9, 1.5  # mm, around a table cell's text
_HEADING_FILL = (225, 229, 235)
_QUANTITY_PLACES = 6  # the most places a quantity prints with


def _latin1(text: str) -> str:
    """`text` with every character the core fonts cannot encode (non-Latin-1) replaced."""
    out: list[str] = []
    for char in text:
        if ord(char) < 256:
            out.append(char)
        elif char in _REPLACEMENTS:
            out.append(_REPLACEMENTS[char])
        else:
            # "ő" -> "o" + combining mark -> "o"; what still has no Latin-1 form -> "?"
            base = "".join(
                c
                for c in unicodedata.normalize("NFKD", char)
                if ord(c) < 256 and not unicodedata.combining(c)
            )
            out.append(base or "?")
    return "".join(out)


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


class _InvoicePDF(FPDF):
    """A4 portrait with a footer naming the invoice and the page."""

    def __init__(self, footer_text: str) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self._footer_text = footer_text

    def footer(self) -> None:
        self.set_y(-_MARGIN + 3)
        self.set_font("helvetica", size=8)
        self.set_text_color(110)
        self.cell(0, 5, self._footer_text, align="L")
        self.set_x(self.l_margin)
        self.cell(0, 5, f"Page {self.page_no()} of {{nb}}", align="R")
        self.set_text_color(0)


def start_document(
    realm_name: str, title: str, number: str, subject: str, created: datetime, note: str = ""
) -> FPDF:
    """A new document's first page with its header (who issues it, what it is, the
    `note` under that) and its metadata; `created` makes the bytes the same each time."""
    pdf = _InvoicePDF(footer_text=_latin1(f"{realm_name} - {title.lower()} {number}"))
    pdf.set_margins(_MARGIN, _MARGIN, _MARGIN)
    pdf.set_auto_page_break(auto=True, margin=_MARGIN + 5)
    # Metadata are PDF text strings (Unicode), so they keep the original text.
    pdf.set_title(number)
    pdf.set_author(realm_name)
    pdf.set_subject(subject)
    pdf.set_creator("Jet")
    pdf.set_creation_date(_utc(created))
    pdf.add_page()

    pdf.set_font("helvetica", style="B", size=22)
    _paragraph(pdf, 10, _latin1(realm_name))
    pdf.set_font("helvetica", size=14)
    pdf.set_text_color(80)
    pdf.cell(0, 8, _latin1(title), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if note:
        pdf.set_font("helvetica", size=10)
        _paragraph(pdf, 5, _latin1(note))
    pdf.set_text_color(0)
    pdf.ln(4)
    return pdf


def render_invoice(doc: InvoiceDocument) -> bytes:
    """The invoice as PDF bytes; the same document always gives the same bytes."""
    places = minor_units(doc.currency)
    currency = _latin1(doc.currency.upper())

    def money(value: Decimal) -> str:
        return format_money(value, places)

    pdf = start_document(
        doc.realm_name, doc.title, doc.number, f"{doc.title} {doc.number}", doc.issued_at, doc.note
    )

    details = [
        ("Invoice number", doc.number),
        ("Bill date", doc.bill_date.isoformat()),
        ("Issued", _utc(doc.issued_at).date().isoformat()),
        ("Account", f"{doc.account_id} - {doc.account_name}"),
        ("Currency", doc.currency.upper()),
    ]
    if doc.due_date is not None:
        details.insert(2, ("Due date", doc.due_date.isoformat()))
    for label, value in details:
        pdf.set_font("helvetica", style="B", size=10)
        pdf.cell(35, 6, label)
        pdf.set_font("helvetica", size=10)
        _paragraph(pdf, 6, _latin1(value))
    pdf.ln(6)

    # Lines: the heading row repeats on every page the table runs onto.
    _table(
        pdf,
        [f"Amount ({currency})" if title == "Amount" else title for title in _COLUMNS],
        [
            [
                _latin1(line.account_id),
                _latin1(line.description),
                f"{line.period_start.isoformat()} - {line.period_end.isoformat()}",
                _quantity(line.quantity),
                money(line.amount),
            ]
            for line in doc.lines
        ],
    )

    # Totals, aligned under the amount column; kept together on one page.
    label_width = 50.0
    amount_width = _COL_WIDTHS[-1]
    x = pdf.l_margin + sum(_COL_WIDTHS) - label_width - amount_width
    row_height = 7.0
    totals = [
        ("Subtotal", money(doc.subtotal), False),
        (f"Tax {_percent(doc.tax_rate)}", money(doc.tax), False),
        (f"Total {currency}", money(doc.total), True),
    ]
    if doc.credit_applied is not None:
        if doc.credit_applied:
            totals.append(("Paid from credit", money(-doc.credit_applied), False))
        totals.append((f"Amount due {currency}", money(doc.total - doc.credit_applied), True))
    if pdf.will_page_break(len(totals) * row_height + 4):
        pdf.add_page()
    pdf.ln(3)
    for label, amount, bold in totals:
        pdf.set_x(x)
        pdf.set_font("helvetica", style="B" if bold else "", size=11 if bold else 10)
        border = "T" if bold else 0
        pdf.cell(label_width, row_height, label, border=border, align="R")
        pdf.cell(
            amount_width,
            row_height,
            amount,
            border=border,
            align="R",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )

    return bytes(pdf.output())


def _paragraph(pdf: FPDF, height: float, text: str) -> None:
    """`text` from the current position to the right margin, then a new line: as
    `multi_cell` prints it, but by the cheaper `cell` when it fits on one line."""
    width = pdf.w - pdf.r_margin - pdf.x
    if "\n" not in text and pdf.get_string_width(text) <= width - 2 * pdf.c_margin:
        pdf.cell(width, height, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    else:
        pdf.multi_cell(width, height, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _table(
    pdf: FPDF,
    heading: list[str],
    rows: list[list[str]],
    widths: tuple[float, ...] = _COL_WIDTHS,
    right: tuple[bool, ...] = _RIGHT_ALIGNED,
) -> None:
    """The lines table: a filled heading row, repeated on every page the table runs onto,
    and a line between rows; a cell's text wraps in its column, centred in the row.
    `widths` (mm) and `right` (right-aligned) give its columns: the invoice's by default.

    It looks as fpdf2's `table()` did, but each cell's text is measured once and wrapped
    only when it does not fit: `table()` wrapped every cell twice (to size its row, then to
    print it), two thirds of the time an invoice took to render."""
    heading_cells = _table_cells(pdf, heading, "B", widths)
    body = [_table_cells(pdf, row, "", widths) for row in rows]
    x, width = pdf.l_margin, sum(widths)
    if body and pdf.will_page_break(_row_height(heading_cells) + _row_height(body[0])):
        pdf.add_page()  # not the heading alone at the foot of a page
    _table_row(pdf, heading_cells, "B", _HEADING_FILL, widths, right)
    for cells in body:
        if pdf.will_page_break(_row_height(cells)):
            pdf.line(x, pdf.y, x + width, pdf.y)  # under the page's last row
            pdf.add_page()
            _table_row(pdf, heading_cells, "B", _HEADING_FILL, widths, right)
        pdf.line(x, pdf.y, x + width, pdf.y)
        _table_row(pdf, cells, "", None, widths, right)
    pdf.set_x(x)


def _table_cells(
    pdf: FPDF, texts: list[str], style: str, widths: tuple[float, ...] = _COL_WIDTHS
) -> list[list[str]]:
    """Each cell's text as the lines it prints on (broken by fpdf2 only when too wide or
    when it holds a line break)."""
    pdf.set_font("helvetica", style=style, size=9)
    cells = []
    for text, column_width in zip(texts, widths, strict=True):
        if "\n" not in text and pdf.get_string_width(text) <= column_width - 2 * _PADDING_X:
            cells.append([text])
        else:
            cells.append(
                pdf.multi_cell(
                    column_width,
                    _LINE_HEIGHT,
                    text,
                    padding=(_PADDING_Y, _PADDING_X),
                    dry_run=True,
                    output=MethodReturnValue.LINES,
                )
            )
    return cells


def _row_height(cells: list[list[str]]) -> float:
    return max(len(lines) for lines in cells) * _LINE_HEIGHT + 2 * _PADDING_Y


def _table_row(
    pdf: FPDF,
    cells: list[list[str]],
    style: str,
    fill: tuple[int, int, int] | None,
    widths: tuple[float, ...] = _COL_WIDTHS,
    right_aligned: tuple[bool, ...] = _RIGHT_ALIGNED,
) -> None:
    """One row at the current position, which then moves under it."""
    top, height = pdf.y, _row_height(cells)
    if fill:
        pdf.set_fill_color(*fill)
        pdf.rect(pdf.l_margin, top, sum(widths), height, style="F")
    pdf.set_font("helvetica", style=style, size=9)
    x = pdf.l_margin
    for lines, column_width, right in zip(cells, widths, right_aligned, strict=True):
        # Baselines as fpdf2 places a line's text: half a line down, plus 0.3 of the font.
        y = top + (height - len(lines) * _LINE_HEIGHT) / 2 + _LINE_HEIGHT / 2
        for line in lines:
            indent = column_width - _PADDING_X - pdf.get_string_width(line) if right else _PADDING_X
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
    return write_once(folder / f"{_path_part(doc.number, 'number')}.pdf", lambda: _file(doc))


def _file(doc: InvoiceDocument) -> bytes:
    """The rendered invoice, as a Factur-X e-invoice unless the realm turned them off."""
    pdf = render_invoice(doc)
    return with_einvoice(pdf, doc) if doc.brand.einvoice else pdf
