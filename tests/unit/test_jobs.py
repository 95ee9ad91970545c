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


def _assets(job: str) -> set[str]:
    keys = defs.resolve_job_def(job).asset_layer.selected_asset_keys
    return {k.path[-1] for k in keys}


def _report_checks() -> set:
    return {k for k in warehouse_models.check_keys if k.asset_key.path[-1].startswith("rpt_")}


def _lineage_checks() -> set:
    return {
        k for k in warehouse_models.check_keys if k.asset_key.path[-1] == "fct_invoice_line_sources"
    }


def test_the_other_dbt_tests_run_on_their_own():
    checks = _checks("warehouse_tests")
    assert checks == (
        warehouse_models.check_keys
        - _checks("billing_cycle")
        - _report_checks()
        - _lineage_checks()
    )
    assert not defs.resolve_job_def("warehouse_tests").asset_layer.selected_asset_keys


def test_report_models_are_built_by_the_reports_job_not_by_billing_or_rating():
    reports = {k.path[-1] for k in warehouse_models.keys if k.path[-1].startswith("rpt_")}
    assert {"rpt_revenue", "rpt_mrr_movements", "rpt_tax_collected"} <= reports
    for job in ("billing_cycle", "rating", "warehouse_tests"):
        assert not {name for name in _assets(job) if name.startswith("rpt_")}, job
        assert not _checks(job) & _report_checks(), job
    assert {name for name in _assets("reports") if name.startswith("rpt_")} == reports
    assert _checks("reports") == _report_checks()


def test_lineage_is_built_by_its_own_job_not_by_billing_rating_or_reports():
    assert _lineage_checks()
    for job in ("billing_cycle", "rating", "warehouse_tests", "reports"):
        assert "fct_invoice_line_sources" not in _assets(job), job
        assert not _checks(job) & _lineage_checks(), job
    assert _assets("lineage") == {"fct_invoice_line_sources"}
    assert _checks("lineage") == _lineage_checks()
