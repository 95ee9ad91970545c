"""`jet db`: the operational store's schema."""

from __future__ import annotations

import click

from jet.cli.common import load_settings


@click.group()
def db() -> None:
    """The operational store."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every database migration not yet applied."""
    from jet.store.db import upgrade

    settings = load_settings()
    upgrade(settings.db_url)
    click.echo(f"store is up to date: {settings.db_url}")
