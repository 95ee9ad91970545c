"""`jet demo`: a believable deployment built from nothing."""

from __future__ import annotations

import click

from jet.cli.common import load_settings


@click.command()
@click.option("--accounts", default=2000, show_default=True, help="How many accounts to create.")
def demo(accounts: int) -> None:
    """Build a believable deployment from nothing and run its billing cycles."""
    from jet.drivers.demo import run_demo

    run_demo(load_settings(), accounts=accounts)
