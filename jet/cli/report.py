"""`jet report list|run`: the standard reports (dbt models rpt_*) and the custom ones
($JET_HOME/reports/*.sql), in every format (docs/reports.md)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from jet.cli.common import load_settings

FORMATS = ("csv", "xlsx", "parquet", "json", "html", "pdf")  # reports.report_formats.FORMATS


@click.group()
def report() -> None:
    """Standard and custom reports over the published marts."""


@report.command("list")
def list_() -> None:
    """Every report: name, kind, pack, parameters and title."""
    from reports.report_definitions import all_reports

    for r in all_reports(load_settings()).values():
        takes = ", ".join(f"{p.name}:{p.type}" for p in r.parameters) or "-"
        click.echo(f"{r.name:<24} {r.kind:<8} {r.pack or '-':<11} {takes:<40} {r.title}")


@report.command()
@click.argument("name")
@click.option("--realm", help="Only this realm's rows.")
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), help="First day (YYYY-MM-DD).")
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), help="Last day (YYYY-MM-DD).")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE", help="A custom parameter.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="csv", show_default=True)
@click.option("--out", type=click.Path(path_type=Path), help="File (a pack: a folder).")
@click.option("--no-refresh", is_flag=True, help="Read what was last built; build nothing.")
def run(
    name: str,
    realm: str | None,
    start: datetime | None,
    end: datetime | None,
    params: tuple[str, ...],
    fmt: str,
    out: Path | None,
    no_refresh: bool,
) -> None:
    """Run report NAME (or every report of pack NAME) and write it as --format."""
    from reports.report_definitions import WINDOW, ReportError, chosen
    from reports.report_formats import render
    from reports.report_runs import build, run_report

    settings = load_settings()
    reports = chosen(settings, name)
    window = (realm, start.date() if start else None, end.date() if end else None)
    extra: dict[str, object] = {}
    for pair in params:
        key, sep, value = pair.partition("=")
        if not sep:
            raise ReportError(f"--param {pair!r}: give NAME=VALUE")
        extra[key.strip()] = value

    def step(text: str) -> None:
        click.echo(f"  {text}", err=True)

    if not no_refresh:
        build(settings, reports, on_step=step)
    pack = len(reports) > 1 or name != reports[0].name
    folder = (out or Path(f"{name}-{datetime.now():%Y%m%d}")) if pack else None
    for r in reports:
        wanted = r.window(*window)
        unused = [k for k, v in zip(WINDOW, window, strict=True) if v and k not in wanted]
        if unused and not pack:
            raise ReportError(f"report {r.name} takes no {', '.join(unused)}")
        result = run_report(settings, r, {**wanted, **extra}, on_step=step)
        data = render(result, fmt)
        path = folder / f"{r.name}.{fmt}" if folder else out or Path(f"{r.name}.{fmt}")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        click.echo(f"{r.name}: {result.table.num_rows:,} rows -> {path}")
