"""`jet dunning`: the ladder for accounts that do not pay (jet.dunning), run by hand or
read; the `dunning` Dagster job runs it each day."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from jet.cli.common import DAY, EXIT_CODES, echo_json, load_settings


@click.group(epilog=EXIT_CODES)
def dunning() -> None:
    """Reminders, late fees, suspension and closing of accounts whose invoices are overdue."""


_AS_OF = click.option("--as-of", "as_of", type=DAY, default=None, help="The day (default today).")
_REALM = click.option("--realm", default=None, help="Only this realm's accounts.")


@dunning.command("run", epilog=EXIT_CODES)
@_AS_OF
@_REALM
def dunning_run(as_of, realm) -> None:
    """Take every step of the realms' ladders that has come by --as-of and was not taken
    before (each once per invoice, however often this runs)."""
    from jet.dunning import run
    from jet.store.db import session

    day = as_of.date() if as_of else datetime.now(UTC).date()
    with session(load_settings().db_url) as s:
        done = run(s, day, realm)
    steps = ", ".join(f"{n:,} {what}" for what, n in sorted(done.taken.items()) if n)
    click.echo(f"dunning as of {day}: {steps or 'nothing to do'}")
    for label, accounts in (("suspended", done.suspended), ("closed", done.closed)):
        if accounts:
            click.echo(f"{label}: {', '.join(accounts[:20])}{' …' if len(accounts) > 20 else ''}")


@dunning.command("status")
@_AS_OF
@_REALM
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def dunning_status(as_of, realm, as_json: bool) -> None:
    """Each overdue invoice: how late, the last step taken and the next one, with its day."""
    from jet.dunning import status
    from jet.store.db import session

    day = as_of.date() if as_of else datetime.now(UTC).date()
    with session(load_settings().db_url) as s:
        shown = status(s, day, realm)
    if as_json:
        echo_json(shown)
        return
    for row in shown:
        following = f"{row['next']} on {row['next_on']}" if row["next"] else "none left"
        click.echo(
            f"{row['account']:<14} {row['invoice']:<22} {row['currency']} {row['due']:>10} "
            f"{row['days_overdue']:>4} days late; done: {row['step'] or '-'}; next: {following}"
        )
    click.echo(f"{len(shown)} overdue invoices as of {day}")
