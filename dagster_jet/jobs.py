from dagster import AssetSelection, define_asset_job

from dagster_jet.partitions import bill_dates
from schemas.raw import SOURCES

# Snapshot and rate, with every check on what that reads: the data contracts on the raw
# sources too (dagster_jet/checks.py), which these jobs read but do not materialize;
# then announce the usage warnings the new marts show.
billing_path = AssetSelection.groups(
    "operational", "staging", "intermediate", "marts", "alerts"
) | AssetSelection.checks_for_assets(*(f"raw_{source}" for source in SOURCES))

# Rate, issue and render the invoices of a bill date (or a range, in one run).
billing_cycle_job = define_asset_job(
    "billing_cycle",
    selection=billing_path | AssetSelection.groups("invoicing"),
    partitions_def=bill_dates,
)

# Refresh the marts (usage and draft invoices) without issuing anything.
rating_job = define_asset_job("rating", selection=billing_path, partitions_def=bill_dates)
