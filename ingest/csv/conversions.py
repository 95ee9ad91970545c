"""A usage file's text columns to exact quantities and UTC timestamps, whole columns at a
time, with what is wrong with each value that cannot be converted.

Quantities are scaled from their unit with integer or decimal arithmetic, never
floats: 1.5 MB is 1,500,000 bytes exactly, 0.3 KiB (307.2 bytes) is refused unless
the profile rounds. Timestamps without an offset are read in the profile's time zone;
a local time that a clock change skips or repeats cannot be placed and is refused.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from schemas.raw import TS

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)  # before that, a timestamp is a broken clock
FUTURE_SLACK = timedelta(days=1)  # a provider's clock may run ahead, a day at most
MAX_QUANTITY = 2**63 - 1  # the warehouse holds quantities as BIGINT
_FRACTION_DIGITS = 30  # 2**-30 GiB, one byte, has 30 decimals
_WHOLE_DIGITS = 25  # with the fraction and a 19-digit factor, within decimal256's 76
_NUMBER = (
    rf"^0*(?P<whole>[0-9]{{1,{_WHOLE_DIGITS}}})"
    rf"(?:\.(?P<fraction>[0-9]{{0,{_FRACTION_DIGITS}}}))?$"
)
_DECIMAL = pa.decimal256(_WHOLE_DIGITS + _FRACTION_DIGITS, _FRACTION_DIGITS)
_ISO_AWARE = "%Y-%m-%dT%H:%M:%S%.f%#z"
_ISO_NAIVE = "%Y-%m-%dT%H:%M:%S%.f"


@dataclass
class Converted:
    """`values` has a null wherever the text could not be converted; each problem is
    (mask of the rows it applies to, what is wrong, with `{value}` for the row's text)."""

    values: pa.Array
    problems: list[tuple[np.ndarray, str]] = field(default_factory=list)


def quantities(text: pa.Array, unit: str, factor: int, base: str, round_: bool) -> Converted:
    """Whole `base` units (bytes, seconds) from decimal text in `unit` (`factor` of them)."""
    text = pc.utf8_trim_whitespace(text)
    empty = as_mask(pc.equal(text, ""))
    # the common case: digits few enough that int64 arithmetic cannot overflow
    digits = math.floor(math.log10(MAX_QUANTITY // factor))
    plain = as_mask(pc.match_substring_regex(text, f"^[0-9]{{1,{digits}}}$"))
    if plain.all():
        return Converted(pc.multiply(text.cast(pa.int64()), factor).cast(pa.uint64()))

    parts = pc.extract_regex(text, _NUMBER)  # null where it is no unsigned decimal
    number = as_mask(pc.is_valid(parts))
    fraction = pc.struct_field(parts, "fraction")
    exact = pc.binary_join_element_wise(
        pc.struct_field(parts, "whole"), pc.if_else(pc.equal(fraction, ""), "0", fraction), "."
    )
    scaled = pc.multiply(exact.cast(_DECIMAL), pa.scalar(factor, pa.decimal256(19, 0)))
    whole = as_mask(pc.equal(scaled, pc.floor(scaled)))
    rounded = pc.round(scaled, 0, round_mode="half_up")
    fits = as_mask(pc.less_equal(rounded, pa.scalar(MAX_QUANTITY, pa.decimal256(19, 0))))
    good = number & fits & (whole | round_)
    values = pc.if_else(pa.array(good), rounded, None).cast(pa.decimal256(19, 0)).cast(pa.uint64())

    negative = as_mask(pc.match_substring_regex(text, r"^-[0-9]+(\.[0-9]*)?$"))
    example = "a number such as 1234 or 12.5 (digits and at most one point)"
    problems = [
        (empty, f"empty, expected {example}, in {unit}"),
        (negative, "{value} is negative"),
        (~number & ~empty & ~negative, f"{{value}} is not {example}"),
        (number & ~fits, f"{{value}} {unit} is more than {MAX_QUANTITY} {base}"),
    ]
    if not round_:
        problems.append(
            (
                number & fits & ~whole,
                f"{{value}} {unit} is not a whole number of {base} (the profile's "
                "`round: true` would round it)",
            )
        )
    return Converted(values, problems)


def timestamps(text: pa.Array, fmt: str, timezone: str, now: datetime) -> Converted:
    """UTC timestamps from text in `fmt` (iso8601, epoch or a strftime format), those
    without an offset read in `timezone`; refused outside [2000-01-01, now + 1 day]."""
    s = pl.from_arrow(text).str.strip_chars()
    empty = s == ""
    naive = pl.repeat(None, len(s), dtype=pl.Datetime("us"), eager=True)
    aware = pl.repeat(None, len(s), dtype=pl.Datetime("us", "UTC"), eager=True)
    if fmt == "epoch":
        seconds = s.str.extract(r"^([0-9]{1,12})$").cast(pl.Int64)
        aware = pl.from_epoch(seconds, time_unit="s").cast(pl.Datetime("us"))
        aware = aware.dt.replace_time_zone("UTC")
        expected = "whole seconds since 1970-01-01 UTC, such as 1785751200"
    elif fmt == "iso8601":
        s = s.str.replace(r"^([0-9]{4}-[0-9]{2}-[0-9]{2}) ", "${1}T")
        aware = s.str.to_datetime(_ISO_AWARE, strict=False, time_unit="us")
        if aware.null_count():  # some have no offset (or are no timestamp at all)
            naive = s.str.to_datetime(_ISO_NAIVE, strict=False, time_unit="us")
        expected = "an ISO 8601 timestamp such as 2026-08-03T10:00:00Z"
    else:
        parsed = s.str.to_datetime(fmt, strict=False, time_unit="us")
        if parsed.dtype == pl.Datetime("us"):  # the format has no %z
            naive = parsed
        else:
            aware = parsed.dt.convert_time_zone("UTC")
        expected = f"a timestamp in the format {fmt!r}"
    local = naive.dt.replace_time_zone(timezone, ambiguous="null", non_existent="null")
    ts = aware.fill_null(local.dt.convert_time_zone("UTC"))
    unreadable = aware.is_null() & naive.is_null() & ~empty
    clock_change = naive.is_not_null() & local.is_null()
    early = ts < EARLIEST
    late = ts > now + FUTURE_SLACK
    in_window = _numpy(~(early | late))
    values = pc.if_else(pa.array(in_window), ts.to_arrow().cast(TS), None)
    problems = [
        (empty, f"empty, expected {expected}"),
        (unreadable, f"{{value}} is not {expected}"),
        (
            clock_change,
            f"{{value}} does not exist or happens twice in {timezone} (a clock change: "
            "the provider should write an offset, or UTC)",
        ),
        (early, f"{{value}} is before {EARLIEST:%Y-%m-%d}: a clock that was not set"),
        (late, "{value} is in the future (more than a day after the import)"),
    ]
    return Converted(values, [(_numpy(mask), message) for mask, message in problems])


def as_mask(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A boolean array as numpy, null as False."""
    return pc.fill_null(values, False).to_numpy(zero_copy_only=False)


def _numpy(mask: pl.Series) -> np.ndarray:
    return mask.fill_null(False).to_numpy()
