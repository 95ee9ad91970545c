"""Readable terminal output: invoices as tables, long work as progress."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

console = Console()


def print_table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Rows under their column names; None shows as "-". A value too wide folds onto the
    next line rather than being cut (a file's path, an id)."""
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*("-" if value is None else str(value) for value in row))
    console.print(table)


def print_fields(title: str, fields: Iterable[tuple[str, Any]]) -> None:
    """Name and value pairs, one a line, under a title; None shows as "-"."""
    table = Table(title=title, title_justify="left", show_header=False, box=None)
    table.add_column(style="bold")
    table.add_column()
    for name, value in fields:
        table.add_row(name, "-" if value is None else str(value))
    console.print(table)


def print_invoices(invoices: list[dict]) -> None:
    """One table per invoice, lines then subtotal, tax and total (amounts as printed)."""
    if not invoices:
        console.print("no invoices")
    for inv in invoices:
        table = Table(
            title=f"{inv['account']}  bill date {inv['bill_date']}  ({inv['currency']})",
            title_justify="left",
            show_footer=False,
        )
        for column, justify in [
            ("account", "left"),
            ("product", "left"),
            ("kind", "left"),
            ("period", "left"),
            ("quantity", "right"),
            ("amount", "right"),
        ]:
            table.add_column(column, justify=justify)
        for line in inv["lines"]:
            table.add_row(
                line["account"],
                line["product"] or "-",
                line["kind"],
                f"{line['period_start']} – {line['period_end']}",
                line["quantity"],
                line["amount"],
            )
        table.add_section()
        for label in ("subtotal", "tax", "total"):
            table.add_row("", "", "", label, "", inv[label])
        console.print(table)
