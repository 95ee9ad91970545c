from dagster import AssetSelection, define_asset_job

from dagster_jet.partitions import bill_dates

billing_path = AssetSelection.groups("operational", "staging", "intermediate", "marts")

# Rate, issue and render the invoices of a bill date (or a range, in one run).
billing_cycle_job = define_asset_job(
    "billing_cycle",
    selection=billing_path | AssetSelection.groups("invoicing"),
    partitions_def=bill_dates,
)

# Refresh the marts (usage and draft invoices) without issuing anything.
rating_job = define_asset_job("rating", selection=billing_path, partitions_def=bill_dates)
