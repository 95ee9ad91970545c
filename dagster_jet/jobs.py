from dagster import AssetSelection, define_asset_job

from dagster_jet.assets.reporting import monthly_report_mail, weekly_report_mail
from dagster_jet.assets.warehouse import warehouse_models
from dagster_jet.partitions import bill_dates, report_months, report_weeks
from schemas.raw import SOURCES

# The marts invoices are drafted from (jet.invoicing reads them): their dbt tests run in
# every billing and rating run, before anything is issued. What the other tests guard
# shows in these (a key duplicated upstream is a duplicated line key here) or is held by
# the store's constraints and the data contracts (docs/decisions.md, Orchestration).
INVOICE_MARTS = ("fct_invoice_lines", "fct_invoice_drafts")
invoice_tests = AssetSelection.checks(
    *(k for k in warehouse_models.check_keys if k.asset_key.path[-1] in INVOICE_MARTS)
)
# The tests of the models built on demand (reports, lineage) run where those are built
# (their jobs, `jet report run`, `jet invoice explain`): a home that never built a report
# has no rpt_ relation for a nightly test to read.
ON_DEMAND = ("rpt_", "fct_invoice_line_sources")
on_demand_tests = AssetSelection.checks(
    *(k for k in warehouse_models.check_keys if k.asset_key.path[-1].startswith(ON_DEMAND))
)
other_tests = AssetSelection.checks(warehouse_models) - invoice_tests - on_demand_tests

# Snapshot and rate, with the invoice marts' dbt tests and every other check on what that
# reads: the data contracts on the raw sources too (dagster_jet/checks.py), which these
# jobs read but do not materialize; then announce the usage warnings the new marts show
# and deduct prepaid usage.
billing_path = (
    AssetSelection.groups("operational", "staging", "intermediate", "marts", "alerts", "prepaid")
    | AssetSelection.checks_for_assets(*(f"raw_{source}" for source in SOURCES))
) - other_tests

# Rate, issue and render the invoices of a bill date (or a range, in one run).
billing_cycle_job = define_asset_job(
    "billing_cycle",
    selection=billing_path | AssetSelection.groups("invoicing"),
    partitions_def=bill_dates,
)

# Refresh the marts (usage and draft invoices) without issuing anything.
rating_job = define_asset_job("rating", selection=billing_path, partitions_def=bill_dates)

# The other dbt data tests (not the on-demand models'), on the warehouse the last run built; nothing
# is rebuilt.
warehouse_tests_job = define_asset_job("warehouse_tests", selection=other_tests)

# Each day's dunning ladder (jet.dunning), after the night's billing.
dunning_job = define_asset_job(
    "dunning", selection=AssetSelection.groups("collecting"), partitions_def=bill_dates
)

# The report models, with their dbt tests, on what the last rating run left.
report_models = AssetSelection.groups("reports") - AssetSelection.assets(
    monthly_report_mail, weekly_report_mail
)
reports_job = define_asset_job("reports", selection=report_models)

# Build the report models, then write and announce each realm's scheduled reports.
monthly_reports_job = define_asset_job(
    "monthly_reports",
    selection=report_models | AssetSelection.assets(monthly_report_mail),
    partitions_def=report_months,
)
weekly_reports_job = define_asset_job(
    "weekly_reports",
    selection=report_models | AssetSelection.assets(weekly_report_mail),
    partitions_def=report_weeks,
)

# Each metered invoice line's records (fct_invoice_line_sources), on what the last rating
# run left: for analysts who query lineage in SQL; `jet invoice explain` builds it itself.
lineage_job = define_asset_job("lineage", selection=AssetSelection.groups("lineage"))
