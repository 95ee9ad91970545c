"""`jet import`: accounts moved over from another system, external line items and
upstream providers' usage files."""

from __future__ import annotations

from pathlib import Path

import click

from jet.cli.common import EXIT_CODES, echo_json, fail, load_settings


@click.group("import")
def import_() -> None:
    """Data from outside Jet: accounts, external line items, upstream providers' usage
    files."""


@import_.command("accounts", epilog=EXIT_CODES)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--realm", default=None, help="The realm of rows whose realm column is empty.")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
def import_accounts(file: Path, realm: str | None, as_json: bool) -> None:
    """Add the accounts of the CSV FILE, one a row, and subscribe those with a plan.

    Columns (by header name, any order; login is required): login, name, kind
    (person|company), parent (a login, anywhere in the file or stored), email, phone,
    address, country, tax_id, delivery (email|paper), notes, realm (or --realm), plan,
    plan_from (YYYY-MM-DD). A file with any bad row is refused whole, each bad row
    listed with its line; importing the same file again adds nothing."""
    from dataclasses import asdict

    from jet.account_import import ImportRefused, read_csv
    from jet.account_import import import_accounts as run
    from jet.audit import Actor
    from jet.store.db import session

    try:
        with session(load_settings().db_url) as s:
            counts = run(s, Actor.here("import"), read_csv(file), realm)
    except ImportRefused as refused:
        if as_json:
            lines = [{"line": r.line, "message": r.message} for r in refused.refusals]
            echo_json({"file": str(file), "imported": False, "refused": lines})
        fail(f"{file}: {refused}")
    totals = {key: sum(getattr(c, key) for c in counts.values()) for key in _COUNTS}
    if as_json:
        echo_json(
            {
                "file": str(file),
                "imported": True,
                **totals,
                "realms": {realm_id: asdict(c) for realm_id, c in counts.items()},
            }
        )
        return
    from jet.drivers.console import print_table

    print_table(
        f"Imported {file}",
        ["realm", "accounts added", "already there", "subscriptions added", "already there"],
        [
            (realm_id, *(f"{getattr(c, key):,}" for key in _COUNTS))
            for realm_id, c in counts.items()
        ],
    )
    if not totals["accounts_added"] and not totals["subscriptions_added"]:
        click.echo("nothing new: every account and subscription was there already")


_COUNTS = ("accounts_added", "accounts_there", "subscriptions_added", "subscriptions_there")


@import_.command("line-items")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_line_items(file: Path) -> None:
    """Add the charges and credits in the CSV FILE to their accounts' next invoices.

    Columns: account,date,description,amount,taxable. A file with any bad row is
    refused whole; importing the same file again adds nothing."""
    from ingest.csv.line_items import import_line_items as run
    from jet.store.db import session

    settings = load_settings()
    with session(settings.db_url) as s:
        result = run(s, file)
    if result.already_imported:
        click.echo(f"already imported: {file}")
    else:
        click.echo(f"imported {result.imported} line items from {file}")


@import_.command("usage")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--profile",
    "profile_name",
    required=True,
    help="How FILE reads: a profile name ($JET_HOME/profiles/, then examples/profiles/) "
    "or a profile's .yaml path.",
)
def import_usage(file: Path, profile_name: str) -> None:
    """Land the usage records of FILE, an upstream provider's CSV file.

    Rows that fail validation go to $JET_HOME/quarantine/ with their line and reasons;
    the rest land. Exits 0 when rows landed (even with some quarantined) or the file was
    already imported; 1 when the profile or the file cannot be read, or no row could
    be landed."""
    from datetime import datetime

    from ingest.csv.profiles import load_profile
    from ingest.csv.usage import import_usage as run
    from jet.store.db import session

    settings = load_settings()
    profile = load_profile(profile_name, settings.profiles)
    with session(settings.db_url) as s:
        result = run(
            file,
            profile,
            raw_root=settings.raw,
            quarantine_dir=settings.quarantine,
            session=s,
        )
    if result.landed_at is not None:
        when = datetime.fromisoformat(result.landed_at).strftime("%Y-%m-%d %H:%M UTC")
        click.echo(
            f"already imported on {when} as batch {result.batch_id} ({result.landed} rows "
            f"landed); nothing changed"
        )
        return
    if not result.landed and not result.rejected:
        click.echo(f"{file} holds no usage rows; nothing to import")
        return
    if result.landed:
        click.echo(f"{_rows(result.landed)} landed from {file} as batch {result.batch_id}")
    if result.rejected:
        shown = 5
        lines = [f"{_rows(len(result.rejected))} quarantined in {result.quarantine}:"]
        lines += [f"  line {r.line}: {r.reasons}" for r in result.rejected[:shown]]
        if len(result.rejected) > shown:
            lines.append(f"  ... and {len(result.rejected) - shown} more in that file")
        click.secho("\n".join(lines), fg="yellow")
    if not result.landed:
        fail(
            f"nothing landed from {file}: every row was quarantined, and the file is not "
            "recorded as imported; fix the profile or add the accounts, then import it again"
        )


def _rows(n: int) -> str:
    return f"{n} row" if n == 1 else f"{n} rows"
