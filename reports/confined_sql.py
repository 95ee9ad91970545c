"""Queries people write (`jet sql`, custom reports) and the standard reports, confined to
the published marts: one read of the Parquet files under lake/marts and nothing else.

Three locks, each of which would refuse most escapes alone:
- only SELECT statements (and EXPLAIN) run: DuckDB parses the text first and names each
  statement's type, so CREATE, INSERT, DELETE, COPY … TO, ATTACH, SET, PRAGMA, INSTALL,
  LOAD, EXPORT and CALL are refused before anything runs;
- the connection is in memory, may read files only under the marts folder
  (`allowed_directories`, `enable_external_access` off: no `read_csv('/etc/passwd')`, no
  ATTACH of the store or the warehouse) and its configuration is locked, so a query
  cannot switch these back on;
- a time limit (`JET_SQL_TIMEOUT`, 60 s): a watchdog interrupts the query."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from jet.config import Settings
from jet.errors import JetError
from jet.warehouse import marts

READING = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}
DEFAULT_TIMEOUT = 60.0


class QueryRefused(JetError):
    """A query that is not a read of the marts, or that ran past its time limit."""


def timeout_from_env() -> float:
    """The time limit of a query, in seconds: JET_SQL_TIMEOUT, else 60."""
    value = os.environ.get("JET_SQL_TIMEOUT", "")
    try:
        return float(value) if value else DEFAULT_TIMEOUT
    except ValueError:
        raise QueryRefused(f"JET_SQL_TIMEOUT={value!r} is not a number of seconds") from None


def confined(settings: Settings) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with a view per published mart, that can read nothing else."""
    con = marts(settings)
    con.execute("set allowed_directories = $dirs", {"dirs": [f"{Path(settings.marts)}/"]})
    con.execute("set enable_external_access = false")
    con.execute("set lock_configuration = true")
    return con


def check_reading(sql: str) -> None:
    """Refuse any statement of `sql` that is not a SELECT (or EXPLAIN), naming it."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as err:
        raise QueryRefused(f"the query does not parse: {err}") from None
    if not statements:
        raise QueryRefused("the query is empty: give a SELECT over the marts")
    for statement in statements:
        if statement.type not in READING:
            kind = statement.type.name
            raise QueryRefused(
                f"{kind} statements are refused: queries are read-only over the published "
                f"marts (SELECT only), so nothing can be written, attached or set "
                f"({statement.query.strip()[:60]!r})"
            )
    if len(statements) > 1:
        raise QueryRefused(f"give one SELECT, not {len(statements)} statements")


def query(
    settings: Settings,
    sql: str,
    params: dict[str, Any] | None = None,
    timeout: float | None = None,
) -> pa.Table:
    """Run `sql` (one SELECT) confined to the marts, with named parameters (`$name`)
    and a time limit in seconds."""
    check_reading(sql)
    limit = timeout_from_env() if timeout is None else timeout
    con = confined(settings)
    stopped = threading.Event()

    def stop() -> None:
        stopped.set()
        con.interrupt()

    watchdog = threading.Timer(limit, stop)
    watchdog.start()
    try:
        return con.sql(sql, params=params or None).to_arrow_table()
    except duckdb.Error as err:
        if stopped.is_set():
            raise QueryRefused(
                f"the query was stopped after {limit:g} s (the limit, JET_SQL_TIMEOUT): "
                "narrow it (a WHERE on a date, a LIMIT) or raise the limit"
            ) from None
        if isinstance(err, duckdb.PermissionException):
            raise QueryRefused(
                f"{err}: queries read only the published marts (lake/marts), no other files"
            ) from None
        raise QueryRefused(f"the query failed: {err}") from None
    finally:
        watchdog.cancel()
        con.close()
