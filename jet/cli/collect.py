"""`jet collect sepa`, `jet import bank-statement` and `jet payment unmatched`: asking the
bank for what is due by direct debit, and reading back what it booked
(`jet.direct_debit`, `jet.bank_statements`, `jet.statement_import`)."""

from __future__ import annotations

from pathlib import Path

import click

from jet.cli.common import DAY, EXIT_CODES, READ_EXIT_CODES, echo_json, load_settings


@click.group(epilog=EXIT_CODES)
def collect() -> None:
    """Collecting what accounts owe."""


@collect.command("sepa", epilog=EXIT_CODES)
@click.argument("realm")
@click.option("--date", "day", type=DAY, required=True, help="The collection date asked for.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the pain.008 (default JET_HOME/sepa/REALM-DATE-MSGID.xml).",
)
def collect_sepa(realm: str, day, out: Path | None) -> None:
    """Write a SEPA direct-debit batch (pain.008, checked against its XSD) of REALM's open
    invoices due by --date from accounts with a mandate; each debit is recorded as
    pending, so running it again collects nothing twice."""
    from jet.audit import Actor
    from jet.direct_debit import collect as collect_due
    from jet.direct_debit import write
    from jet.store.db import session

    settings = load_settings()
    with session(settings.db_url) as s:
        batch = collect_due(s, Actor.here(), realm, day.date())
        if batch is None:
            click.echo(f"nothing to collect for {realm} by {day.date()}")
            return
        name = f"{realm}-{day.date()}-{batch.message_id}.xml"
        path = write(batch, out or settings.root / "sepa" / name)
    click.echo(
        f"{path}: {len(batch.collections)} debits, {batch.currency} {batch.total}, "
        f"message {batch.message_id}"
    )


@click.command("bank-statement", epilog=EXIT_CODES)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["camt053", "csv"]), default=None,
              help="camt053 (ISO 20022 XML) or csv (default: by the file's suffix).")  # fmt: skip
@click.option("--profile", default="jet", help="The CSV profile: jet (, and .) or eu (; and ,).")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
def import_bank_statement(file: Path, fmt: str | None, profile: str, as_json: bool) -> None:
    """Import a bank statement of a realm's creditor account: credits matched to invoices
    become payments, returned debits reverse theirs, the rest waits for a person
    (`jet payment unmatched`). A line is imported once, however often its file is."""
    from jet.audit import Actor
    from jet.bank_statements import read_statements
    from jet.statement_import import import_statements
    from jet.store.db import session

    statements = read_statements(file, fmt, profile)
    with session(load_settings().db_url) as s:
        outcome = import_statements(s, Actor.here("import"), statements)
    counts = {k: v for k, v in sorted(outcome.counts.items()) if v}
    if as_json:
        echo_json({"realm": outcome.realm, **counts})
        return
    shown = ", ".join(f"{v} {k}" for k, v in counts.items()) or "no lines"
    click.echo(f"{file.name} ({outcome.realm}): {shown}")


@click.command("unmatched", epilog=READ_EXIT_CODES)
@click.option("--realm", default=None, help="Only this realm's lines.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def payment_unmatched(realm: str | None, as_json: bool) -> None:
    """Bank-statement lines no account or invoice was found for: say whose each is with
    `jet payment assign LINE ACCOUNT`."""
    from jet.statement_import import unmatched
    from jet.store.db import session

    with session(load_settings().db_url) as s:
        shown = unmatched(s, realm)
    if as_json:
        echo_json(shown)
        return
    for u in shown:
        who = " ".join(filter(None, [u["counterparty"], u["counterparty_iban"]]))
        note = f" ({u['note']})" if u["note"] else ""
        click.echo(
            f"{u['line']:>8}  {u['booked_on']}  {u['currency']} {u['amount']:>12}  "
            f"{who}  {u['reference'] or ''}{note}"
        )


@click.command("assign", epilog=EXIT_CODES)
@click.argument("line", type=int)
@click.argument("account")
@click.option("--invoice", default=None, help="Pay this invoice number first.")
def payment_assign(line: int, account: str, invoice: str | None) -> None:
    """Record unmatched statement LINE as a payment from ACCOUNT (its billing account):
    it pays --invoice first, then the oldest open invoices."""
    from jet.audit import Actor
    from jet.statement_import import assign
    from jet.store.db import session

    with session(load_settings().db_url) as s:
        done = assign(s, Actor.here(), line, account, invoice)
    click.echo(
        f"line {line}: payment {done.entry_id} of {done.currency} {done.amount} from {account}"
    )
