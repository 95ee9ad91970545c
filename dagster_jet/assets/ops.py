from dagster import AssetExecutionContext, MaterializeResult, asset

from dagster_jet.partitions import bill_dates, single_run
from dagster_jet.resources import JetResource
from jet.snapshot import write_snapshot
from jet.store.db import session
from schemas.raw import write_schema_files


@asset(
    group_name="operational",
    kinds={"sqlite", "parquet"},
    partitions_def=bill_dates,
    backfill_policy=single_run,
)
def ops_snapshot(context: AssetExecutionContext, jet: JetResource) -> MaterializeResult:
    """The operational store as Parquet, read in one transaction: dbt's view of accounts,
    catalogs, subscriptions, line items and what was already issued."""
    settings = jet.settings()
    write_schema_files(settings.raw)
    with session(settings.db_url) as s:
        counts = write_snapshot(s, settings.ops_snapshot)
    context.log.info(f"snapshot rows: {counts}")
    return MaterializeResult(metadata={f"rows_{k}": v for k, v in counts.items()})
