"""What `jet invoice explain` shows: how each line of an issued invoice was priced (the
catalog version, the price or tiers, the pro-rata days) and, for a metered line, the
landed records its quantity is the sum of (the lineage mart fct_invoice_line_sources,
built here on demand, as reports are)."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

import duckdb

from jet.catalog import Product
from jet.config import Settings
from jet.errors import JetError
from jet.invoicing import invoice_lines
from jet.realms import catalog_on
from jet.store.db import session
from jet.store.models import Invoice, InvoiceLine, Subscription
from jet.warehouse import build_on_demand, marts

LINEAGE_MART = "fct_invoice_line_sources"
METERED = ("usage", "duration")
_NANO = Decimal("0.000000001")


class ExplainError(JetError):
    """An invoice or line that cannot be explained, with what to do instead."""


@dataclass(frozen=True, slots=True)
class Record:
    """One landed usage record behind a metered line: where it is and what it added."""

    source: str
    collector: str | None
    ts: datetime
    landed_at: datetime
    batch_id: str
    landed_file: str
    file_row: int
    base_quantity: int  # bytes or seconds


@dataclass(frozen=True, slots=True)
class LineExplained:
    position: int  # 1-based, as printed on the invoice
    line: InvoiceLine
    catalog_from: date | None  # the catalog version that priced it
    product: Product | None
    full_period: tuple[date, date] | None  # the whole period a pro-rata line is part of
    unit_divisor: int | None  # base units per billed unit (metered lines)
    records: tuple[Record, ...]

    @property
    def pro_rata_days(self) -> tuple[int, int] | None:
        """(days charged, days in the whole period) when the line covers part of it."""
        if self.full_period is None:
            return None
        charged = (self.line.period_end - self.line.period_start).days
        whole = (self.full_period[1] - self.full_period[0]).days
        return (charged, whole) if charged != whole else None

    @property
    def base_quantity(self) -> int:
        return sum(r.base_quantity for r in self.records)

    @property
    def records_quantity(self) -> Decimal | None:
        """The records' sum in billed units, rounded to 9 places as rating rounds it
        (None for a line that is not metered)."""
        if self.line.kind not in METERED:
            return None
        if not self.records:
            return Decimal(0)
        return (Decimal(self.base_quantity) / self.unit_divisor).quantize(_NANO, ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class Explanation:
    invoice: Invoice
    lines: tuple[LineExplained, ...]


def explain(
    settings: Settings, number: str, position: int | None = None, refresh: bool = True
) -> Explanation:
    """Explain invoice `number`, or only its line at `position`. `refresh` builds the
    lineage mart first from what the last rating run left (else it is read as last
    built)."""
    with session(settings.db_url) as s:
        invoice, lines = invoice_lines(
            s, number, None if position is None else [position], ExplainError
        )
        priced = [(n, line, *_pricing(s, invoice.realm_id, line)) for n, line in lines]
    metered = [line.line_key for _, line, *_ in priced if line.kind in METERED]
    found = _records(settings, metered, refresh) if metered else {}
    return Explanation(
        invoice,
        tuple(
            LineExplained(
                n,
                line,
                catalog_from,
                product,
                _full_period(line, product),
                found.get(line.line_key, (None, ()))[0] if line.kind in METERED else None,
                found.get(line.line_key, (None, ()))[1],
            )
            for n, line, catalog_from, product in priced
        ),
    )


def _pricing(s, realm_id: str, line: InvoiceLine) -> tuple[date | None, Product | None]:
    """The catalog version in effect on the subscription's start (as rating prices it)
    and the line's product in it; (None, None) for a line of no subscription."""
    sub = s.get(Subscription, line.subscription_id) if line.subscription_id else None
    catalog = catalog_on(s, realm_id, sub.start_date) if sub else None
    if catalog is None:
        return None, None
    return catalog.effective_from, catalog.products.get(line.product_id or "")


def _full_period(line: InvoiceLine, product: Product | None) -> tuple[date, date] | None:
    """The whole service period a flat line's days are a part of: the `months` before
    its period's end (refunds and catch-ups end where a period ends)."""
    if (
        product is None
        or product.months is None
        or line.kind not in ("advance", "catch_up", "refund")
    ):
        return None
    end = line.period_end
    year, month = divmod(end.year * 12 + end.month - 1 - product.months, 12)
    start = date(year, month + 1, min(end.day, calendar.monthrange(year, month + 1)[1]))
    return start, end


def _records(
    settings: Settings, line_keys: list[str], refresh: bool
) -> dict[str, tuple[int, tuple[Record, ...]]]:
    """Each metered line's unit divisor and records, read from the lineage mart."""
    if refresh:
        build_on_demand(settings, [LINEAGE_MART])
    con = marts(settings)
    try:
        rows = con.execute(
            f"select line_key, unit_divisor, source, collector, ts, landed_at, batch_id, "
            f"landed_file, file_row, base_quantity from {LINEAGE_MART} "
            "where list_contains($keys, line_key) order by line_key, ts, source, file_row",
            {"keys": line_keys},
        ).fetchall()
    except duckdb.CatalogException as e:
        raise ExplainError(
            f"the lineage mart is not built: run `jet invoice explain` without --no-refresh ({e})"
        ) from e
    finally:
        con.close()
    found: dict[str, tuple[int, list[Record]]] = {}
    for key, divisor, *record in rows:
        found.setdefault(key, (divisor, []))[1].append(Record(*record))
    return {k: (d, tuple(r)) for k, (d, r) in found.items()}
