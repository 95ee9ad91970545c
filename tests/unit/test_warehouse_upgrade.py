"""A warehouse built by other SQL of the incremental models is started over, not reused:
dbt appends to an incremental table as it stands and cannot migrate its columns."""

from __future__ import annotations

import duckdb

from jet.warehouse import start_over_if_models_changed


def test_a_warehouse_of_other_models_is_rebuilt_and_one_of_these_is_kept(settings) -> None:
    settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(settings.warehouse)) as con:  # as an older Jet left it
        con.execute("create table int_usage_by_cycle (subscription_id integer)")
    start_over_if_models_changed(settings)
    assert not settings.warehouse.exists()

    with duckdb.connect(str(settings.warehouse)) as con:  # built by these models
        con.execute("create table int_usage_by_cycle (account_id varchar)")
    start_over_if_models_changed(settings)
    assert settings.warehouse.exists()

    stamp = settings.warehouse.with_name(settings.warehouse.name + ".models")
    stamp.write_text("digest of other SQL")
    start_over_if_models_changed(settings)
    assert not settings.warehouse.exists()
