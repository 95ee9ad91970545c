"""What the gate says to people: why invoices were held and what to do, and the latest
result of every check (`jet quality status`)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from pathlib import Path

from jet.quality.frames import Hold
from jet.quality.results import Finding
from jet.store.models import QualityWaiver
from schemas.contracts import check_names


def refusal(
    held: dict[tuple[date, str], list[Finding]],
    behind: dict[tuple[date, str], date],
    docs: Path,
) -> str:
    """Why the invoices of these (bill date, realm) pairs were not issued: the failed
    checks, each with its failing rows (how many, a few of them) and what to do, and the
    invoices that wait for an earlier held one; then how to bill them once fixed, or to
    issue them as they are."""
    dates = [d for d, _ in [*held, *behind]]
    lines = ["The data quality gate held these invoices; nothing was issued for them:"]
    for (bill_date, realm), findings in sorted(held.items()):
        lines.append(f"  {bill_date} {realm}: " + ", ".join(f.check for f in findings))
    for (bill_date, realm), earlier in sorted(behind.items()):
        lines.append(
            f"  {bill_date} {realm}: after its held invoices of {earlier} "
            "(`jet quality status` says why)"
        )
    failed = {f.check: f for findings in held.values() for f in findings}
    for finding in failed.values():
        lines += ["", *_describe(finding)]
    first = min([*(d for d, _ in held), *behind.values()])
    lines += [
        "",
        f"Once fixed, bill them again: `jet bill --from {first} --to {max(dates)}`. To issue "
        "them as they are, waive each check for its date, saying why:",
        f'`jet quality waive CHECK --date {first} --reason "..."`.',
        f"Every validation, with its failing values: {docs}",
    ]
    return "\n".join(lines)


def status(findings: list[Finding], waived: list[QualityWaiver], docs: Path) -> str:
    """One line per check: its latest result, how many rows failed of how many, when it
    ran, and the invoices it holds (with the dates waived); then every waiver, the
    withdrawn ones marked so, since they no longer let anything out."""
    if not findings:
        return "No check has run yet: they run with every `jet bill` and `jet rate`."
    by_check = defaultdict(list)
    for w in waived:
        if w.active:
            by_check[w.check].append(w.bill_date)
    width = max(len(f.check) for f in findings)
    lines = [
        f"{'check':<{width}}  {'result':<8} {'rows failing':>17}  {'checked (UTC)':<16}  holds"
    ]
    for f in findings:
        result, holds = _result(f, by_check[f.check])
        rows = f"{f.rows_failing:,} of {f.rows_checked:,}"
        lines.append(
            f"{f.check:<{width}}  {result:<8} {rows:>17}  {f.checked_at:%Y-%m-%d %H:%M}  {holds}"
        )
    if waived:
        lines += ["", "Waivers:"]
        lines += [_waiver(w) for w in waived]
    failing = [f for f in findings if not f.passed]
    for f in failing:
        lines += ["", *_describe(f)]
    lines += ["", f"Data Docs: {docs}"]
    return "\n".join(lines)


def _waiver(w: QualityWaiver) -> str:
    line = (
        f"  {w.check} {w.bill_date}: by {w.waived_by} on {w.waived_at:%Y-%m-%d %H:%M}: {w.reason}"
    )
    if w.active:
        return line
    return (
        f"{line}; WITHDRAWN by {w.withdrawn_by} on {w.withdrawn_at:%Y-%m-%d %H:%M}: "
        f"{w.withdrawal_reason}"
    )


def _result(finding: Finding, waived: list[date]) -> tuple[str, str]:
    if finding.passed:
        return "passed", ""
    if not finding.blocking:
        return "warning", ""
    held = ", ".join(span(h) for h in finding.holds)
    if waived:
        held += f" (waived at {', '.join(str(d) for d in sorted(waived))})"
    return ("error" if finding.error else "FAILED"), held


def _describe(finding: Finding) -> list[str]:
    """A failed check: what must hold, how many rows break it, a few of them, what to do."""
    contract, check = check_names().get(finding.check, (None, None))
    kind = "blocking" if finding.blocking else "warning"
    what = check.description if check else "(a check no longer in schemas/contracts.py)"
    if finding.error:
        lines = [f"{finding.check} ({kind}) could not be evaluated: {finding.error}"]
    else:
        lines = [
            f"{finding.check} ({kind}): {finding.rows_failing:,} of {finding.rows_checked:,} "
            f"rows fail: {what}"
        ]
    for row in finding.sample:
        lines.append("    " + " ".join(f"{k}={v}" for k, v in row.items()))
    if len(finding.sample) < finding.rows_failing:
        lines.append(f"    ... and {finding.rows_failing - len(finding.sample):,} more")
    if check:
        lines.append(f"  what to do: {check.action}")
    return lines


def span(hold: Hold) -> str:
    """`acme 2026-02-01..2026-02-28`, `every realm 2026-02-01`."""
    who = hold.realm or "every realm"
    dates = str(hold.first) if hold.first == hold.last else f"{hold.first}..{hold.last}"
    return f"{who} {dates}"
