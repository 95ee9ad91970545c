"""Assembles Jet's assets, jobs, schedules and resources; nothing is defined here."""

from dagster import Definitions

from dagster_jet.assets.alerts import usage_warnings
from dagster_jet.assets.collecting import dunning_steps
from dagster_jet.assets.invoicing import (
    invoice_emails,
    invoice_pdfs,
    issued_invoices,
    receipt_pdfs,
    statement_pdfs,
)
from dagster_jet.assets.ops import ops_snapshot
from dagster_jet.assets.prepaid import prepaid_deductions
from dagster_jet.assets.raw import raw_assets
from dagster_jet.assets.reporting import monthly_report_mail, weekly_report_mail
from dagster_jet.assets.warehouse import warehouse_models
from dagster_jet.checks import data_contracts
from dagster_jet.freshness import raw_sources_delivering
from dagster_jet.jobs import (
    billing_cycle_job,
    dunning_job,
    lineage_job,
    monthly_reports_job,
    rating_job,
    reports_job,
    warehouse_tests_job,
    weekly_reports_job,
)
from dagster_jet.resources import resources
from dagster_jet.schedules import (
    billing_cycle_schedule,
    dunning_schedule,
    hourly_rating_schedule,
    monthly_reports_schedule,
    warehouse_tests_schedule,
    weekly_reports_schedule,
)

defs = Definitions(
    assets=[
        ops_snapshot,
        *raw_assets,
        warehouse_models,
        usage_warnings,
        prepaid_deductions,
        issued_invoices,
        invoice_pdfs,
        invoice_emails,
        receipt_pdfs,
        statement_pdfs,
        dunning_steps,
        monthly_report_mail,
        weekly_report_mail,
    ],
    asset_checks=[raw_sources_delivering, data_contracts],
    jobs=[
        billing_cycle_job,
        rating_job,
        warehouse_tests_job,
        dunning_job,
        reports_job,
        monthly_reports_job,
        weekly_reports_job,
        lineage_job,
    ],
    schedules=[
        billing_cycle_schedule,
        hourly_rating_schedule,
        warehouse_tests_schedule,
        dunning_schedule,
        monthly_reports_schedule,
        weekly_reports_schedule,
    ],
    resources=resources(),
)
