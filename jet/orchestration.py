"""Running Jet's Dagster jobs in this process, on the instance under JET_HOME, so the
runs show in `dagster dev` afterwards."""

from __future__ import annotations

from datetime import date

from jet.config import Settings

DAGSTER_YAML = "telemetry:\n  enabled: false\n"


def run_job(settings: Settings, job_name: str, first: date, last: date) -> None:
    """Run `job_name` over the bill dates [first, last] as one run; raise if it failed."""
    settings.export()
    config = settings.dagster_home / "dagster.yaml"
    if not config.exists():
        config.write_text(DAGSTER_YAML)
    from dagster import DagsterInstance

    from dagster_jet.definitions import defs

    job = defs.resolve_job_def(job_name)
    with DagsterInstance.get() as instance:
        result = job.execute_in_process(
            instance=instance,
            tags={
                "dagster/asset_partition_range_start": first.isoformat(),
                "dagster/asset_partition_range_end": last.isoformat(),
            },
            raise_on_error=False,
        )
    if not result.success:
        failures = [
            f"{e.step_key}: {e.event_specific_data.error.message.strip()}"
            for e in result.all_events
            if e.is_step_failure and e.event_specific_data and e.event_specific_data.error
        ]
        raise RuntimeError(f"{job_name} {first}..{last} failed: " + "; ".join(failures))
