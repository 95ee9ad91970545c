"""`jet invoice`: draft previews and credit notes."""

from __future__ import annotations

import json
from datetime import date

import click

from jet.cli.common import load_settings


@click.group()
def invoice() -> None:
    """Draft and issued invoices."""


@invoice.command("preview")
@click.argument("account")
@click.option(
    "--date",
    "day",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="Preview the first bill date on or after this day (default today).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the draft as JSON.")
def invoice_preview(account: str, day, as_json: bool) -> None:
    """Print ACCOUNT's next invoice as it stands now; nothing is issued or published."""
    from jet.preview import preview

    when = day.date() if day else date.today()
    draft = preview(load_settings(), account, when)
    if draft is None:
        click.echo(f"{account} would get no invoice at its first bill date on or after {when}")
    elif as_json:
        click.echo(json.dumps(draft, indent=2))
    else:
        from jet.drivers.console import print_invoices

        print_invoices([draft])


@invoice.command("credit")
@click.argument("number")
@click.option("--reason", required=True, help="Why: printed on the credit note.")
@click.option(
    "--line",
    "lines",
    type=int,
    multiple=True,
    help="Credit only this line (1-based, as printed); repeat for more.",
)
def invoice_credit(number: str, reason: str, lines: tuple[int, ...]) -> None:
    """Issue a credit note for invoice NUMBER, whole or for some of its lines."""
    from jet.invoicing import credit_invoice
    from reports.issued_invoices import render_pdfs

    settings = load_settings()
    note = credit_invoice(settings, number, reason, list(lines) or None)
    render_pdfs(settings)
    click.echo(f"issued credit note {note.number} for {number}: {note.currency} {note.total}")
