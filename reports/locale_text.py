"""Money, numbers and dates as a realm's locale writes them (babel), remembered: a billing
run prints the same prices, periods and dates on thousands of invoices, and babel parses
its pattern and looks up the locale's data on every call."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import lru_cache

from babel.dates import format_date, format_interval
from babel.numbers import format_currency, format_decimal


@lru_cache(maxsize=4096)
def money(amount: str, currency: str, locale: str, pattern: str | None = None) -> str:
    """`amount` (a Decimal's text, already rounded) in `currency`: with its sign
    ("$72.69", "1.234,50 €"), or as `pattern` says."""
    return format_currency(Decimal(amount), currency, format=pattern, locale=locale)


@lru_cache(maxsize=4096)
def number(value: str, pattern: str, locale: str) -> str:
    """`value` (a Decimal's text) as `pattern` says, with the locale's separators."""
    return format_decimal(Decimal(value), format=pattern, locale=locale)


@lru_cache(maxsize=1024)
def day(value: date, locale: str) -> str:
    """A date, medium length: "1 Oct 2026", "01.10.2026"."""
    return format_date(value, "medium", locale=locale)


@lru_cache(maxsize=1024)
def days(start: date, last: date, locale: str) -> str:
    """From `start` to `last`, both shown: "1–30 Sept 2026"."""
    if start == last:
        return day(start, locale)
    return format_interval(start, last, "yMMMd", locale=locale)
