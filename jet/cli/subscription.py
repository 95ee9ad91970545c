"""`jet subscription`: which plans an account is on, and when."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from jet.cli.common import DAY, EXIT_CODES, READ_EXIT_CODES, echo_json, load_settings


@click.group(epilog=EXIT_CODES)
def subscription() -> None:
    """Subscriptions: an account on a plan over [from, to)."""


@subscription.command("add", epilog=EXIT_CODES)
@click.argument("account_id", metavar="ACCOUNT")
@click.argument("plan")
@click.option("--from", "start", type=DAY, required=True, help="Its first day.")
@click.option("--to", "end", type=DAY, default=None, help="The day it ends (exclusive; open).")
def subscription_add(account_id: str, plan: str, start, end) -> None:
    """Put ACCOUNT on PLAN from --from (to --to). Refused, storing nothing, if the plan
    is not in its realm's catalog on that day, or the day is before the first catalog."""
    from jet.accounts import subscribe
    from jet.audit import Actor
    from jet.store.db import session

    last = end.date() if end else None
    with session(load_settings().db_url) as s:
        sub = subscribe(s, account_id, plan, start.date(), last, Actor.here("cli"))
        until = f" to {last}" if last else ""
        click.echo(f"{account_id} is on {plan} from {start.date()}{until} (subscription {sub.id})")


@subscription.command("end", epilog=EXIT_CODES)
@click.argument("account_id", metavar="ACCOUNT")
@click.argument("plan")
@click.option(
    "--on", "day", type=DAY, required=True, help="The day it ends (its last is the day before)."
)
def subscription_end(account_id: str, plan: str, day) -> None:
    """End ACCOUNT's PLAN on --on; the next invoice refunds what was charged beyond it
    (billing-rules.md, backward pro-rata)."""
    from jet.accounts import end_plan
    from jet.audit import Actor
    from jet.store.db import session

    with session(load_settings().db_url) as s:
        end_plan(s, Actor.here("cli"), account_id, plan, day.date())
    click.echo(f"{account_id}'s {plan} ends on {day.date()}")


@subscription.command("list", epilog=READ_EXIT_CODES)
@click.argument("account_id", metavar="ACCOUNT")
@click.option("--json", "as_json", is_flag=True, help="Print them as JSON, for scripts.")
def subscription_list(account_id: str, as_json: bool) -> None:
    """ACCOUNT's subscriptions, oldest first, and whether each is in force today."""
    from jet.account_views import subscriptions
    from jet.drivers.console import console, print_table
    from jet.store.db import session

    with session(load_settings().db_url) as s:
        found = subscriptions(s, account_id, datetime.now(UTC).date())
    if as_json:
        echo_json(found)
    elif not found:
        console.print(f"{account_id} has no subscriptions")
    else:
        rows = ([x["plan"], x["start"], x["end"] or "open", x["state"]] for x in found)
        print_table(None, ("plan", "from", "to (exclusive)", "state"), rows)
