"""Where each record of a CSV file starts and ends, found in its bytes.

pyarrow's reader numbers the rows it rejects but not the ones it keeps, and says
nothing about where they were in the file. These spans tie every row back to its
physical line (what an operator looks for in an editor) and to its exact bytes (what a
quarantine file keeps), with one pass of numpy over the file instead of a Python loop.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Records:
    """The non-empty records of a file, in order: what pyarrow's reader turns into rows
    (it skips empty lines, and a quoted value may hold a line break). `start` and `end`
    are byte offsets (the end excludes the line break), `line` the 1-based line on
    which each record starts."""

    start: np.ndarray
    end: np.ndarray
    line: np.ndarray

    def __len__(self) -> int:
        return self.start.size


def find_records(data: bytes) -> Records:
    """The records of `data`, a CSV file in an encoding that writes `\\n`, `\\r` and `"`
    as those ASCII bytes (UTF-8, Latin-1, Windows-1252)."""
    raw = np.frombuffer(data, dtype=np.uint8)
    if raw.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Records(empty, empty, empty)
    cr, lf = raw == 13, raw == 10
    lone_cr = cr & ~np.append(lf[1:], False)  # a bare \r ends a line too
    lines_end = np.flatnonzero(lf | lone_cr)
    # a line end inside quotes is part of a value; "" inside quotes counts twice, so the
    # parity of the quotes before a line end tells
    quotes = np.flatnonzero(raw == 34)
    breaks = lines_end[np.searchsorted(quotes, lines_end) % 2 == 0]
    starts = np.concatenate(([0], breaks + 1))
    ends = np.concatenate((breaks, [raw.size]))
    # a record ended by \r\n does not count its \r
    crlf = (ends < raw.size) & (ends > starts)
    crlf[crlf] = cr[ends[crlf] - 1] & lf[ends[crlf]]
    ends = ends - crlf
    keep = ends > starts
    starts, ends = starts[keep], ends[keep]
    return Records(starts, ends, np.searchsorted(lines_end, starts) + 1)
