"""`jet sql`: queries over the published marts."""

from __future__ import annotations

import click

from jet.cli.common import fail, load_settings


@click.command()
@click.argument("query")
def sql(query: str) -> None:
    """Run QUERY over the published marts (fct_invoices, fct_invoice_lines, dim_accounts, ...)."""
    import duckdb

    from jet.warehouse import marts

    try:
        relation = marts(load_settings()).sql(query)
    except duckdb.Error as err:
        fail(f"query failed: {err}")
    if relation is not None:
        relation.show(max_rows=50)
