from datetime import date

from dagster import AssetExecutionContext, MaterializeResult, asset

from dagster_jet.partitions import bill_dates, single_run
from dagster_jet.resources import JetResource
from jet import dunning
from jet.store.db import session


@asset(group_name="collecting", kinds={"sqlite"}, partitions_def=bill_dates,
       backfill_policy=single_run)  # fmt: skip
def dunning_steps(context: AssetExecutionContext, jet: JetResource) -> MaterializeResult:
    """The dunning ladder as of the run's last day: every step whose day has come, taken
    once per invoice (reminders, late fees, suspensions, closing). Its own job, after the
    night's billing: a backfill of past bill dates bills them without dunning anyone for
    payments recorded since."""
    last = date.fromisoformat(context.partition_key_range.end)
    with session(jet.settings().db_url) as s:
        done = dunning.run(s, last)
    context.log.info(f"dunning as of {last}: {done.taken}")
    return MaterializeResult(
        metadata={**done.taken, "suspended": len(done.suspended), "closed": len(done.closed)}
    )
