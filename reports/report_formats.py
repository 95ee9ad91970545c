"""A report's rows as a file: csv, xlsx, parquet, json, html or pdf.

Money stays exact: csv and json carry decimals as text ("12.50"), parquet as decimals,
xlsx as numbers with two places. HTML and PDF are for reading: they carry the chart and
the first `PRINTED` rows, and say so when there are more (the data formats carry all)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from html import escape

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from reports.report_charts import chart_svg
from reports.report_runs import ReportResult

FORMATS = ("csv", "xlsx", "parquet", "json", "html", "pdf")
PRINTED = 1000


def render(result: ReportResult, fmt: str) -> bytes:
    """The report in format `fmt` (one of FORMATS)."""
    writers: dict[str, Callable[[ReportResult], bytes]] = {
        "csv": _csv,
        "xlsx": _xlsx,
        "parquet": _parquet,
        "json": _json,
        "html": _html,
        "pdf": _pdf,
    }
    return writers[fmt](result)


def _about(result: ReportResult) -> list[tuple[str, str]]:
    """Title, parameters and when: the lines every readable format starts with."""
    given = ", ".join(f"{k} = {v}" for k, v in result.parameters.items() if v is not None)
    return [
        ("Report", f"{result.report.title} ({result.report.name})"),
        ("Parameters", given or "none"),
        ("Generated", f"{result.generated_at:%Y-%m-%d %H:%M} UTC"),
        ("Rows", f"{result.table.num_rows:,}"),
    ]


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)


def _csv(result: ReportResult) -> bytes:
    out = io.BytesIO()
    pacsv.write_csv(result.table, out)
    return out.getvalue()


def _parquet(result: ReportResult) -> bytes:
    out = io.BytesIO()
    pq.write_table(result.table, out)
    return out.getvalue()


def _json(result: ReportResult) -> bytes:
    rows = [{k: _json_value(v) for k, v in row.items()} for row in result.table.to_pylist()]
    return json.dumps(rows, ensure_ascii=False, indent=1).encode()


def _json_value(value: object) -> object:
    return _text(value) if isinstance(value, (Decimal, date, datetime)) else value


def _xlsx(result: ReportResult) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    sheet = book.create_sheet(result.report.name[:31])
    names = result.table.column_names
    bold = Font(bold=True)
    widths = [max(10, min(40, len(n) + 2)) for n in names]
    for i, width in enumerate(widths):
        sheet.column_dimensions[_column_letter(i)].width = width
    header = []
    for name in names:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    formats = [_number_format(result.table.schema.field(n).type) for n in names]
    for batch in result.table.to_batches():
        for row in batch.to_pylist():
            cells = []
            for name, number_format in zip(names, formats, strict=True):
                cell = WriteOnlyCell(sheet, value=row[name])
                if number_format:
                    cell.number_format = number_format
                cells.append(cell)
            sheet.append(cells)
    about = book.create_sheet("About")
    for label, value in _about(result):
        about.append([label, value])
    about.append(["Description", result.report.description])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


def _number_format(kind: pa.DataType) -> str | None:
    if pa.types.is_decimal(kind):
        return "#,##0.00" if kind.scale <= 2 else "#,##0.00##"
    if pa.types.is_date(kind):
        return "yyyy-mm-dd"
    return None


def _printed(result: ReportResult) -> tuple[list[str], list[list[str]], str]:
    """Header, the first PRINTED rows as text, and a note when rows were left out."""
    table = result.table.slice(0, PRINTED)
    names = table.column_names
    rows = [[_text(row[n]) for n in names] for row in table.to_pylist()]
    left = result.table.num_rows - len(rows)
    note = (
        f"The first {len(rows):,} of {result.table.num_rows:,} rows; csv, xlsx, parquet and "
        "json carry them all."
        if left
        else ""
    )
    return names, rows, note


def _html(result: ReportResult) -> bytes:
    names, rows, note = _printed(result)
    svg = chart_svg(result.table, result.report.chart) or ""
    about = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in _about(result))
    head = "".join(f"<th>{escape(n)}</th>" for n in names)
    body = "".join("<tr>" + "".join(f"<td>{escape(v)}</td>" for v in row) + "</tr>" for row in rows)
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(result.report.title)}</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
th,td{{border:1px solid #ccc;padding:2px 6px;font-size:12px}}th{{background:#eee}}
dt{{font-weight:bold;float:left;width:8em}}dd{{margin-left:9em}}</style></head>
<body><h1>{escape(result.report.title)}</h1><p>{escape(result.report.description)}</p>
<dl>{about}</dl><figure class="chart">{svg}</figure><p class="note">{escape(note)}</p>
<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></body></html>
"""
    return page.encode()


def _pdf(result: ReportResult) -> bytes:
    from fpdf import FPDF

    from reports.pdf_fonts import FAMILY, FastFonts, use_fonts

    names, rows, note = _printed(result)
    pdf = FPDF(orientation="L", format="A4")
    use_fonts(pdf)
    pdf.set_title(result.report.title)
    pdf.set_auto_page_break(True, margin=12)
    pdf.add_page()
    pdf.set_font(FAMILY, style="B", size=14)
    pdf.multi_cell(0, 8, result.report.title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FAMILY, size=9)
    if result.report.description:
        pdf.multi_cell(0, 5, result.report.description, new_x="LMARGIN", new_y="NEXT")
    for label, value in _about(result):
        pdf.cell(0, 5, f"{label}: {value}", new_x="LMARGIN", new_y="NEXT")
    svg = chart_svg(result.table, result.report.chart)
    if svg:
        pdf.image(io.BytesIO(svg.encode()), w=200)
    if note:
        pdf.multi_cell(0, 5, note, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font(FAMILY, size=7)
    with pdf.table(headings_style=_heading(), repeat_headings=1, line_height=4) as table:
        table.row(names)
        for row in rows:
            table.row(row)
    # FastFonts, as every document: fpdf2's own output cuts the process's shared copy of
    # the font down to this document's glyphs, and the next document's would be missing
    return bytes(pdf.output(output_producer_class=FastFonts))


def _heading():
    from fpdf.fonts import FontFace

    from reports.pdf_fonts import FAMILY

    return FontFace(family=FAMILY, emphasis="BOLD", fill_color=(230, 230, 230))
