"""Running a report: the one function the CLI, the console and the scheduled e-mails
call. A standard report first builds its dbt model (and runs its data tests), unless
asked not to (the console reads what was last built); every report then runs as a
confined query over the published marts (reports/confined_sql.py)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from jet.config import Settings
from reports.confined_sql import query
from reports.report_definitions import Report, ReportError

Step = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class ReportResult:
    report: Report
    table: pa.Table
    parameters: dict[str, Any]
    generated_at: datetime


def build(settings: Settings, reports: list[Report], on_step: Step | None = None) -> None:
    """Build the dbt models of the standard reports among `reports`, with their tests."""
    models = [r.model for r in reports if r.model]
    if models:
        from jet.warehouse import build_on_demand

        tick = time.monotonic()
        build_on_demand(settings, models)
        _tell(on_step, f"built {', '.join(models)} in {time.monotonic() - tick:.1f} s")


def run_report(
    settings: Settings,
    report: Report,
    given: Mapping[str, Any] | None = None,
    on_step: Step | None = None,
    timeout: float | None = None,
) -> ReportResult:
    """The report's rows for the `given` parameters (realm, from, to and its own)."""
    values = report.values(dict(given or {}))
    if report.model and not (settings.marts / f"{report.model}.parquet").exists():
        raise ReportError(
            f"report {report.name} has not been built yet: `jet report run {report.name}` "
            "builds it, after a billing or rating run (`jet bill`, `jet rate`)"
        )
    tick = time.monotonic()
    table = query(settings, report.sql, values, timeout=timeout)
    _tell(on_step, f"{report.name}: {table.num_rows:,} rows in {time.monotonic() - tick:.1f} s")
    return ReportResult(report, table, values, datetime.now(UTC))


def _tell(on_step: Step | None, text: str) -> None:
    if on_step is not None:
        on_step(text)
