"""Bill dates: anniversary realms bill somebody on any day, so the partition is a day.

A partition range runs as one run (single-run backfills): dbt rates once up to the
range's last day and the issue step takes every bill date of the range, oldest first."""

from dagster import (
    BackfillPolicy,
    DailyPartitionsDefinition,
    MonthlyPartitionsDefinition,
    WeeklyPartitionsDefinition,
)

bill_dates = DailyPartitionsDefinition(start_date="2026-01-01", end_offset=1)
single_run = BackfillPolicy.single_run()

# The periods scheduled reports cover: calendar months, and weeks from Monday (UTC).
report_months = MonthlyPartitionsDefinition(start_date="2026-01-01")
report_weeks = WeeklyPartitionsDefinition(start_date="2026-01-05", day_offset=1)
