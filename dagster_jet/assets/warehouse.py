"""The dbt project as assets: groups from model folders, lineage to the raw and ops assets."""

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from dagster import AssetExecutionContext, AssetKey, AssetSpec
from dagster_dbt import DagsterDbtTranslator, dbt_assets
from dagster_dbt.asset_utils import DBT_DEFAULT_SELECT, get_subset_selection_for_context
from dagster_dbt.core.dbt_cli_event import DbtCoreCliEventMessage
from dbt_common.events.base_types import EventMsg
from dbt_common.events.functions import msg_to_dict

from dagster_jet.partitions import bill_dates
from dagster_jet.resources import JetResource, dbt_manifest
from jet.warehouse import dbt_failure, dbt_target, invoke_dbt, write_as_of

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
        folder = _group(node)
        reads = [
            AssetKey(key)
            for prefix, key in STAGING_READS.items()
            if node.get("name", "").startswith(prefix)
        ]
        return spec.replace_attributes(group_name=folder, kinds={"dbt", "duckdb"}).merge_attributes(
            deps=reads
        )


def _group(node: Mapping[str, Any]) -> str:
    """A model's group is its folder under models/ (staging, intermediate, marts), but a
    folder under marts/ names a group of its own: marts/reports are the `reports` group,
    which the billing and rating jobs (group `marts`) do not build."""
    if node.get("resource_type") != "model":
        return "dbt"
    fqn = node.get("fqn") or ["", "dbt"]
    return fqn[2] if fqn[1] == "marts" and len(fqn) > 3 else fqn[1]


MANIFEST = json.loads(dbt_manifest().read_text())
TRANSLATOR = JetTranslator()
# dbt's events that carry a node's result, the ones dagster-dbt turns into Dagster events.
RESULT_EVENTS = {"LogModelResult", "LogTestResult"}


@dbt_assets(
    manifest=MANIFEST,
    dagster_dbt_translator=TRANSLATOR,
)
def warehouse_models(context: AssetExecutionContext, jet: JetResource):
    """Staging, rating and billing marts, rated up to the last bill date of the run.

    dbt runs in this process: a subprocess cost an interpreter and dbt's imports, and
    dagster-dbt's own set-up, before dbt started. The job picks the data tests (its
    asset checks; dagster_jet/jobs.py); the unit tests never run here: they check the
    SQL against fixed rows, so they pass or fail with the code, not the data, and the
    test suite runs them. Artifacts go to JET_HOME's dbt target, and dbt's log there as
    JSON lines, as dagster-dbt left them."""
    settings = jet.settings()
    if context.selected_asset_keys:  # a run of data tests alone rates nothing
        write_as_of(settings, _last_bill_date(context))
    selection, indirect = get_subset_selection_for_context(
        context,
        MANIFEST,
        select=DBT_DEFAULT_SELECT,
        exclude=None,
        selector=None,
        dagster_dbt_translator=TRANSLATOR,
        current_dbt_indirect_selection_env=None,
    )
    args = ["--exclude-resource-type", "unit_test", *selection]
    args += ["--indirect-selection", indirect] if indirect else []
    args += ["--log-path", str(dbt_target(settings)), "--log-format-file", "json"]
    results: list[dict] = []

    def collect(event: EventMsg) -> None:  # called from dbt's threads
        if event.info.name in RESULT_EVENTS:
            results.append(msg_to_dict(event))

    context.log.info(f"Running dbt command: dbt build {' '.join(args)}")
    outcome = invoke_dbt(settings, "build", *args, quiet=False, callbacks=[collect])
    for raw in results:
        yield from DbtCoreCliEventMessage(raw, {}).to_default_asset_events(
            MANIFEST, TRANSLATOR, context, dbt_target(settings)
        )
    if not outcome.success:
        raise dbt_failure("build", outcome)


def _last_bill_date(context: AssetExecutionContext) -> str:
    """The run's last bill date; today (UTC) for a run without bill dates (models
    materialized on their own from Dagster's UI, or a scheduled reports run, whose
    partition is the month or week reported), as `jet rate` rates by default."""
    if context.has_partition_key_range and context.job_def.partitions_def == bill_dates:
        return context.partition_key_range.end
    return datetime.now(UTC).date().isoformat()
