"""`jet quality`: the data contracts' results and their waivers."""

from __future__ import annotations

import click

from jet.cli.common import load_settings


@click.group()
def quality() -> None:
    """The data contracts every billing run checks, and the invoices they hold."""


@quality.command("status")
def quality_status() -> None:
    """The latest result of every check: passed, failed or waived, the rows that failed
    and when, the invoices it holds; then the waivers."""
    from jet.quality.gate import waivers
    from jet.quality.report import status
    from jet.quality.results import latest
    from jet.store.db import session

    settings = load_settings()
    with session(settings.db_url) as s:
        click.echo(status(latest(s), waivers(s), settings.quality_docs))


@quality.command("waive")
@click.argument("check")
@click.option(
    "--date",
    "day",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="The bill date to issue anyway (default: every one up to today that CHECK holds).",
)
@click.option("--reason", required=True, help="Why the invoices may go out: kept with the waiver.")
@click.option("--by", default=None, help="Who decides (default: the logged-in user).")
def quality_waive(check: str, day, reason: str, by: str | None) -> None:
    """Let the invoices that CHECK holds go out at the next `jet bill` of their dates.

    CHECK is as `jet quality status` names it, e.g. raw_radius.known_account."""
    import getpass

    from jet.quality.gate import waive
    from jet.store.db import session

    settings = load_settings()
    with session(settings.db_url) as s:
        new, existing = waive(
            s, check, reason, by or getpass.getuser(), day.date() if day else None
        )
    for w in existing:
        click.echo(f"{check} was waived for {w.bill_date} already, by {w.waived_by}: {w.reason}")
    if new:
        dates = ", ".join(str(d) for d in new)
        click.echo(f"waived {check} for {dates}; bill them again to issue their invoices")


@quality.command("unwaive")
@click.argument("check")
@click.option(
    "--date",
    "day",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="The bill date whose waiver to withdraw (default: every active waiver of CHECK).",
)
@click.option("--reason", required=True, help="Why the waiver no longer stands: kept with it.")
@click.option("--by", default=None, help="Who decides (default: the logged-in user).")
def quality_unwaive(check: str, day, reason: str, by: str | None) -> None:
    """Withdraw a waiver of CHECK: the next `jet bill` of its date holds the invoices
    again while CHECK fails. The waiver is kept, marked withdrawn with who, when and why."""
    import getpass

    from jet.quality.gate import unwaive
    from jet.store.db import session

    settings = load_settings()
    with session(settings.db_url) as s:
        withdrawn = unwaive(s, check, reason, by or getpass.getuser(), day.date() if day else None)
        dates = ", ".join(str(w.bill_date) for w in withdrawn)
    click.echo(
        f"withdrew the waiver of {check} for {dates}; "
        "the next `jet bill` of those dates holds their invoices while it fails"
    )
