"""`jet portal`: what staff do for customers' portal access (docs/portal-accounts.md)."""

from __future__ import annotations

import click

from jet.cli.common import EXIT_CODES, READ_EXIT_CODES, load_settings, password_stdin, read_password


@click.group()
def portal() -> None:
    """The customer portal: customers' portal passwords and the messages they leave."""


@portal.command("password", epilog=EXIT_CODES)
@click.argument("account")
@password_stdin
def portal_password(account: str, password_stdin: bool) -> None:
    """Give ACCOUNT a portal password (asked twice unless --password-stdin; at least 10
    characters), apart from its RADIUS password; its portal sessions end and a lockout
    is lifted. Tell the customer: they sign in with the login ACCOUNT and it."""
    from jet.audit import Actor
    from jet.portal_logins import set_portal_password
    from jet.store.db import session

    password = read_password(password_stdin)
    with session(load_settings().db_url) as s:
        set_portal_password(s, Actor.here(), account, password)
    click.echo(f"set the portal password of {account}; its portal sessions are ended")


@portal.command("messages", epilog=READ_EXIT_CODES)
@click.argument("account")
def portal_messages(account: str) -> None:
    """Print the messages ACCOUNT left through the portal's contact page, newest first."""
    from jet.accounts import get_account
    from jet.contact_messages import messages
    from jet.store.db import session

    with session(load_settings().db_url) as s:
        get_account(s, account)
        found = messages(s, account)
    if not found:
        click.echo(f"{account} has left no messages")
    for m in found:
        mailed = f"mailed to {m['mailed_to']}" if m["mailed_at"] else "not mailed"
        click.echo(f"#{m['id']} {m['created_at']:%Y-%m-%d %H:%M} UTC, {m['author']} ({mailed})")
        click.echo(f"  {m['subject']}")
        click.echo("  " + m["body"].replace("\n", "\n  ") + "\n")
