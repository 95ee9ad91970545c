"""The data contracts (schemas/contracts.py) as Dagster asset checks on the tables they
check, evaluated on every billing and rating run once the marts are built.

The contract checks do not stop the run (Dagster's blocking would stop the whole issue
step); the issue step holds just the invoices their failures touch (jet/quality/gate.py).
`quality_gate` is the one blocking check: it makes the issue step wait for the contracts,
and it never fails with ERROR, so Dagster never skips that step."""

from collections.abc import Iterator
from datetime import date
from pathlib import Path

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckKey,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetKey,
    MetadataValue,
    multi_asset_check,
)

from dagster_jet.resources import JetResource
from jet.quality.report import span
from jet.quality.results import Finding
from schemas.contracts import CONTRACTS

DRAFTS = AssetKey("fct_invoice_drafts")
GATE = "quality_gate"


@multi_asset_check(
    specs=[
        *(
            AssetCheckSpec(
                check.name,
                asset=AssetKey(c.asset),
                description=check.description,
                # a raw source's checks read the ops snapshot's accounts
                additional_deps=[AssetKey("ops_snapshot")] if c.is_raw else [],
            )
            for c in CONTRACTS
            for check in c.checks
        ),
        AssetCheckSpec(
            GATE,
            asset=DRAFTS,
            blocking=True,
            description="The data contracts were validated for the run's bill dates before "
            "the issue step, which holds the invoices their blocking failures touch.",
        ),
    ],
    can_subset=True,
)
def data_contracts(context: AssetCheckExecutionContext, jet: JetResource) -> Iterator:
    """Every contract, validated over what the run's bill dates bill; the results of the
    checks the run selected (all of them, in Jet's jobs)."""
    settings = jet.settings()
    keys = context.op_execution_context.partition_key_range
    first, last = date.fromisoformat(keys.start), date.fromisoformat(keys.end)
    if settings.quality_checks:
        from jet.quality.validation import check_contracts  # imports Great Expectations: seconds

        findings = check_contracts(settings, first, last)
        results = [_result(f) for f in findings]
        results.append(_gate(findings, first, last, settings.quality_docs))
    else:
        context.log.info("JET_QUALITY_CHECKS is off: no contract was checked")
        results = [
            AssetCheckResult(
                asset_key=DRAFTS,
                check_name=GATE,
                passed=False,
                severity=AssetCheckSeverity.WARN,
                description="not validated: JET_QUALITY_CHECKS is off",
            )
        ]
    for result in results:
        if not result.passed:
            context.log.warning(
                f"{result.asset_key.to_user_string()}.{result.check_name}: {result.description}"
            )
        if AssetCheckKey(result.asset_key, result.check_name) in context.selected_asset_check_keys:
            yield result


def _gate(findings: list[Finding], first: date, last: date, docs: Path) -> AssetCheckResult:
    """`quality_gate`: whether any blocking check failed (as a WARN: never stops the run)."""
    failed = [f for f in findings if f.blocking and not f.passed]
    return AssetCheckResult(
        asset_key=DRAFTS,
        check_name=GATE,
        passed=not failed,
        severity=AssetCheckSeverity.WARN,
        description=(
            f"{len(failed)} blocking check(s) failed: the issue step holds what they touch"
            if failed
            else f"{len(findings)} checks validated for {first}..{last}"
        ),
        metadata={
            "failed": MetadataValue.json([f.check for f in failed]),
            "data_docs": MetadataValue.path(str(docs)),
        },
    )


def _description(finding: Finding) -> str:
    if finding.error:
        return f"could not be evaluated: {finding.error}"
    if finding.passed:
        return f"{finding.rows_checked:,} rows pass"
    return f"{finding.rows_failing:,} of {finding.rows_checked:,} rows fail"


def _result(finding: Finding) -> AssetCheckResult:
    asset, name = finding.check.split(".", 1)
    return AssetCheckResult(
        asset_key=AssetKey(asset),
        check_name=name,
        passed=finding.passed,
        severity=AssetCheckSeverity.ERROR if finding.blocking else AssetCheckSeverity.WARN,
        description=_description(finding),
        metadata={
            "rows_checked": finding.rows_checked,
            "rows_failing": finding.rows_failing,
            "bill_dates": f"{finding.first_bill_date}..{finding.last_bill_date}",
            "holds": ", ".join(span(h) for h in finding.holds),
            "sample": MetadataValue.md(_table(finding.sample)),
        },
    )


def _table(rows: list[dict]) -> str:
    """Sample rows as a Markdown table, as Dagster's UI shows metadata."""
    if not rows:
        return ""
    columns = list(rows[0])
    cells = [[str(row[c]).replace("|", "\\|") for c in columns] for row in rows]
    lines = [columns, ["---"] * len(columns), *cells]
    return "\n".join("| " + " | ".join(line) + " |" for line in lines)
