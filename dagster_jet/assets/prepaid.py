from dagster import AssetExecutionContext, AssetKey, MaterializeResult, asset

from dagster_jet.partitions import bill_dates, single_run
from dagster_jet.resources import JetResource
from jet.prepaid import deduct_usage


@asset(
    group_name="prepaid",
    kinds={"sqlite"},
    partitions_def=bill_dates,
    backfill_policy=single_run,
    deps=[AssetKey("fct_prepaid_usage")],
)
def prepaid_deductions(context: AssetExecutionContext, jet: JetResource) -> MaterializeResult:
    """The rated usage of prepaid accounts that no earlier run deducted, deducted from their
    credit as ledger entries, with the low-balance and no-credit events it causes: every
    rating run (hourly, and before the bill, whose invoices net these out)."""
    written = deduct_usage(jet.settings())
    context.log.info(f"deducted usage from prepaid balances: {written} entries")
    return MaterializeResult(metadata={"deductions": written})
