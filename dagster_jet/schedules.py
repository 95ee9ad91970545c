from datetime import UTC, datetime

from dagster import (
    RunRequest,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    build_schedule_from_partitioned_job,
    schedule,
)

from dagster_jet.jobs import (
    billing_cycle_job,
    dunning_job,
    monthly_reports_job,
    rating_job,
    warehouse_tests_job,
    weekly_reports_job,
)

# Each night, issue the invoices of the bill date that has just begun (boundaries are
# 00:00 UTC; running at 02:00 leaves late-arriving records two hours to land).
billing_cycle_schedule = build_schedule_from_partitioned_job(
    billing_cycle_job, hour_of_day=2, minute_of_hour=0
)


@schedule(job=rating_job, cron_schedule="15 * * * *", execution_timezone="UTC")
def hourly_rating_schedule(context: ScheduleEvaluationContext) -> RunRequest:
    """Every hour, rate everything up to today so usage and draft invoices stay current."""
    moment = context.scheduled_execution_time or datetime.now(UTC)
    day = moment.date().isoformat()
    return RunRequest(run_key=f"rating-{moment:%Y%m%dT%H}", partition_key=day)


# Each night after billing, the dbt data tests that billing does not run, on what it built.
warehouse_tests_schedule = ScheduleDefinition(
    job=warehouse_tests_job, cron_schedule="0 3 * * *", execution_timezone="UTC"
)

# Each day after billing, the dunning ladder as of that day.
dunning_schedule = build_schedule_from_partitioned_job(
    dunning_job, hour_of_day=2, minute_of_hour=30
)

# The month's reports on the 2nd at 04:00 UTC (after the night's billing and dunning), and
# the week's each Monday at 04:00.
monthly_reports_schedule = build_schedule_from_partitioned_job(
    monthly_reports_job, day_of_month=2, hour_of_day=4, minute_of_hour=0
)
weekly_reports_schedule = build_schedule_from_partitioned_job(
    weekly_reports_job, day_of_week=1, hour_of_day=4, minute_of_hour=0
)
