"""`jet account`: customers (their details, hierarchy, closing and reopening; `show` and
`list` in `jet.cli.account_show`) and what decides whether they may log in through
RADIUS. Every change goes through its one core function in `jet.accounts`, as the CLI's
actor, with its audit entry and event."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from jet.cli import account_show
from jet.cli.common import DAY, EXIT_CODES, READ_EXIT_CODES, echo_json, fail, load_settings
from jet.cli.radius import RADIUS_RELOAD
from jet.config import Settings


@click.group(epilog=EXIT_CODES)
def account() -> None:
    """Customers: their details, hierarchy and lifecycle; RADIUS passwords, status, expiry,
    prepaid balance and static address."""


account.add_command(account_show.show)
account.add_command(account_show.list_)


@account.command("balance", epilog=READ_EXIT_CODES)
@click.argument("account_id", metavar="ACCOUNT")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def account_balance(account_id: str, as_json: bool) -> None:
    """What ACCOUNT's billing account owes (negative: its credit) and its open invoices."""
    from jet.account_views import balance_detail
    from jet.cli.payment import echo_balance
    from jet.store.db import session

    with session(load_settings().db_url) as s:
        shown = balance_detail(s, account_id)
    if as_json:
        echo_json(shown)
    else:
        echo_balance(shown)


@account.command("statement", epilog=READ_EXIT_CODES)
@click.argument("account_id", metavar="ACCOUNT")
@click.option("--month", required=True, help="The month, as YYYY-MM; it must be over.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="Write the PDF here (default: under the PDF folder, kept once written).",
)
def account_statement(account_id: str, month: str, out: Path | None) -> None:
    """Write the statement PDF of ACCOUNT's billing account for --month: opening balance,
    each invoice, credit note, payment, refund and write-off, closing balance and amount
    due. Prints the file's path."""
    from datetime import UTC, datetime

    from jet.statements import parse_month, statement
    from jet.store.db import session
    from reports.statement_pdf import render_statement, write_statement

    if out is not None and not out.parent.is_dir():
        raise click.BadParameter(
            f"folder {out.parent} does not exist: create it or write elsewhere", param_hint="--out"
        )
    settings = load_settings()
    with session(settings.db_url) as s:
        doc = statement(s, account_id, parse_month(month), today=datetime.now(UTC).date())
    if out is None:
        out = write_statement(doc, settings)
    else:
        out.write_bytes(render_statement(doc))
    click.echo(out)


def _profile_options(command):
    """The details `add` and `update` share; in `update`, "" clears an optional one."""
    options = [
        click.option("--name", default=None, help="The customer's or company's name."),
        click.option("--parent", default=None, help="The account it is under (a cost-centre)."),
        click.option("--email", default=None, help="Where invoices and notices go."),
        click.option("--phone", default=None, help="e.g. +61 2 9876 5432"),
        click.option("--address", default=None, help='e.g. "1 Main St, Sydney NSW 2000"'),
        click.option("--country", default=None, help="ISO 3166 code, e.g. AU."),
        click.option(
            "--tax-id", default=None, help="Checked for AU (ABN), NZ (IRD), EU and GB (VAT)."
        ),
        click.option(
            "--delivery", type=click.Choice(["email", "paper"]), default=None, help="Invoices by."
        ),
        click.option("--notes", default=None, help="Anything staff should know."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@account.command("add", epilog=EXIT_CODES)
@click.argument("realm")
@click.argument("login")
@_profile_options
@click.option("--company", is_flag=True, help="A company or cost-centre, not a person.")
@click.option("--plan", default=None, help="Subscribe it to this plan of the realm's catalog.")
@click.option("--from", "start", type=DAY, default=None, help="The plan's first day (with --plan).")
def account_add(realm: str, login: str, company: bool, plan, start, **details) -> None:
    """Add the customer LOGIN to REALM, and with --plan subscribe it from --from.

    LOGIN is the name it logs in with through RADIUS, unique in the whole store. All or
    nothing: a taken login, an unknown parent or one in another realm, a wrong e-mail or
    tax id, a plan not in the catalog on that day stores nothing."""
    from jet.accounts import add_accounts, subscribe
    from jet.audit import Actor
    from jet.store.db import session

    if (plan is None) != (start is None):
        raise click.UsageError("give --plan and --from together")
    actor = Actor.here("cli")
    row = {"id": login, **details, "kind": "company" if company else "person"}
    with session(load_settings().db_url) as s:
        add_accounts(s, realm, [row], actor)
        if plan:
            subscribe(s, login, plan, start.date(), actor=actor)
    on = f", on {plan} from {start.date()}" if plan else ""
    click.echo(
        f"added {login} to {realm}{on}; `jet account password {login}` sets its RADIUS password"
    )


@account.command("update", epilog=EXIT_CODES)
@click.argument("account_id", metavar="ACCOUNT")
@_profile_options
@click.option("--kind", type=click.Choice(["person", "company"]), default=None)
def account_update(account_id: str, **changes) -> None:
    """Change ACCOUNT's details; "" clears an optional one (--phone ""), --parent ""
    makes it a billing account of its own. Nothing changes if any is wrong."""
    from jet.accounts import update_profile
    from jet.audit import Actor
    from jet.store.db import session

    with session(load_settings().db_url) as s:
        update_profile(s, Actor.here("cli"), account_id, **changes)
    given = ", ".join(key.replace("_", " ") for key, v in changes.items() if v is not None)
    click.echo(f"updated {account_id}: {given}")


@account.command("close", epilog=EXIT_CODES)
@click.argument("account_id", metavar="ACCOUNT")
@click.option("--on", "day", type=DAY, default=None, help="The day it closes (default today).")
def account_close(account_id: str, day) -> None:
    """Close ACCOUNT from --on: its subscriptions end that day (the next invoice refunds
    what was charged beyond it), it can no longer log in and its sessions are
    disconnected. Refused if it is closed already, or a subscription starts later."""
    from datetime import UTC, datetime

    from jet.accounts import close_account
    from jet.audit import Actor
    from jet.store.db import session

    settings = load_settings()
    on = day.date() if day else datetime.now(UTC).date()
    with session(settings.db_url) as s:
        ended = close_account(s, Actor.here("cli"), account_id, on)
        plans = ", ".join(sub.plan_id for sub in ended)
    click.echo(f"closed {account_id} from {on}" + (f"; ended {plans}" if plans else ""))
    _dispatch_now(settings, account_id)


@account.command("reopen", epilog=EXIT_CODES)
@click.argument("account_id", metavar="ACCOUNT")
def account_reopen(account_id: str) -> None:
    """Make the closed ACCOUNT active again. Its plans stay ended: subscribe it anew with
    `jet subscription add`."""
    from jet.accounts import reopen_account
    from jet.audit import Actor
    from jet.store.db import session

    with session(load_settings().db_url) as s:
        reopen_account(s, Actor.here("cli"), account_id)
    click.echo(
        f"reopened {account_id}, without a plan: `jet subscription add {account_id} PLAN "
        f"--from D`; {RADIUS_RELOAD}"
    )


@account.command("password", epilog=EXIT_CODES)
@click.argument("account_id", metavar="ACCOUNT")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin's first line.")
@click.option("--remove", is_flag=True, help="Remove the password: the account cannot log in.")
def account_password(account_id: str, password_stdin: bool, remove: bool) -> None:
    """Set the password ACCOUNT logs in with through RADIUS (PAP or CHAP).

    Asks for it twice unless --password-stdin is given. The store keeps it in clear:
    see docs/decisions.md, "RADIUS"."""
    from jet.accounts import set_radius_password
    from jet.audit import Actor
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
        set_radius_password(s, account_id, password, Actor.here("cli"))
    done = "removed the password of" if password is None else "set the password of"
    click.echo(f"{done} {account_id}; {RADIUS_RELOAD}")


@account.command("set", epilog=EXIT_CODES)
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
@click.option("--balance", hidden=True, callback=lambda ctx, param, value: _no_balance(value))
def account_set(
    account_id: str,
    status: str | None,
    expires: str | None,
    framed_ip: str | None,
    prepaid: bool | None,
    balance: None,
) -> None:
    """Change what decides whether ACCOUNT may log in through RADIUS."""
    from jet.accounts import describe_access, update_account
    from jet.audit import Actor
    from jet.prepaid import credit_left
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
            actor=Actor.here("cli"),
        )
        summary = describe_access(changed, credit_left(s, [account_id]).get(account_id))
    click.echo(f"{summary}; {RADIUS_RELOAD}")
    _dispatch_now(settings, account_id)


def _no_balance(value: str | None) -> None:
    """`--balance` set a stored balance before the ledger held it (docs/prepaid.md)."""
    if value is not None:
        raise click.UsageError(
            "--balance is gone: a prepaid balance is the sum of the account's ledger entries; "
            "add to it with `jet payment topup ACCOUNT AMOUNT --method cash|cheque|bank`"
        )


@account.command("plan", epilog=EXIT_CODES)
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
    from jet.audit import Actor
    from jet.store.db import session

    settings = load_settings()
    start = day.date() if day else datetime.now(UTC).date()
    with session(settings.db_url) as s:
        change_plan(s, account_id, plan, start, Actor.here("cli"))
    click.echo(f"{account_id} is on {plan} from {start}")
    if start > datetime.now(UTC).date():
        click.echo(f"its sessions get a CoA-Request on {start}, from `jet radius serve`")
    else:
        _dispatch_now(settings, account_id)


def _dispatch_now(settings: Settings, account_id: str) -> None:
    """Send the Disconnect or CoA the change just queued; a running `jet radius serve`
    retries what gets no answer."""
    from jet.deliveries import dispatch
    from jet.drivers.subscribers import subscribers

    for report in dispatch(settings, subscribers(settings), account_id):
        if report.subscriber == "radius" or report.subscriber.startswith("hook:"):
            trouble = report.went_wrong
            click.secho(report.result.outcome, fg="yellow" if trouble else None, err=trouble)
