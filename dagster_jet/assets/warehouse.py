"""The dbt project as assets: groups from model folders, lineage to the raw and ops assets."""

from collections.abc import Mapping
from typing import Any

from dagster import AssetExecutionContext, AssetKey, AssetSpec
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from dagster_jet.partitions import bill_dates, single_run
from dagster_jet.resources import JetResource, dbt_manifest
from jet.warehouse import dbt_target, write_as_of

# The ops staging models read the snapshot through a macro, not a dbt source: this names
# the asset they read, so lineage stays whole.
STAGING_READS = {"stg_ops__": "ops_snapshot"}


class JetTranslator(DagsterDbtTranslator):
    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project) -> AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        source = manifest["sources"].get(unique_id)
        if source is not None:  # dbt source raw.radius is the asset raw_radius
            key = AssetKey(f"{source['source_name']}_{source['name']}")
            return spec.replace_attributes(key=key)
        node = manifest["nodes"].get(unique_id) or {}
        folder = (
            (node.get("fqn") or ["", "dbt"])[1] if node.get("resource_type") == "model" else "dbt"
        )
        reads = [
            AssetKey(key)
            for prefix, key in STAGING_READS.items()
            if node.get("name", "").startswith(prefix)
        ]
        return spec.replace_attributes(group_name=folder, kinds={"dbt", "duckdb"}).merge_attributes(
            deps=reads
        )


@dbt_assets(
    manifest=dbt_manifest(),
    dagster_dbt_translator=JetTranslator(),
    partitions_def=bill_dates,
    backfill_policy=single_run,
)
def warehouse_models(context: AssetExecutionContext, dbt: DbtCliResource, jet: JetResource):
    """Staging, rating and billing marts, rated up to the last bill date of the run.

    The data tests run, the unit tests do not: they check the SQL against fixed rows, so
    they pass or fail with the code, not the data; the test suite and `jet simulate` run
    them, and here they cost a quarter of dbt's work. Artifacts go to JET_HOME's dbt
    target, as every Jet dbt run's do (dagster-dbt's default, a new folder in the source
    tree per run, is 7 MB a run that nothing removes)."""
    settings = jet.settings()
    write_as_of(settings, context.partition_key_range.end)
    yield from dbt.cli(
        ["build", "--exclude-resource-type", "unit_test"],
        context=context,
        target_path=dbt_target(settings),
    ).stream()
