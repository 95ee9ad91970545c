"""`jet simulate`: bill a scenario file through the production models in a throw-away home.

What a finance analyst uses to try a plan before it goes live; the golden scenarios in
shared/golden are its contract."""

from __future__ import annotations

import tempfile
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa

from ingest.landing import land
from jet.accounts import add_accounts, subscribe
from jet.catalog import load_yaml, parse_realm_and_catalog
from jet.config import Settings
from jet.money import format_money
from jet.realms import store_catalog
from jet.snapshot import write_snapshot
from jet.store.db import session
from jet.store.models import LineItem
from jet.warehouse import marts, run_dbt
from schemas.raw import write_schema_files

# Scenario catalogs have no effective date: they hold from the beginning of time.
SCENARIO_EFFECTIVE_FROM = date(2000, 1, 1)


def _day(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _ts(value) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(UTC)


def load_scenario(path: Path, settings: Settings) -> date:
    """Put a scenario's realm, catalog, accounts, subscriptions, items and usage into
    `settings`' home, the way production gets them; return its `until` date."""
    source = str(path)
    scenario = load_yaml(path.read_text(), source)
    catalog = parse_realm_and_catalog(
        scenario["realm"], scenario["catalog"], SCENARIO_EFFECTIVE_FROM, source
    )
    settings.export()
    with session(settings.db_url) as s:
        store_catalog(s, catalog, source)
        add_accounts(s, catalog.realm.id, scenario.get("accounts", []))
        for sub in scenario.get("subscriptions", []):
            end = sub.get("end")
            subscribe(
                s, sub["account"], sub["plan"], _day(sub["start"]), _day(end) if end else None
            )
        for n, item in enumerate(scenario.get("line_items", []), start=1):
            s.add(
                LineItem(
                    account_id=item["account"],
                    item_date=_day(item["date"]),
                    description=item["description"],
                    amount=Decimal(str(item["amount"])),
                    taxable=item.get("taxable", True),
                    source=source,
                    source_line=n,
                )
            )
    usage = scenario.get("usage", [])
    write_schema_files(settings.raw)
    if usage:
        table = pa.table(
            {
                "account_id": [u["account"] for u in usage],
                "ts": [_ts(u["ts"]) for u in usage],
                "bytes_in": [int(u.get("bytes_in", 0)) for u in usage],
                "bytes_out": [int(u.get("bytes_out", 0)) for u in usage],
                "seconds": [int(u.get("seconds", 0)) for u in usage],
                "source_file": [source] * len(usage),
                "source_line": list(range(1, len(usage) + 1)),
            }
        )
        land("upstream_csv", table, "scenario", settings.raw)
    return _day(scenario["until"])


def draft_invoices(settings: Settings, until: date | None = None) -> list[dict]:
    """Every draft invoice up to `until` from the published marts, in billing-rules.md shape."""
    con = marts(settings)
    where = f"where bill_date <= date '{until}'" if until else ""
    heads = con.execute(
        f"select billing_account_id, bill_date, currency, minor_units, subtotal, tax, total "
        f"from fct_invoice_drafts {where} order by bill_date, billing_account_id"
    ).fetchall()
    lines = con.execute(
        f"select billing_account_id, bill_date, account_id, product_id, kind, period_start, "
        f"period_end, quantity, amount from fct_invoice_lines {where} and status = 'draft' "
        f"order by account_id, product_id nulls last, kind, period_start"
        if where
        else "select 1 where false"
    ).fetchall()
    by_invoice: dict[tuple, list[dict]] = {}
    for ba, bill, account, product, kind, p_start, p_end, qty, amount in lines:
        by_invoice.setdefault((ba, bill), []).append(
            {
                "account": account,
                "product": product,
                "kind": kind,
                "period_start": p_start.isoformat(),
                "period_end": p_end.isoformat(),
                "quantity": _plain(qty),
                "amount": amount,
            }
        )
    invoices = []
    for ba, bill, currency, places, subtotal, tax, total in heads:
        invoice_lines = by_invoice.get((ba, bill), [])
        for line in invoice_lines:
            line["amount"] = format_money(line["amount"], places)
        invoices.append(
            {
                "account": ba,
                "bill_date": bill.isoformat(),
                "currency": currency,
                "lines": invoice_lines,
                "subtotal": format_money(subtotal, places),
                "tax": format_money(tax, places),
                "total": format_money(total, places),
            }
        )
    return invoices


def _plain(quantity: Decimal) -> str:
    """A quantity without trailing zeros: "25", "1.5", "0.25"."""
    text = f"{quantity.normalize():f}"
    return text


def simulate(path: Path) -> list[dict]:
    """Bill every cycle boundary up to the scenario's `until`; nothing outlives the call."""
    with tempfile.TemporaryDirectory(prefix="jet-simulate-") as home:
        settings = Settings(home=Path(home))
        until = load_scenario(path, settings)
        with session(settings.db_url) as s:
            write_snapshot(s, settings.ops_snapshot)
        run_dbt(settings, "build", as_of=until.isoformat())
        return draft_invoices(settings, until)
