"""Readable terminal output: invoices as tables, long work as progress."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

console = Console()


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
