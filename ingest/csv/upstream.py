"""Usage CSV files from upstream providers, read into the UPSTREAM_CSV schema and landed.

The format (one file per delivery, header first)::

    account_id,timestamp,bytes_in,bytes_out,seconds
    acme-00042,2026-08-03T10:00:00Z,1834221,220113,3600

`bytes_in` is what the user received and `bytes_out` what the user sent, as in the
rating models; timestamps are ISO-8601 with a zone (`Z` or an offset). Every row keeps
its file name and physical line number, so a charge can be traced back to the line
that caused it. A file with any bad row is refused whole (a ValueError naming the
file, line and column): billing half a delivery is worse than billing none. Mapping
profiles for other layouts and row quarantine belong to a fuller importer.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from ingest.landing import LandingResult, content_batch_id, land
from schemas.raw import TS, UPSTREAM_CSV

COLUMNS = ("account_id", "timestamp", "bytes_in", "bytes_out", "seconds")
_COUNTERS = ("bytes_in", "bytes_out", "seconds")
_UINT64_MAX = str(2**64 - 1)


def read_upstream_csv(path: Path) -> pa.Table:
    """Read one upstream usage file into the UPSTREAM_CSV schema, or raise ValueError."""
    path = Path(path)
    return _parse(path.read_bytes(), path)


def import_upstream_csv(path: Path, raw_root: Path) -> LandingResult:
    """Land one upstream file; the batch id comes from its bytes, so a re-import lands once."""
    path = Path(path)
    data = path.read_bytes()  # hash and parse the same bytes, even if the file changes
    table = _parse(data, path)
    return land("upstream_csv", table, content_batch_id("csv-", data), Path(raw_root))


def _parse(data: bytes, path: Path) -> pa.Table:
    lines = _record_lines(data)
    invalid: list[pcsv.InvalidRow] = []

    def on_invalid(row: pcsv.InvalidRow) -> str:
        invalid.append(row)
        return "error"

    try:
        table = pcsv.read_csv(
            io.BytesIO(data),
            # one thread, so InvalidRow.number is set and maps to a line
            read_options=pcsv.ReadOptions(use_threads=False),
            parse_options=pcsv.ParseOptions(invalid_row_handler=on_invalid),
            convert_options=pcsv.ConvertOptions(
                column_types={name: pa.string() for name in COLUMNS},
                strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid as exc:
        if invalid:
            row = invalid[0]
            where = f"line {lines[row.number - 1]}" if row.number else "a row"
            raise ValueError(
                f"{path}: {where}: expected {row.expected_columns} columns "
                f"({','.join(COLUMNS)}), got {row.actual_columns}: {row.text!r}"
            ) from None
        if "Empty CSV file" in str(exc):
            raise ValueError(
                f"{path}: the file is empty; expected the header line {','.join(COLUMNS)}"
            ) from None
        raise ValueError(f"{path}: not a readable CSV file: {exc}") from None

    header = [name.strip() for name in table.column_names]
    if sorted(header) != sorted(COLUMNS):
        raise ValueError(
            f"{path}: line 1: the header must name the columns {','.join(COLUMNS)}, "
            f"got {','.join(table.column_names)}"
        )
    table = table.rename_columns(header)
    n = table.num_rows
    # row k of the table is the (k + 2)-th non-empty line: the header is the first
    line_numbers = lines[1 : n + 1]

    columns: dict[str, pa.Array] = {}
    problems: list[tuple[int, str, str, str]] = []  # (row, column, value, expected)

    account = table.column("account_id").combine_chunks()
    bad = _first(pc.equal(pc.utf8_trim_whitespace(account), ""))
    if bad is not None:
        problems.append((bad, "account_id", account[bad].as_py(), "an account id"))
    columns["account_id"] = account

    stamps = table.column("timestamp").combine_chunks()
    expected = "an ISO-8601 timestamp with a zone such as 2026-08-03T10:00:00Z"
    bad = _first_failing(stamps, lambda a: a.cast(TS))
    if bad is not None:
        problems.append((bad, "timestamp", stamps[bad].as_py(), expected))
    else:
        columns["ts"] = stamps.cast(TS)

    for name in _COUNTERS:
        values = table.column(name).combine_chunks()
        expected = "a whole number of 0 or more (digits only)"
        bad = _first(pc.invert(pc.match_substring_regex(values, r"^[0-9]+$")))
        if bad is None:
            bad = _first_failing(values, lambda a: a.cast(pa.uint64()))
            expected = f"a whole number up to {_UINT64_MAX}"
        if bad is not None:
            problems.append((bad, name, values[bad].as_py(), expected))
        else:
            columns[name] = values.cast(pa.uint64())

    if problems:
        row, column, value, expected = min(problems)
        raise ValueError(
            f"{path}: line {line_numbers[row]}, column {column}: expected {expected}, "
            f"got {value!r}; nothing from this file was imported"
        )
    columns["source_file"] = pa.array(np.full(n, path.name, dtype=object), pa.string())
    columns["source_line"] = pa.array(line_numbers, pa.uint32())
    return pa.Table.from_arrays([columns[f.name] for f in UPSTREAM_CSV], schema=UPSTREAM_CSV)


def _record_lines(data: bytes) -> np.ndarray:
    """The 1-based line on which each non-empty record starts: the records the CSV reader
    turns into rows (it skips empty lines, and a quoted value may hold a line break)."""
    raw = np.frombuffer(data, dtype=np.uint8)
    if raw.size == 0:
        return np.zeros(0, dtype=np.int64)
    cr, lf = raw == 13, raw == 10
    lone_cr = cr & ~np.append(lf[1:], False)  # a bare \r ends a line too
    lines_end = np.flatnonzero(lf | lone_cr)
    quotes = np.cumsum(raw == 34)  # "" inside quotes counts twice, so parity holds
    breaks = lines_end[quotes[lines_end] % 2 == 0]
    starts = np.concatenate(([0], breaks + 1))
    ends = np.concatenate((breaks, [raw.size]))
    length = ends - starts
    # a record ended by \r\n does not count its \r
    crlf = (ends < raw.size) & (ends > starts)
    crlf[crlf] = cr[ends[crlf] - 1] & lf[ends[crlf]]
    length -= crlf
    return np.searchsorted(lines_end, starts[length > 0]) + 1


def _first(mask: pa.Array) -> int | None:
    """Index of the first true value, or None."""
    hits = np.flatnonzero(mask.to_numpy(zero_copy_only=False))
    return int(hits[0]) if hits.size else None


def _first_failing(values: pa.Array, convert: Callable[[pa.Array], pa.Array]) -> int | None:
    """Index of the first value `convert` refuses, by halving: a few whole-array casts
    instead of a Python call per row."""
    try:
        convert(values)
        return None
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    lo, hi = 0, len(values)  # the first failure is in values[lo:hi]
    while hi - lo > 1:
        mid = (lo + hi) // 2
        try:
            convert(values.slice(lo, mid - lo))
            lo = mid
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            hi = mid
    return lo
