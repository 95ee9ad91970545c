"""Freshness of the raw sources, checked on the invoice drafts: a source, NAS or router
gone quiet shows as a WARN before the run issues invoices, and never stops it.

The checks are blocking so that `issued_invoices` waits for them (Dagster orders steps
after blocking checks); a WARN never blocks, and a check that cannot run says so as a
WARN instead of failing, which would hold the invoices back."""

from collections.abc import Iterator

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetKey,
    multi_asset_check,
)

from dagster_jet.resources import JetResource
from jet.freshness import MART, Freshness, check_freshness
from schemas.raw import SOURCES

DRAFTS = AssetKey("fct_invoice_drafts")


def _check_name(source: str) -> str:
    return f"{source}_delivering"


@multi_asset_check(
    specs=[
        AssetCheckSpec(
            _check_name(source),
            asset=DRAFTS,
            additional_deps=[AssetKey(MART)],
            blocking=True,
            description=f"Every {source} sender landed usage within its freshness thresholds.",
        )
        for source in SOURCES
    ],
)
def raw_sources_delivering(
    context: AssetCheckExecutionContext, jet: JetResource
) -> Iterator[AssetCheckResult]:
    """`dbt source freshness` over the raw sources, and the senders of fct_source_freshness."""
    try:
        results = check_freshness(jet.settings())
    except Exception as e:  # a check that breaks warns: it must not hold invoices back
        context.log.warning(f"source freshness could not be checked: {e}")
        for source in SOURCES:
            yield AssetCheckResult(
                check_name=_check_name(source),
                asset_key=DRAFTS,
                passed=False,
                severity=AssetCheckSeverity.WARN,
                description=f"freshness could not be checked: {e}",
            )
        return
    for source in SOURCES:
        yield _result(context, source, [r for r in results if r.source == source])


def _result(
    context: AssetCheckExecutionContext, source: str, results: list[Freshness]
) -> AssetCheckResult:
    quiet = [r for r in results if not r.ok]
    for r in quiet:
        context.log.warning(r.describe())
    if quiet:
        description = "; ".join(r.describe() for r in quiet)
    elif results:
        description = results[0].describe()
    else:
        description = f"{source}: nothing landed yet"
    return AssetCheckResult(
        check_name=_check_name(source),
        asset_key=DRAFTS,
        passed=not quiet,
        severity=AssetCheckSeverity.WARN,
        description=description,
        metadata={
            "senders": sum(r.sender is not None for r in results),
            "quiet": [r.describe() for r in quiet],
        },
    )
