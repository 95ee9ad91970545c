"""Validating the contracts with Great Expectations: a file project under
`$JET_HOME/quality` holds a suite per contract, the validation results of the retention
window (jet/quality/retention.py), and the Data Docs built from them.

GX validates pandas frames (its SQL data source cannot read DuckDB through duckdb-engine:
each result is fetched after its connection closed, which DuckDB does not allow), so the
frames hold only what the checks read (jet/quality/frames.py). Importing GX takes
seconds; only a validation imports this module.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime

import great_expectations as gx
import great_expectations.expectations as gxe
import pyarrow as pa
from great_expectations.data_context.types.base import ProgressBarsConfig
from great_expectations.data_context.types.resource_identifiers import (
    ExpectationSuiteIdentifier,
    ValidationResultIdentifier,
)
from sqlalchemy import select

from jet.config import Settings
from jet.quality.frames import Frames, Hold
from jet.quality.results import Finding, record
from jet.quality.retention import prune, remove_empty_folders
from jet.store.db import session
from jet.store.models import RemoteRealm
from schemas.contracts import CONTRACTS, Between, Check, Contract, Equal, InSet, IsNull, Unique

log = logging.getLogger(__name__)

RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": 5}
# The Data Docs index lists this many of the latest validation results (each result has
# its own page regardless); more would make every run re-read the whole history.
DOCS_INDEX_RESULTS = 200


def check_contracts(settings: Settings, first: date, last: date) -> list[Finding]:
    """Validate every contract for the bill dates [first, last] and keep the findings in
    the store, where the issue step of those dates obeys them."""
    with session(settings.db_url) as s:
        remote_realms = list(s.scalars(select(RemoteRealm.realm)))
    findings = validate(settings, first, last, remote_realms)
    with session(settings.db_url) as s:
        record(s, findings)
    return findings


def validate(
    settings: Settings, first: date, last: date, remote_realms: list[str]
) -> list[Finding]:
    """Validate every contract for the bill dates [first, last]; prune the results past
    retention, then update the Data Docs (whose index drops the pruned pages)."""
    run = {"checked_at": datetime.now(UTC), "first_bill_date": first, "last_bill_date": last}
    frames = Frames(settings, first, last, remote_realms)
    context = _context(settings)
    source = context.data_sources.add_or_update_pandas("lake")
    findings: list[Finding] = []
    documented = []
    for contract in CONTRACTS:
        table = frames.read(contract)
        definition = _definition(context, source, contract)
        checked = {column for check in contract.checks for column in check.rule.columns}
        result = definition.run(
            batch_parameters={"dataframe": _pandas(table.select(sorted(checked)))},
            result_format=RESULT_FORMAT,
        )
        suite = ExpectationSuiteIdentifier(name=contract.asset)
        documented += [
            suite,
            ValidationResultIdentifier(
                expectation_suite_identifier=suite,
                run_id=result.meta["run_id"],
                batch_identifier=result.batch_id,
            ),
        ]
        checks = {f"{contract.asset}.{check.name}": check for check in contract.checks}
        for evaluated in result.results:
            name = evaluated.expectation_config.meta["check"]
            findings.append(_finding(frames, contract, checks[name], evaluated, **run))
    pruned = _prune(context, settings)
    context.build_data_docs(resource_identifiers=documented)
    remove_empty_folders(settings.quality_docs.parent / "validations", pruned)
    return findings


def _prune(context, settings: Settings) -> list:
    """The results past retention, removed; none when pruning fails, which must not stop
    a run from recording its findings."""
    try:
        return prune(context, settings.quality, settings.quality_retention_days)
    except Exception:
        log.warning("pruning old validation results failed; they are kept", exc_info=True)
        return []


def _pandas(table: pa.Table):
    """The columns GX checks, with unsigned and 128-bit integers as float64: GX compares
    only int64 and float64 columns vectorised, any other type one value at a time in
    Python. The sign, all the checks ask of them, survives; failing rows are sampled from
    the exact frame, which has every column."""
    for i, f in enumerate(table.schema):
        wide = pa.types.is_decimal(f.type) and f.type.scale == 0
        if pa.types.is_unsigned_integer(f.type) or wide:
            table = table.set_column(i, f.name, table.column(i).cast(pa.float64()))
    return table.to_pandas()


def _finding(frames: Frames, contract: Contract, check: Check, evaluated, **run) -> Finding:
    """One evaluated check: on failure, its rows found again in the frame."""
    name, rows = f"{contract.asset}.{check.name}", frames.frame.num_rows
    if evaluated.success:
        return Finding(name, check.blocking, rows, 0, [], [], None, **run)
    every = [Hold(None, frames.first, frames.last)]
    if evaluated.exception_info.get("raised_exception") or not evaluated.result:
        error = _exception_message(evaluated.exception_info)
        return Finding(name, check.blocking, rows, rows, [], every, error, **run)
    count, sample, holds = frames.failing(check, contract.sample)
    failing = evaluated.result.get("unexpected_count") or count
    return Finding(name, check.blocking, rows, failing, sample, holds or every, None, **run)


def _exception_message(info: dict) -> str:
    """GX keeps one entry per metric it could not compute; the first message says why."""
    entries = [info] if "exception_message" in info else list(info.values())
    messages = [e.get("exception_message") for e in entries if isinstance(e, dict)]
    return next((m for m in messages if m), "Great Expectations could not evaluate it")


def _context(settings: Settings):
    """The file project, set up once: no progress bars, a bounded Data Docs index."""
    context = gx.get_context(mode="file", project_root_dir=settings.quality)
    site = context.get_config().data_docs_sites["local_site"]
    if site.get("site_index_builder", {}).get("validation_results_limit") != DOCS_INDEX_RESULTS:
        site["show_how_to_buttons"] = False
        site["site_index_builder"] = {
            "class_name": "DefaultSiteIndexBuilder",
            "validation_results_limit": DOCS_INDEX_RESULTS,
        }
        context.update_data_docs_site("local_site", site)
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        context.variables.analytics_enabled = False
        context.variables.save()
    return context


def _definition(context, source, contract: Contract):
    """The contract's suite and its validation definition over a dataframe asset, saved
    as the contract now reads (schemas/contracts.py is their source)."""
    try:
        asset = source.get_asset(contract.asset)
    except LookupError:
        asset = source.add_dataframe_asset(contract.asset)
    try:
        batch = asset.get_batch_definition("run")
    except KeyError:
        batch = asset.add_batch_definition_whole_dataframe("run")
    suite = context.suites.add_or_update(
        gx.ExpectationSuite(
            name=contract.asset,
            expectations=[_expectation(contract, check) for check in contract.checks],
        )
    )
    return context.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=contract.asset, data=batch, suite=suite)
    )


def _expectation(contract: Contract, check: Check):
    options = {
        "description": check.description,
        "severity": "critical" if check.blocking else "warning",
        "meta": {"check": f"{contract.asset}.{check.name}"},
    }
    match check.rule:
        case IsNull(column):
            return gxe.ExpectColumnValuesToBeNull(column=column, **options)
        case Between(column, low, high):
            return gxe.ExpectColumnValuesToBeBetween(
                column=column, min_value=low, max_value=high, **options
            )
        case InSet(column, values):
            return gxe.ExpectColumnValuesToBeInSet(column=column, value_set=list(values), **options)
        case Equal(column, other):
            return gxe.ExpectColumnPairValuesToBeEqual(column_A=column, column_B=other, **options)
        case Unique(key):
            return gxe.ExpectCompoundColumnsToBeUnique(column_list=list(key), **options)
