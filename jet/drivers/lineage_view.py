"""`jet invoice explain` on the terminal and as JSON: each line's pricing, then the
records behind a metered line and what they add up to."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path
from typing import Any

from jet.drivers.console import console, print_fields, print_table
from reports.invoice_lineage import Explanation, LineExplained


def _pricing(e: LineExplained) -> list[tuple[str, Any]]:
    """How the line was priced: the catalog version, then the product's price or tiers."""
    p, line = e.product, e.line
    fields: list[tuple[str, Any]] = [
        ("period", f"{line.period_start} to {line.period_end}"),
        ("quantity", line.quantity),
        ("amount", line.amount),
        ("catalog", f"version from {e.catalog_from}" if e.catalog_from else "none (not a plan's)"),
    ]
    if p is not None:
        fields.append(("product", f"{p.id} ({p.type}{', ' + p.unit if p.unit else ''})"))
        if p.tiers:
            bands = [
                f"{'up to ' + str(t.upto) if t.upto is not None else 'above'}: {t.price}"
                for t in p.tiers
            ]
            fields.append((f"tiers ({p.tier_mode})", "; ".join(bands)))
        elif p.price is not None:
            fields.append(("price", f"{p.price}{' per ' + p.unit if p.unit else ''}"))
    if (days := e.pro_rata_days) is not None:
        start, end = e.full_period
        fields.append(("pro rata", f"{days[0]} of {days[1]} days of {start} to {end}"))
    if e.records_quantity is not None:
        fields.append(("records", f"{len(e.records):,}: {e.base_quantity:,} base units"))
        fields.append(("records add up to", e.records_quantity))
    return fields


def print_explanation(found: Explanation, lake: Path) -> None:
    inv = found.invoice
    console.print(
        f"[bold]{inv.number}[/bold]  {inv.account_id}  bill date {inv.bill_date}  "
        f"{inv.currency} {inv.total}"
    )
    for e in found.lines:
        print_fields(f"line {e.position}: {e.line.description}", _pricing(e))
        if e.records:
            print_table(
                None,
                ["source", "from", "time (UTC)", "landed record", "adds"],
                (
                    (
                        r.source,
                        r.collector,
                        r.ts.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
                        f"{_in_lake(r.landed_file, lake)} row {r.file_row}",
                        f"{r.base_quantity:,}",
                    )
                    for r in e.records
                ),
            )


def _in_lake(path: str, lake: Path) -> str:
    """A landed file as a path in the lake (raw/<source>/date=.../<batch>.parquet)."""
    return str(Path(path).relative_to(lake)) if Path(path).is_relative_to(lake) else path


def explanation_json(found: Explanation) -> dict[str, Any]:
    inv = found.invoice
    return {
        "invoice": inv.number,
        "account": inv.account_id,
        "bill_date": inv.bill_date,
        "lines": [
            {
                "line": e.position,
                "description": e.line.description,
                "kind": e.line.kind,
                "quantity": str(e.line.quantity),
                "amount": str(e.line.amount),
                "pricing": {name: str(value) for name, value in _pricing(e)},
                "unit_divisor": e.unit_divisor,
                "records_quantity": None if e.records_quantity is None else str(e.records_quantity),
                "records": [
                    {
                        "source": r.source,
                        "collector": r.collector,
                        "ts": r.ts,
                        "landed_at": r.landed_at,
                        "batch": r.batch_id,
                        "file": r.landed_file,
                        "row": r.file_row,
                        "base_quantity": r.base_quantity,
                    }
                    for r in e.records
                ],
            }
            for e in found.lines
        ],
    }
