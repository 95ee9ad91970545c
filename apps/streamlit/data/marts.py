"""The published marts, read through an in-memory DuckDB per publish.

Pages never open the warehouse file (dbt's, one writer at a time): they read the Parquet
files a run publishes under $JET_HOME/lake/marts. The connection is kept until the next
publish changes those files (their names, sizes and modification times), so pages share
one set of views and DuckDB's own caches between runs."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import polars as pl

from jet.config import Settings
from jet.warehouse import marts as open_marts

_LOCK = threading.Lock()
_OPEN: dict[Path, tuple[tuple, duckdb.DuckDBPyConnection]] = {}
_RESULTS: dict[tuple, Any] = {}
_RESULTS_MAX = 256
T = TypeVar("T")


def publish_key(settings: Settings) -> tuple:
    """What identifies a publish: each mart file's name, size and modification time."""
    return tuple(
        (p.name, p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(Path(settings.marts).glob("*.parquet"))
    )


def connection(settings: Settings) -> duckdb.DuckDBPyConnection:
    """A cursor on the marts of the latest publish (its own cursor per call: Streamlit runs
    each session's script in a thread of its own). The previous publish's connection is
    let go, not closed: closing it would break a page still reading through its cursor;
    DuckDB frees it with the last one."""
    key = publish_key(settings)
    with _LOCK:
        held = _OPEN.get(settings.marts)
        if held is None or held[0] != key:
            held = _OPEN[settings.marts] = (key, open_marts(settings))
        return held[1].cursor()


def per_publish(settings: Settings, key: tuple, compute: Callable[[], T]) -> T:
    """`compute()`, made once per publish and `key` (what it depends on besides the marts:
    the staff member's realms): an aggregate over a year of marts takes seconds with a
    million accounts, and the marts change only when a run publishes."""
    full = (settings.marts, publish_key(settings), key)
    with _LOCK:
        if full in _RESULTS:
            return _RESULTS[full]
    result = compute()
    with _LOCK:
        if len(_RESULTS) >= _RESULTS_MAX:
            _RESULTS.clear()
        _RESULTS[full] = result
    return result


def has(settings: Settings, *names: str) -> bool:
    """Whether every mart in `names` is published (a new home has none until its first run)."""
    return all((Path(settings.marts) / f"{name}.parquet").exists() for name in names)


def frame(settings: Settings, sql: str, params: dict[str, Any] | None = None) -> pl.DataFrame:
    """The result of `sql` (parameters by name, never formatted in) as a polars frame."""
    with connection(settings) as cursor:
        return pl.from_arrow(cursor.sql(sql, params=params or {}).to_arrow_table())


def in_scope(realms: frozenset[str] | None) -> dict[str, Any]:
    """Parameters of the realm filter every query carries: `($all or list_contains($realms,
    realm_id))`."""
    return {"all": realms is None, "realms": sorted(realms or ())}


SCOPED = "($all or list_contains($realms, realm_id))"
