"""One asset per raw source: the lake's day partitions that collectors land into."""

import pyarrow.parquet as pq
from dagster import AssetExecutionContext, AssetsDefinition, MaterializeResult, asset

from dagster_jet.partitions import bill_dates
from dagster_jet.resources import JetResource
from ingest.landing import recover
from schemas.raw import SOURCES


def raw_source_asset(source: str) -> AssetsDefinition:
    @asset(name=f"raw_{source}", group_name="raw", kinds={"parquet"}, partitions_def=bill_dates)
    def _raw(context: AssetExecutionContext, jet: JetResource) -> MaterializeResult:
        """Landed usage of one source for one day: clears what an interrupted write left,
        then reports the acknowledged batches and rows of the day's partition."""
        settings = jet.settings()
        removed = recover(settings.raw)
        day = settings.raw / source / f"date={context.partition_key}"
        files = sorted(day.glob("*.parquet"))
        rows = sum(pq.ParquetFile(f).metadata.num_rows for f in files)
        return MaterializeResult(
            metadata={"rows": rows, "batches": len(files), "leftovers_removed": len(removed)}
        )

    _raw.__doc__ = f"Raw {source} usage as landed, one day per partition."
    return _raw


raw_assets = [raw_source_asset(source) for source in SOURCES]
