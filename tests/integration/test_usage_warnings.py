"""Usage warnings: 80 % and 100 % of a plan's included usage, announced once each by
the rating runs that see them (the fct_usage_allowances mart, then the core's step)."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pytest
from sqlalchemy import select

from ingest.landing import land
from jet.drivers.simulate import load_scenario
from jet.store.db import session
from jet.store.models import Event
from jet.usage_alerts import announce_thresholds
from jet.warehouse import rate

pytestmark = pytest.mark.integration

SCENARIO = """
realm: {id: demo, currency: AUD, tax_rate: "0.10", cycle: fixed_date, cycle_day: 1}
catalog:
  products:
    data:
      type: usage
      metric: bytes_total
      unit: GB
      tiers: [{upto: 10, price: "0"}, {price: "2.50"}]
      tier_mode: graduated
    time: {type: duration, unit: hour, price: "1.00"}
  plans:
    home: {products: [data, time]}
accounts:
  - {id: corp, name: Corp}
  - {id: ann, name: Ann, parent: corp}
  - {id: ben, name: Ben}
subscriptions:
  - {account: ann, plan: home, start: 2026-01-01}
  - {account: ben, plan: home, start: 2026-01-01}
usage:
  - {account: ann, ts: "2026-01-05T08:00:00Z", bytes_in: 7000000000, bytes_out: 1000000000}
  - {account: ben, ts: "2026-01-05T08:00:00Z", bytes_in: 7990000000, bytes_out: 0}
until: 2026-01-20
"""


def warnings(settings) -> list[tuple[str, int, str]]:
    with session(settings.db_url) as s:
        events = s.scalars(select(Event).where(Event.topic == "usage.threshold_crossed"))
        return sorted((e.account_id, e.payload["threshold"], e.payload["used"]) for e in events)


def test_each_crossing_is_announced_once(settings, tmp_path) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_text(SCENARIO)
    until = load_scenario(path, settings)
    rate(settings, until.isoformat(), "run")
    assert announce_thresholds(settings) == 1
    assert warnings(settings) == [("ann", 80, "8")]  # 8 of 10 GB; ben's 7.99 is under 80 %

    assert announce_thresholds(settings) == 0  # the next run sees the same crossing
    more = {
        "account_id": ["ann"],
        "ts": [datetime(2026, 1, 15, tzinfo=UTC)],
        "bytes_in": [2_500_000_000],
        "bytes_out": [0],
        "seconds": [0],
        "source_file": ["more"],
        "source_line": [1],
    }
    land("upstream_csv", pa.table(more), "more", settings.raw)
    rate(settings, until.isoformat(), "run")
    assert announce_thresholds(settings) == 1
    assert warnings(settings) == [("ann", 80, "8"), ("ann", 100, "10.5")]
    with session(settings.db_url) as s:
        [full] = s.scalars(select(Event).where(Event.key.like("%:100")))
        assert full.payload["billing_account"] == "corp" and full.payload["included"] == "10"
        assert full.payload["period_end"] == "2026-02-01"
