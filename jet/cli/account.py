"""`jet account`: what decides whether an account may log in through RADIUS."""

from __future__ import annotations

import sys

import click

from jet.cli.common import fail, load_settings
from jet.cli.radius import RADIUS_RELOAD
from jet.config import Settings


@click.group()
def account() -> None:
    """Accounts: RADIUS passwords, status, expiry, prepaid balance and static address."""


@account.command("password")
@click.argument("account_id", metavar="ACCOUNT")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin's first line.")
@click.option("--remove", is_flag=True, help="Remove the password: the account cannot log in.")
def account_password(account_id: str, password_stdin: bool, remove: bool) -> None:
    """Set the password ACCOUNT logs in with through RADIUS (PAP or CHAP).

    Asks for it twice unless --password-stdin is given. The store keeps it in clear:
    see docs/decisions.md, "RADIUS"."""
    from jet.accounts import set_radius_password
    from jet.store.db import session

    if remove and password_stdin:
        fail("give --remove or --password-stdin, not both")
    if remove:
        password = None
    elif password_stdin:
        password = sys.stdin.readline().removesuffix("\n").removesuffix("\r")
    else:
        password = click.prompt("RADIUS password", hide_input=True, confirmation_prompt=True)
    settings = load_settings()
    with session(settings.db_url) as s:
        set_radius_password(s, account_id, password)
    done = "removed the password of" if password is None else "set the password of"
    click.echo(f"{done} {account_id}; {RADIUS_RELOAD}")


@account.command("set")
@click.argument("account_id", metavar="ACCOUNT")
@click.option(
    "--status",
    type=click.Choice(["active", "suspended", "closed"]),
    default=None,
    help="Only active accounts may log in.",
)
@click.option(
    "--expires", default=None, help="YYYY-MM-DD: access ends at 00:00 UTC of it ('never')."
)
@click.option("--framed-ip", default=None, help="A static IPv4 address for its sessions ('none').")
@click.option("--prepaid/--postpaid", default=None, help="Whether it pays ahead from a balance.")
@click.option("--balance", default=None, help="The prepaid balance left, e.g. 20.00.")
def account_set(
    account_id: str,
    status: str | None,
    expires: str | None,
    framed_ip: str | None,
    prepaid: bool | None,
    balance: str | None,
) -> None:
    """Change what decides whether ACCOUNT may log in through RADIUS."""
    from jet.accounts import describe_access, update_account
    from jet.store.db import session

    settings = load_settings()
    with session(settings.db_url) as s:
        changed = update_account(
            s,
            account_id,
            status=status,
            expires=expires,
            framed_ip=framed_ip,
            prepaid=prepaid,
            balance=balance,
        )
        summary = describe_access(changed)
    click.echo(f"{summary}; {RADIUS_RELOAD}")
    _dispatch_now(settings, account_id)


@account.command("plan")
@click.argument("account_id", metavar="ACCOUNT")
@click.argument("plan")
@click.option(
    "--from",
    "day",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="The day the new plan starts (default today, UTC).",
)
def account_plan(account_id: str, plan: str, day) -> None:
    """Move ACCOUNT to PLAN: its subscription ends and the new one starts on the same day,
    and the NAS gets a CoA-Request with the new plan's reply attributes that day."""
    from datetime import UTC, datetime

    from jet.accounts import change_plan
    from jet.store.db import session

    settings = load_settings()
    start = day.date() if day else datetime.now(UTC).date()
    with session(settings.db_url) as s:
        change_plan(s, account_id, plan, start)
    click.echo(f"{account_id} is on {plan} from {start}")
    if start > datetime.now(UTC).date():
        click.echo(f"its sessions get a CoA-Request on {start}, from `jet radius serve`")
    else:
        _dispatch_now(settings, account_id)


def _dispatch_now(settings: Settings, account_id: str) -> None:
    """Send the Disconnect or CoA the change just queued; a running `jet radius serve`
    retries what gets no answer."""
    from ingest.radius.dispatcher import dispatch

    for outcome in dispatch(settings, account_id):
        click.secho(outcome.text, fg="yellow" if outcome.failed else None, err=outcome.failed)
