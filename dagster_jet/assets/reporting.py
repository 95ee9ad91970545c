"""Scheduled reports as assets: each month's (and week's) report e-mails, after the
report models they read (group `reports`; reports/report_schedule.py)."""

from datetime import timedelta

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, asset

from dagster_jet.partitions import report_months, report_weeks
from dagster_jet.resources import JetResource
from reports.report_definitions import standard_reports
from reports.report_schedule import Window, mail_reports

REPORT_MODELS = [AssetKey(r.model) for r in standard_reports() if r.model]


def _mailed(context: AssetExecutionContext, jet: JetResource, every: str) -> MaterializeResult:
    window = context.partition_time_window
    span = Window(every, window.start.date(), window.end.date() - timedelta(days=1))
    done = mail_reports(jet.settings(), span, on_step=context.log.info)
    context.log.info(f"{span.period}: {done['announced']} report e-mails, {done['files']} files")
    return MaterializeResult(metadata={"period": span.period, **done})


@asset(group_name="reports", kinds={"email"}, partitions_def=report_months, deps=REPORT_MODELS)
def monthly_report_mail(context: AssetExecutionContext, jet: JetResource) -> MaterializeResult:
    """The month's reports for each realm that asks for them (`report_mail`, every: month),
    written and announced once per realm, month and entry; the outbox e-mails them."""
    return _mailed(context, jet, "month")


@asset(group_name="reports", kinds={"email"}, partitions_def=report_weeks, deps=REPORT_MODELS)
def weekly_report_mail(context: AssetExecutionContext, jet: JetResource) -> MaterializeResult:
    """The week's reports (Monday to Sunday) for each realm that asks for them (every:
    week), announced once per realm, week and entry."""
    return _mailed(context, jet, "week")
