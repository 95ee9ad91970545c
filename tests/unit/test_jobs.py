"""Which dbt data tests each job runs (docs/decisions.md, Orchestration)."""

from dagster_jet.assets.warehouse import warehouse_models
from dagster_jet.checks import data_contracts
from dagster_jet.definitions import defs
from dagster_jet.freshness import raw_sources_delivering


def _checks(job: str) -> set:
    return set(defs.resolve_job_def(job).asset_layer.asset_graph.asset_check_keys)


def test_billing_runs_the_invoice_marts_dbt_tests_and_every_other_check():
    dbt_tests = warehouse_models.check_keys
    for job in ("billing_cycle", "rating"):
        checks = _checks(job)
        assert {k.asset_key.path[-1] for k in checks & dbt_tests} == {
            "fct_invoice_lines",
            "fct_invoice_drafts",
        }
        assert data_contracts.check_keys | raw_sources_delivering.check_keys <= checks


def test_the_other_dbt_tests_run_on_their_own():
    checks = _checks("warehouse_tests")
    assert checks == warehouse_models.check_keys - _checks("billing_cycle")
    assert not defs.resolve_job_def("warehouse_tests").asset_layer.selected_asset_keys
