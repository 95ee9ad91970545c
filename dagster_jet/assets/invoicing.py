from datetime import date, timedelta

from dagster import AssetExecutionContext, AssetKey, Failure, MaterializeResult, asset

from dagster_jet.partitions import bill_dates, single_run
from dagster_jet.resources import JetResource
from jet.invoicing import issue_invoices
from jet.quality.report import refusal
from reports.invoice_mail import send_invoices
from reports.issued_invoices import render_pdfs
from reports.receipt_pdf import render_receipts
from reports.statement_pdf import render_statements


@asset(
    group_name="invoicing",
    kinds={"sqlite"},
    partitions_def=bill_dates,
    backfill_policy=single_run,
    deps=[
        AssetKey("fct_invoice_drafts"),
        AssetKey("fct_invoice_lines"),
        AssetKey("prepaid_deductions"),
    ],
)
def issued_invoices(context: AssetExecutionContext, jet: JetResource) -> MaterializeResult:
    """Draft invoices of the run's bill dates, issued: numbered, immutable, in the store.
    Running a bill date again issues nothing new. Invoices whose data failed a blocking
    check are held: the others are issued, then the step fails saying why."""
    first, last = (date.fromisoformat(k) for k in context.partition_key_range)
    settings = jet.settings()
    summary = issue_invoices(settings, first, last)
    context.log.info(f"issued {summary.issued}, already issued {summary.already_issued}")
    if summary.held or summary.behind:
        raise Failure(
            description=refusal(summary.held, summary.behind, settings.quality_docs),
            metadata={"issued": summary.issued, "held": len(summary.held) + len(summary.behind)},
        )
    return MaterializeResult(
        metadata={
            "issued": summary.issued,
            "already_issued": summary.already_issued,
            **{f"total_{realm}": str(total) for realm, total in summary.totals.items()},
        }
    )


# The documents rendered after the issue step: invoices, receipts, statements.
_DOCUMENTS = dict(
    group_name="invoicing",
    kinds={"pdf"},
    partitions_def=bill_dates,
    backfill_policy=single_run,
    deps=[issued_invoices],
)


@asset(**_DOCUMENTS)
def invoice_pdfs(context: AssetExecutionContext, jet: JetResource) -> MaterializeResult:
    """A PDF for every issued invoice that has none yet (existing files never change)."""
    written = render_pdfs(jet.settings())
    return MaterializeResult(metadata={"rendered": len(written)})


@asset(
    group_name="invoicing",
    kinds={"email"},
    partitions_def=bill_dates,
    backfill_policy=single_run,
    deps=[invoice_pdfs],
)
def invoice_emails(context: AssetExecutionContext, jet: JetResource) -> MaterializeResult:
    """Each rendered invoice of an e-mail account sent once (reports/invoice_mail.py), with
    those a refusal made wait; without a mail server (JET_SMTP_HOST) they wait for one."""
    settings = jet.settings()
    if not settings.smtp_host:
        context.log.info("no mail server (JET_SMTP_HOST): invoices wait for `jet invoice mail`")
        return MaterializeResult(metadata={"sent": 0, "no_mail_server": True})
    run = send_invoices(settings)
    if run.error:
        context.log.warning(f"mail server unreachable, retried later: {run.error}")
    return MaterializeResult(
        metadata={"sent": run.sent, "retrying": run.retrying, "failed": run.failed}
    )


@asset(**_DOCUMENTS)
def receipt_pdfs(context: AssetExecutionContext, jet: JetResource) -> MaterializeResult:
    """A receipt for every payment and top-up that has none yet: those a bank statement,
    the card gateway or the portal recorded since the last run (existing files never
    change)."""
    written = render_receipts(jet.settings())
    return MaterializeResult(metadata={"rendered": len(written)})


@asset(**_DOCUMENTS)
def statement_pdfs(context: AssetExecutionContext, jet: JetResource) -> MaterializeResult:
    """Last month's statement (the month before the run's last bill date) of every billing
    account with ledger entries dated in it that has none yet (existing files never
    change)."""
    last = date.fromisoformat(context.partition_key_range.end)
    month = (last.replace(day=1) - timedelta(days=1)).replace(day=1)
    written = render_statements(jet.settings(), month, today=last)
    context.log.info(f"statements of {month:%Y-%m}: {len(written)} written")
    return MaterializeResult(metadata={"month": f"{month:%Y-%m}", "rendered": len(written)})
