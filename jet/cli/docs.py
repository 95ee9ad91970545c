"""`jet docs`: dbt's documentation site, with the lineage graph from the raw sources to
every mart (docs/reports.md, "Lineage")."""

from __future__ import annotations

import click

from jet.cli.common import load_settings


@click.command()
def docs() -> None:
    """Write dbt's documentation site (every model, column and test, and the lineage graph
    from the landed usage to the marts) to one page, $JET_HOME/docs/index.html."""
    from jet.warehouse import build_docs

    click.echo(f"wrote {build_docs(load_settings())}: open it in a browser")
