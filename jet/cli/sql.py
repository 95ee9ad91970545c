"""`jet sql`: a read-only query over the published marts (reports/confined_sql.py)."""

from __future__ import annotations

import click

from jet.cli.common import load_settings


@click.command()
@click.argument("query")
@click.option("--timeout", type=float, help="Seconds before the query is stopped (default 60).")
def sql(query: str, timeout: float | None) -> None:
    """Run QUERY, one SELECT, over the published marts (fct_invoices, rpt_revenue, ...).

    Read-only: statements other than SELECT, files outside the marts and settings are
    refused, and a query is stopped after --timeout or JET_SQL_TIMEOUT seconds."""
    import duckdb

    from reports.confined_sql import query as confined_query

    table = confined_query(load_settings(), query, timeout=timeout)
    duckdb.from_arrow(table).show(max_rows=50)
