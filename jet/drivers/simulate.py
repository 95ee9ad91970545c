"""`jet simulate`: bill a scenario file through the production models in a throw-away home.

What a finance analyst uses to try a plan before it goes live; the golden scenarios in
shared/golden are its contract."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa

from ingest.landing import land
from jet.accounts import add_accounts, subscribe
from jet.catalog import load_yaml, parse_realm_and_catalog
from jet.config import Settings
from jet.drafts import draft_invoices
from jet.realms import store_catalog
from jet.store.db import session
from jet.store.models import LineItem
from jet.warehouse import DRAFTS_ONLY, rate, scratch_home

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


def simulate(path: Path) -> list[dict]:
    """Bill every cycle boundary up to the scenario's `until`, running only the models the
    drafts are read from; nothing but dbt's parse cache outlives the call."""
    with scratch_home() as settings:
        until = load_scenario(path, settings)
        rate(settings, until.isoformat(), DRAFTS_ONLY)
        return draft_invoices(settings, until)
