"""`jet invoice`: draft previews, credit notes, e-mail delivery, the paper run and
exports for accountants."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import click

from jet.cli.common import DAY, load_settings

FORMATS = ("csv", "xlsx", "json", "parquet")  # reports.invoice_export.FORMATS


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


def _window(first, last, name: str, realm: str | None, ext: str, out: str | None):
    """The days, and where to write: FILE, "-" for stdout, else a name from the window."""
    start, end = first.date(), last.date()
    if out == "-":
        return start, end, click.get_binary_stream("stdout")
    default = f"{name}_{realm + '_' if realm else ''}{start}_{end}.{ext}"
    return start, end, Path(out or default)


_from = click.option("--from", "first", type=DAY, required=True, help="First bill date.")
_to = click.option("--to", "last", type=DAY, required=True, help="Last bill date (included).")
_realm = click.option("--realm", default=None, help="Only this realm's (default every realm).")
_out = click.option("--out", default=None, help='File to write ("-": stdout).')


@invoice.command("export")
@_from
@_to
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="csv", show_default=True)
@_realm
@_out
def invoice_export(first, last, fmt: str, realm: str | None, out: str | None) -> None:
    """Write the issued invoice lines billed from --from to --to for accountants: one row
    per line, with its invoice, tax code and tax (docs/exports.md)."""
    from reports.invoice_export import export_invoices

    start, end, target = _window(first, last, "invoice-lines", realm, fmt, out)
    rows = export_invoices(load_settings(), start, end, fmt, target, realm)
    if isinstance(target, Path):
        click.echo(
            f"wrote {len(rows)} lines of {len({r['invoice_number'] for r in rows})} "
            f"invoices and credit notes to {target}"
        )


@invoice.command("journal")
@_from
@_to
@_realm
@_out
def invoice_journal(first, last, realm: str | None, out: str | None) -> None:
    """Write the general-ledger journal (CSV) of the invoices billed and the payments
    received from --from to --to: balanced double entries (docs/exports.md)."""
    from reports.gl_journal import export_journal

    start, end, target = _window(first, last, "gl-journal", realm, "csv", out)
    rows = export_journal(load_settings(), start, end, target, realm)
    if isinstance(target, Path):
        click.echo(f"wrote {len({r['journal_id'] for r in rows})} journal entries to {target}")


@invoice.command("mail")
def invoice_mail() -> None:
    """E-mail every rendered invoice not sent yet, and retry those whose wait is over
    (what the billing cycle's invoice_emails step does)."""
    from reports.invoice_mail import send_invoices

    run = send_invoices(load_settings())
    click.echo(f"sent {run.sent}, waiting for a retry {run.retrying}, failed {run.failed}")
    if run.error:
        raise click.ClickException(f"mail server unreachable, retried later: {run.error}")


@invoice.command("deliveries")
@click.option("--failed", is_flag=True, help="Only those that failed or wait for a retry.")
def invoice_deliveries(failed: bool) -> None:
    """List each invoice's e-mail: to whom, its state, tries, and what went wrong."""
    from reports.invoice_mail import mailings

    for m in mailings(load_settings(), troubled=failed):
        when = m.sent_at or m.next_attempt_at
        click.echo(
            f"{m.number}\t{m.account}\t{m.to}\t{m.status}\t{m.attempts}\t"
            f"{when.isoformat(timespec='seconds') if when else '-'}\t{m.last_error or ''}"
        )


@invoice.command("send")
@click.argument("number")
def invoice_send(number: str) -> None:
    """E-mail invoice NUMBER again now, under a new Message-ID (recorded)."""
    from reports.invoice_mail import request_resend, send_invoices

    settings = load_settings()
    run = send_invoices(settings, invoice_ids=[request_resend(settings, number)])
    if not run.sent:
        raise click.ClickException(
            f"{number} was not sent ({run.error or 'refused'}); it is retried: "
            "see `jet invoice deliveries --failed`"
        )
    click.echo(f"sent {number}")


@invoice.command("print")
@click.option(
    "--date", "day", type=click.DateTime(["%Y-%m-%d"]), required=True, help="The bill date."
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The merged PDF (default JET_HOME/print/invoices-DATE.pdf).",
)
def invoice_print(day, out: Path | None) -> None:
    """Merge the bill date's invoices that go out on paper into one PDF for the printer."""
    from reports.print_run import print_run

    done = print_run(load_settings(), day.date(), out)
    if done is None:
        click.echo(f"no paper invoices on {day.date()}")
    else:
        click.echo(f"{done[1]} invoices: {done[0]}")


@invoice.command("explain")
@click.argument("number")
@click.option(
    "--line", "position", type=int, default=None, help="Only this line (1-based, as printed)."
)
@click.option(
    "--no-refresh", is_flag=True, help="Read the lineage mart as last built; do not build it."
)
@click.option("--json", "as_json", is_flag=True, help="Print the explanation as JSON.")
def invoice_explain(number: str, position: int | None, no_refresh: bool, as_json: bool) -> None:
    """How each line of issued invoice NUMBER was priced (catalog version, price or tiers,
    pro-rata days) and, for usage and duration, the landed records behind its quantity:
    source, NAS or exporter, time, batch, file and row (docs/reports.md, "Lineage")."""
    from jet.cli.common import echo_json
    from jet.drivers.lineage_view import explanation_json, print_explanation
    from reports.invoice_lineage import explain

    settings = load_settings()
    found = explain(settings, number, position, refresh=not no_refresh)
    if as_json:
        echo_json(explanation_json(found))
    else:
        print_explanation(found, settings.lake)
