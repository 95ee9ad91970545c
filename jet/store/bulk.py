"""Many rows into one table with one statement: what an import of a million accounts
writes (the accounts, their subscriptions, an audit entry and an event for each).

SQLAlchemy's executemany builds a parameter set per row and converts every value
through its column's type; at a million rows that bookkeeping cost more than SQLite's
own work (bench/README.md). On SQLite each value is converted here by the same
converter, the column type's bind processor for the dialect, but once per distinct
object in a run of equal ones (a million audit entries share one timestamp), and the
rows go to the driver's executemany. Other backends keep SQLAlchemy's batched
multi-row INSERTs, which beat executemany there."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

_NOTHING = object()
_VARIABLES = 30_000  # bound values a statement may hold (SQLite: 32,766)


def insert_rows(
    s: Session, table: Table, rows: Sequence[Mapping[str, Any]], returning: str | None = None
) -> list[Any]:
    """Insert `rows` (mappings with the same keys, as `insert(table)` takes them) in
    `s`'s transaction; with `returning`, that column of each row (its id), in order."""
    if not rows:
        return []
    connection = s.connection()
    dialect = connection.dialect
    if dialect.name != "sqlite":
        if returning is None:
            connection.execute(insert(table), list(rows))
            return []
        statement = insert(table).returning(table.c[returning], sort_by_parameter_order=True)
        return list(connection.execute(statement, list(rows)).scalars())
    compiled = insert(table).compile(dialect=dialect, column_keys=list(rows[0]))
    names = compiled.positiontup or []
    converters = [
        (i, _once_per_value(process))
        for i, name in enumerate(names)
        if (process := _processor(compiled.binds[name].type, dialect)) is not None
    ]
    given = [name for name in names if name in rows[0]]
    get = itemgetter(*given) if len(given) > 1 else lambda row: (row[given[0]],)
    # Columns left out that have a default: SQLAlchemy puts them in, with that value.
    defaults = [(i, _default(table, name)) for i, name in enumerate(names) if name not in given]
    params = []
    for row in rows:
        values = list(get(row))
        for i, value in defaults:
            values.insert(i, value)
        for i, convert in converters:
            values[i] = convert(values[i])
        params.append(tuple(values))
    if returning is None:
        connection.exec_driver_sql(compiled.string, params)
        return []
    return _returned(connection, compiled.string, names, params, returning)


def _returned(
    connection: Any, statement: str, names: Sequence[str], params: list[tuple], returning: str
) -> list[Any]:
    """Insert with RETURNING, many rows a statement. SQLite returns them in any order, so
    each is matched by its values as stored (rows alike are alike, whichever gets which)."""
    quote = connection.dialect.identifier_preparer.quote
    head, values = statement.split(" VALUES ")
    tail = " RETURNING " + ", ".join(quote(c) for c in (returning, *names))
    per_statement = max(1, _VARIABLES // len(names))
    found: dict[tuple, list[Any]] = {}
    for first in range(0, len(params), per_statement):
        batch = params[first : first + per_statement]
        sql = f"{head} VALUES {', '.join([values] * len(batch))}{tail}"
        flat = [value for row in batch for value in row]
        for key, *stored in connection.exec_driver_sql(sql, tuple(flat)):
            found.setdefault(tuple(stored), []).append(key)
    return [found[row].pop() for row in params]


def _default(table: Table, name: str) -> Any:
    default = table.c[name].default
    if default is None or not default.is_scalar:
        raise ValueError(f"insert_rows into {table.name}: give {name}, its default is not a value")
    return default.arg


def _processor(type_: Any, dialect: Any) -> Callable[[Any], Any] | None:
    return type_.dialect_impl(dialect).bind_processor(dialect)


def _once_per_value(process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`process`, remembering its last answer for the same object."""
    last: list[Any] = [_NOTHING, None]

    def convert(value: Any) -> Any:
        if value is not last[0]:
            last[0], last[1] = value, process(value)
        return last[1]

    return convert
