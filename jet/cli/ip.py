"""`jet ip`: static IP assignments."""

from __future__ import annotations

import click

from jet.cli.common import load_settings


@click.group()
def ip() -> None:
    """Static IP assignments: the networks whose flows an account pays for."""


@ip.command("assign")
@click.argument("account")
@click.argument("network")
def ip_assign(account: str, network: str) -> None:
    """Give ACCOUNT the NETWORK (192.0.2.8/29, 2001:db8::/48 or one address)."""
    from jet.addresses import assign
    from jet.store.db import session

    with session(load_settings().db_url) as s:
        assigned = assign(s, account, network).network
    click.echo(f"assigned {assigned} to {account}; flows are attributed from the next rating")


@ip.command("unassign")
@click.argument("network")
def ip_unassign(network: str) -> None:
    """Take NETWORK away from its account."""
    from jet.addresses import unassign
    from jet.store.db import session

    with session(load_settings().db_url) as s:
        removed = unassign(s, network)
        click.echo(f"unassigned {removed.network} from {removed.account_id}")


@ip.command("list")
@click.argument("account", required=False)
def ip_list(account: str | None) -> None:
    """Print the assignments, of ACCOUNT or of every account."""
    from jet.addresses import assignments
    from jet.store.db import session

    with session(load_settings().db_url) as s:
        rows = [(a.account_id, a.network) for a in assignments(s, account)]
    if not rows:
        click.echo("no IP assignments; add one with `jet ip assign ACCOUNT NETWORK`")
    for account_id, network in rows:
        click.echo(f"{account_id:<24}  {network}")
