"""Report models are built on the warehouse a billing or rating run left: a home without
one is told what to run first, before dbt is started."""

from __future__ import annotations

import pytest

from jet.warehouse import WarehouseError, build_on_demand


def test_a_home_with_no_billing_run_is_told_to_bill_or_rate_first(settings) -> None:
    with pytest.raises(WarehouseError, match=r"no billing or rating run yet.*`jet bill`"):
        build_on_demand(settings, ["rpt_revenue"])
    assert not settings.warehouse.exists()
