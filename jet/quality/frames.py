"""The tables the contracts check, read by DuckDB from the lake: of a raw source only the
files of the days a run bills, of every table only the columns its checks read.

A run over the bill dates [first, last] bills the days [first - 1 month, last) (the
longest arrears window before its first bill date) and, as late usage, any day a file
was written into since that window began. The frames go to Great Expectations as
pandas; the failing rows of a failed check are found again here, in the same frame.
"""

from __future__ import annotations

import os
import re
from calendar import monthrange
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from jet.config import Settings
from schemas.contracts import Check, Contract
from schemas.raw import SOURCES, landed_schema

SAMPLE_ROWS = 5
_DAY = re.compile(r"date=(\d{4}-\d{2}-\d{2})$")  # a day partition's folder
_IN_DAY = r"date=(\d{4}-\d{2}-\d{2})/[^/]*$"  # a file right in one
# Both as dbt has them (macros/calendar.sql), and the bill dates a usage day can be
# billed at: every B whose arrears window [B - 1 month, B) contains it.
_MACROS = """
    create macro utc_date(ts) as
        date '0001-01-01' + cast((epoch_us(ts) + 62135596800000000) // 86400000000 as integer);
    create macro holds_until(d) as cast(case when d = last_day(d)
        then last_day(d + interval 1 month) else d + interval 1 month end as date);
"""


class FrameError(RuntimeError):
    """A table the contracts cannot read at all."""


@dataclass(frozen=True)
class Hold:
    """Invoices of `realm` (None: every realm) at bill dates [first, last] are held."""

    realm: str | None
    first: date
    last: date


def month_before(day: date) -> date:
    """`day` a month earlier, clamped to that month's length as cycle boundaries are: the
    first usage day the bill date `day` can invoice (its longest arrears window)."""
    year, month = (day.year, day.month - 1) if day.month > 1 else (day.year - 1, 12)
    return day.replace(year=year, month=month, day=min(day.day, monthrange(year, month)[1]))


class Frames:
    """One DuckDB connection per validation run over the bill dates [first, last]: the ops
    snapshot's accounts and issued invoices, the store's remote realms, the invoice lines
    mart, and each contract's frame in turn."""

    def __init__(self, settings: Settings, first: date, last: date, remote_realms: list[str]):
        self.settings = settings
        self.first, self.last = first, last
        self.first_day = month_before(first)
        self.con = duckdb.connect()
        self.con.execute(_MACROS)
        self._views = {
            "accounts": settings.ops_snapshot / "accounts.parquet",
            "invoices": settings.ops_snapshot / "invoices.parquet",
            "fct_invoice_lines": settings.marts / "fct_invoice_lines.parquet",
        }
        realms = pa.table({"realm": pa.array([r.lower() for r in remote_realms], pa.string())})
        self.con.register("remote_realms", realms)
        self.frame: pa.Table | None = None

    def read(self, contract: Contract) -> pa.Table:
        """The contract's frame, kept as `frame` for `failing` until the next read."""
        if contract.is_raw:
            self._raw_rows(contract.source)
        else:
            self._mart_rows(contract)
        for name, path in self._views.items():  # only those the contract reads
            if re.search(rf"\b{name}\b", contract.sql):
                self.con.execute(
                    f"create or replace view {name} as "
                    f"select * from read_parquet({_sql_string(path)})"
                )
        params = {"first": self.first, "last": self.last, "first_day": self.first_day}
        used = {k: v for k, v in params.items() if re.search(rf"\${k}\b", contract.sql)}
        try:
            self.frame = self.con.sql(contract.sql, params=used).to_arrow_table()
        except duckdb.Error as e:
            raise FrameError(
                f"{contract.asset}: its contract cannot read it ({e}); rebuild the marts "
                "(`jet rate`), or change schemas/contracts.py with the model"
            ) from e
        self.con.register("frame", self.frame)
        return self.frame

    def failing(self, check: Check, sample: tuple[str, ...]) -> tuple[int, list[dict], list[Hold]]:
        """The failing rows of `check` in the current frame: how many, a few of them (the
        `sample` columns and the rule's), and the invoices they hold."""
        query = check.rule.failing()
        columns = list(dict.fromkeys([*sample, *check.rule.columns]))
        listed = ", ".join(f'"{c}"' for c in columns)
        (count,) = self.con.sql(f"select count(*) from ({query})").fetchall()[0]
        rows = self.con.sql(f"select {listed} from ({query}) limit {SAMPLE_ROWS}").fetchall()
        spans = self.con.sql(
            f"select distinct _realm, _hold_from, _hold_to from ({query}) order by all"
        ).fetchall()
        return count, [_row(columns, r) for r in rows], _merge(spans)

    # --- raw sources ------------------------------------------------------------------

    def _raw_rows(self, source: str) -> None:
        """`rows`: every Parquet file under the source's folder that dbt would read and
        this run bills, each row with its file, row number, partition date, landing date
        and how its file's schema differs from landing's (worked out once per file, in
        `files`)."""
        reference = self._reference(source)
        files = self._billed_files(source)
        listed = ", ".join(_sql_string(p) for p in [reference, *files])
        _, ts_column = SOURCES[source]
        root = str(self.settings.raw / source) + os.sep
        self.con.execute(
            f"""
            create or replace temp table files as
            with expected as (
                select name, coalesce(converted_type, type) as type
                from parquet_schema({_sql_string(reference)})
            ),
            found as (
                select file_name, name, coalesce(converted_type, type) as type
                from parquet_schema([{listed}])
            ),
            problems as (
                select
                    names.file_name,
                    string_agg(expected.name || ' is ' || coalesce(found.type, 'missing')
                        || ', landing writes ' || expected.type, '; ' order by expected.name)
                        as _schema_mismatch
                from (select distinct file_name from found) as names
                cross join expected
                left join found
                    on found.file_name = names.file_name and found.name = expected.name
                where found.type is distinct from expected.type
                group by names.file_name
            )
            select
                names.file_name as filename,
                replace(names.file_name, {_sql_string(root)}, '') as _file,
                try_cast(regexp_extract(names.file_name, {_sql_string(_IN_DAY)}, 1) as date)
                    as _partition_date,
                problems._schema_mismatch
            from (select distinct file_name from found) as names
            left join problems using (file_name);

            create or replace temp view rows as
            select
                raw.*,
                files._file,
                raw.file_row_number as _row,
                files._partition_date,
                -- a row outside any date= folder is in no partition: as far off as can be
                coalesce(utc_date(raw.{ts_column}) - files._partition_date, 2147483647)
                    as _partition_offset_days,
                utc_date(raw._landed_at) as _landed_date,
                files._schema_mismatch
            from read_parquet([{listed}], union_by_name = true, filename = true,
                              file_row_number = true) as raw
            join files using (filename)
            """
        )

    def _reference(self, source: str) -> Path:
        """An empty file in the landed schema of `source`: what every file must match."""
        path = self.settings.quality / "schemas" / f"{source}.parquet"
        schema = landed_schema(source)
        if not path.exists() or not pq.read_schema(path).equals(schema):
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            pq.write_table(schema.empty_table(), tmp)
            tmp.replace(path)
        return path

    def _billed_files(self, source: str) -> list[Path]:
        """The files dbt reads (every *.parquet under the source's folder but the empty
        schema file) in folders whose day this run bills, in folders that are no day, or
        in folders written since the run's first billed day (late usage, copied files)."""
        folder = self.settings.raw / source
        if not folder.is_dir():
            return []
        since = datetime.combine(self.first_day, time(), UTC).timestamp()
        billed: dict[Path, bool] = {}
        files = []
        for path in sorted(folder.rglob("*.parquet")):
            if path.parent == folder and path.name == "_schema.parquet":
                continue
            if path.parent not in billed:
                billed[path.parent] = self._billed(path.parent, since)
            if billed[path.parent]:
                files.append(path)
        return files

    def _billed(self, directory: Path, since: float) -> bool:
        """Whether this run bills the files of `directory` (see `_billed_files`)."""
        match = _DAY.search(directory.name)
        if match is None:
            return True
        try:
            day = date.fromisoformat(match.group(1))
        except ValueError:
            return True
        return self.first_day <= day < self.last or directory.stat().st_mtime >= since

    # --- marts ------------------------------------------------------------------------

    def _mart_rows(self, contract: Contract) -> None:
        """`rows`: the mart's Parquet file, each row with how its columns differ from the
        contract's."""
        path = self.settings.marts / f"{contract.source}.parquet"
        if not path.exists():
            raise FrameError(f"{contract.asset}: {path} does not exist; build it with `jet rate`")
        described = self.con.execute(f"describe select * from read_parquet({_sql_string(path)})")
        found = {name: kind for name, kind, *_ in described.fetchall()}
        problems = [
            f"{name} is {found.get(name, 'missing')}, the contract says {kind}"
            for name, kind in contract.columns
            if found.get(name) != kind
        ]
        mismatch = _sql_string("; ".join(problems)) if problems else "null"
        self.con.execute(
            f"create or replace temp view rows as select *, cast({mismatch} as varchar) "
            f"as _schema_mismatch from read_parquet({_sql_string(path)})"
        )


def _merge(spans: list[tuple]) -> list[Hold]:
    """Overlapping or adjacent bill-date ranges of a realm, merged."""
    by_realm: dict[str | None, list[tuple[date, date]]] = defaultdict(list)
    for realm, first, last in spans:
        by_realm[realm].append((first, last))
    holds = []
    for realm, ranges in by_realm.items():
        ranges.sort()
        current = list(ranges[0])
        for first, last in ranges[1:]:
            if first <= current[1] + timedelta(days=1):
                current[1] = max(current[1], last)
            else:
                holds.append(Hold(realm, *current))
                current = [first, last]
        holds.append(Hold(realm, *current))
    return holds


def _row(columns: list[str], values: tuple) -> dict:
    return dict(zip(columns, (_plain(v) for v in values), strict=True))


def _plain(value):
    """A value as JSON and a person read it."""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    return value


def _sql_string(value) -> str:
    return "'" + str(value).replace("'", "''") + "'"
