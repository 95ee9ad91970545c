"""`jet audit`: who changed what, when, through what."""

from __future__ import annotations

import click

from jet.cli.account_show import change
from jet.cli.common import DAY, READ_EXIT_CODES, echo_json, load_settings


@click.command(epilog=READ_EXIT_CODES)
@click.argument("account_id", metavar="[ACCOUNT]", required=False)
@click.option("--since", type=DAY, default=None, help="From this day (UTC) on.")
@click.option("--json", "as_json", is_flag=True, help="Print them as JSON, for scripts.")
def audit(account_id: str | None, since, as_json: bool) -> None:
    """The audit log, of ACCOUNT or of every account, oldest first: each change with who
    made it, through what (cli, import, console, portal, dunning), and the values before
    and after."""
    from jet.account_views import audit_rows
    from jet.drivers.console import console, print_table
    from jet.store.db import session

    with session(load_settings().db_url) as s:
        rows = audit_rows(s, account_id, since.date() if since else None)
    if as_json:
        echo_json(rows)
    elif not rows:
        console.print("no changes recorded" + (f" since {since.date()}" if since else ""))
    else:
        columns = ("at (UTC)", "who", "via", "what", "account", "change")
        print_table(
            None,
            columns,
            (
                [e["at"][:19], e["actor"], e["channel"], e["action"], e["account"], change(e)]
                for e in rows
            ),
        )
