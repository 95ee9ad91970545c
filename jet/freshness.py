"""Whether each raw source, and each NAS and exporter behind it, still delivers.

A source is judged by `dbt source freshness` (its newest `_landed_at` against the
thresholds of dbt var `freshness`), a sender by the mart `fct_source_freshness`, which
every dbt build refreshes. Only sources that have landed something are judged: a
deployment need not use every source. Staleness is a warning for people, never a reason
to hold billing back: nothing here raises because a source is quiet."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyarrow.parquet as pq

from jet.config import Settings
from jet.warehouse import WarehouseError, dbt_target, invoke_dbt
from schemas.raw import SOURCES

_PERIOD = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1)}
MART = "fct_source_freshness"


@dataclass(frozen=True)
class Freshness:
    """One raw source (`sender` None) or one sender of it, as last checked.

    `status` is dbt's `pass`, `warn` or `error`, or `failed` when dbt could not read the
    source (`detail` says why)."""

    source: str
    sender: str | None
    sender_name: str | None
    status: str
    last_landed_at: datetime | None
    checked_at: datetime
    warn_after: timedelta
    error_after: timedelta
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "pass"

    @property
    def silent_for(self) -> timedelta | None:
        if self.last_landed_at is None:
            return None
        return max(self.checked_at - self.last_landed_at, timedelta(0))

    def describe(self) -> str:
        """One line for logs, checks and the console, naming the source and the sender."""
        who = self.source
        if self.sender is not None:
            kind = "NAS" if self.source == "radius" else "exporter"
            name = f" ({self.sender_name})" if self.sender_name else ""
            who = f"{self.source} {kind} {self.sender}{name}"
        if self.status == "failed" or self.last_landed_at is None:
            return f"{who}: freshness could not be checked: {self.detail}"
        return (
            f"{who}: {self.status}, last landed {_span(self.silent_for)} ago, at "
            f"{self.last_landed_at:%Y-%m-%d %H:%M} UTC (warns after {_span(self.warn_after)}, "
            f"errors after {_span(self.error_after)})"
        )


def check_freshness(settings: Settings) -> list[Freshness]:
    """Run `dbt source freshness` over the raw sources that have landed something and
    return `latest_freshness`.

    Raises WarehouseError only when dbt itself could not run (a parse error, the
    warehouse locked); a stale source is a result, not an error."""
    landed = [s for s in SOURCES if next((settings.raw / s).glob("date=*/*.parquet"), None)]
    if landed:
        selected = " ".join(f"source:raw.{source}" for source in landed)
        result = invoke_dbt(settings, f"source freshness --select {selected}")
        if result.exception is not None:
            raise WarehouseError(f"dbt source freshness failed: {result.exception}")
    return latest_freshness(settings)


def latest_freshness(settings: Settings) -> list[Freshness]:
    """The last results, without running anything: each source from dbt's `sources.json`
    (the last `check_freshness`), each sender from the published `fct_source_freshness`
    (the last dbt build). A source that has landed nothing has no row. Sources in
    `SOURCES` order, each followed by its senders, quietest first."""
    order = list(SOURCES)
    return sorted(
        _sources(settings) + _senders(settings),
        key=lambda f: (
            order.index(f.source),
            f.sender is not None,
            -(f.silent_for or timedelta(0)).total_seconds(),
            f.sender or "",
        ),
    )


def _sources(settings: Settings) -> list[Freshness]:
    path = dbt_target(settings) / "sources.json"
    if not path.exists():
        return []
    report = json.loads(path.read_text())
    generated_at = _parse(report["metadata"]["generated_at"])
    found = []
    for result in report["results"]:
        criteria = result.get("criteria") or {}
        status = result["status"]
        if status not in ("pass", "warn", "error"):  # dbt's "runtime error"
            status = "failed"
        found.append(
            Freshness(
                source=result["unique_id"].rsplit(".", 1)[1],
                sender=None,
                sender_name=None,
                status=status,
                last_landed_at=_parse(result.get("max_loaded_at")),
                checked_at=_parse(result.get("snapshotted_at")) or generated_at,
                warn_after=_threshold(criteria.get("warn_after")),
                error_after=_threshold(criteria.get("error_after")),
                detail=result.get("error") or "",
            )
        )
    return found


def _senders(settings: Settings) -> list[Freshness]:
    path = settings.marts / f"{MART}.parquet"
    if not path.exists():
        return []
    return [
        Freshness(
            source=row["source"],
            sender=row["sender"],
            sender_name=row["sender_name"],
            status=row["status"],
            last_landed_at=row["last_landed_at"],
            checked_at=row["checked_at"],
            warn_after=timedelta(seconds=row["warn_after_seconds"]),
            error_after=timedelta(seconds=row["error_after_seconds"]),
        )
        for row in pq.read_table(path).to_pylist()
    ]


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _threshold(value: dict | None) -> timedelta:
    if not value or value.get("count") is None:
        return timedelta(0)
    return value["count"] * _PERIOD[value["period"]]


def _span(span: timedelta) -> str:
    """3 d 2 h, 5 h 10 min, 45 min, 20 s: to the minute, as people read a quiet sender."""
    minutes = int(span.total_seconds() // 60)
    if minutes == 0:
        return f"{int(span.total_seconds())} s"
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = [(days, "d"), (hours, "h"), (minutes if not days else 0, "min")]
    return " ".join(f"{n} {unit}" for n, unit in parts if n)
