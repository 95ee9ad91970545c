"""`jet simulate`, `jet bill` and `jet rate`: billing runs."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import click

from jet.cli.common import load_settings


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print invoices as JSON (billing-rules.md).")
def simulate(file: Path, as_json: bool) -> None:
    """Bill the scenario FILE up to its `until` date, in a throw-away home."""
    from jet.drivers.simulate import simulate as run

    invoices = run(file)
    if as_json:
        click.echo(json.dumps({"invoices": invoices}, indent=2))
        return
    from jet.drivers.console import print_invoices

    print_invoices(invoices)


@click.command()
@click.option("--from", "first", type=click.DateTime(["%Y-%m-%d"]), required=True)
@click.option("--to", "last", type=click.DateTime(["%Y-%m-%d"]), required=True)
def bill(first, last) -> None:
    """Run the billing cycle for every bill date from --from to --to (one Dagster run).

    Invoices whose data fails a blocking data contract are held, with the reasons and
    what to do (`jet quality status`); the rest are issued, and it exits 1."""
    from jet.drivers.jobs import run_job

    run_job(load_settings(), "billing_cycle", first.date(), last.date())
    click.echo(f"billing cycle {first.date()}..{last.date()} done")


@click.command()
@click.option(
    "--as-of",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="Rate bill dates up to this day (default today).",
)
@click.option(
    "--rebuild",
    is_flag=True,
    help="Rate everything from the lake and the store again, not only what changed.",
)
def rate(as_of, rebuild: bool) -> None:
    """Refresh usage and draft invoice marts without issuing anything. Each run
    aggregates only the usage that changed since the last (docs/decisions.md,
    "Incremental rating"); --rebuild starts from an empty warehouse, which is derived
    data: for a lake restored from a backup."""
    from jet.drivers.jobs import run_job
    from jet.warehouse import drop_warehouse

    settings = load_settings()
    day = as_of.date() if as_of else date.today()
    if rebuild:
        drop_warehouse(settings)
    run_job(settings, "rating", day, day)
    click.echo(f"marts rated up to {day}: {settings.marts}")
