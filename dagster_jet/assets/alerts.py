from dagster import AssetExecutionContext, AssetKey, MaterializeResult, asset

from dagster_jet.partitions import bill_dates, single_run
from dagster_jet.resources import JetResource
from jet.usage_alerts import announce_thresholds


@asset(
    group_name="alerts",
    kinds={"sqlite"},
    partitions_def=bill_dates,
    backfill_policy=single_run,
    deps=[AssetKey("fct_usage_allowances")],
)
def usage_warnings(context: AssetExecutionContext, jet: JetResource) -> MaterializeResult:
    """A usage.threshold_crossed event for each account that reached 80 % or 100 % of its
    plan's included usage in a cycle, once per account, product, cycle and threshold,
    whichever rating run first sees it (the hourly one, usually, before the bill)."""
    announced = announce_thresholds(jet.settings())
    context.log.info(f"announced {announced} usage threshold crossings")
    return MaterializeResult(metadata={"announced": announced})
