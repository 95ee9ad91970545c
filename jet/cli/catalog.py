"""`jet catalog`: realm catalogs loaded into the store."""

from __future__ import annotations

from pathlib import Path

import click

from jet.cli.common import load_settings


@click.group()
def catalog() -> None:
    """Realm catalogs: products, plans and prices."""


@catalog.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def catalog_load(file: Path) -> None:
    """Validate FILE and store it as a new catalog version of its realm."""
    from jet.catalog import load_catalog_file
    from jet.realms import store_catalog
    from jet.store.db import session

    settings = load_settings()
    parsed = load_catalog_file(file)
    with session(settings.db_url) as s:
        version, created = store_catalog(s, parsed, str(file))
    verb = "stored" if created else "already stored"
    click.echo(
        f"{verb}: catalog of realm {parsed.realm.id} from {version.effective_from} "
        f"({len(parsed.products)} products, {len(parsed.plans)} plans)"
    )
