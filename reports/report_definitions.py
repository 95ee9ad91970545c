"""Which reports there are: the standard ones, each a dbt model `rpt_NAME` described by
`config.meta.report` in its YAML (dbt_project/models/marts/reports/), and the custom ones,
each a `.sql` file in $JET_HOME/reports/ that starts with a YAML header:

    /*---
    title: Active accounts by plan
    parameters:
      realm: {type: string}
      since: {type: date, default: 2026-01-01}
    chart: {kind: bar, x: plan_id, y: accounts}
    ---*/
    select plan_id, count(*) as accounts from dim_accounts where realm_id = $realm group by 1

A report's name is the model's without `rpt_`, or the file's without `.sql`. A `pack`
(finance, operations) runs its reports together."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from jet.config import PROJECT_ROOT, Settings
from jet.errors import JetError

STANDARD_DIR = PROJECT_ROOT / "dbt_project" / "models" / "marts" / "reports"
HEADER = re.compile(r"\A\s*/\*---\n(?P<yaml>.*?)\n---\*/\s*\n(?P<sql>.*)\Z", re.DOTALL)
TYPES = ("string", "integer", "decimal", "date", "boolean")
CHARTS = ("bar", "line", "heatmap")
# What `--realm`, `--from` and `--to` fill in.
WINDOW = ("realm", "from", "to")


class ReportError(JetError):
    """An unknown report, a bad header or a parameter value that does not fit."""


@dataclass(frozen=True, slots=True)
class Parameter:
    name: str
    type: str
    default: Any = None
    required: bool = True

    def convert(self, text: Any, report: str) -> Any:
        """`text` (a command-line or form value) as this parameter's type."""
        if text is None or isinstance(text, (date, Decimal, bool, int)) and self.type != "string":
            return text
        value = str(text).strip()
        try:
            match self.type:
                case "integer":
                    return int(value)
                case "decimal":
                    return Decimal(value)
                case "date":
                    return date.fromisoformat(value)
                case "boolean":
                    return {"true": True, "yes": True, "false": False, "no": False}[value.lower()]
            return value
        except (ValueError, KeyError, InvalidOperation):
            raise ReportError(
                f"report {report}: parameter {self.name} is a {self.type}, not {value!r}"
                + (" (give YYYY-MM-DD)" if self.type == "date" else "")
            ) from None


@dataclass(frozen=True, slots=True)
class Report:
    name: str
    title: str
    description: str
    sql: str
    kind: str  # standard | custom
    pack: str | None = None
    chart: Mapping[str, str] | None = None
    parameters: tuple[Parameter, ...] = ()
    model: str | None = None  # the dbt model a standard report reads
    source: str = ""  # where it is defined, for messages
    realm_column: str | None = None  # what `realm` filters, None: not by realm

    def window(
        self, realm: str | None = None, start: date | None = None, end: date | None = None
    ) -> dict[str, Any]:
        """`--realm`, `--from` and `--to` as the parameters of those names this report
        takes (a custom report may take none of them)."""
        given = dict(zip(WINDOW, (realm, start, end), strict=True))
        return {p.name: given[p.name] for p in self.parameters if p.name in given}

    def values(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """The query's parameters from `given` (names to text), converted and checked."""
        known = {p.name: p for p in self.parameters}
        unknown = sorted(k for k, v in given.items() if k not in known and v is not None)
        if unknown:
            takes = ", ".join(known) or "none"
            raise ReportError(
                f"report {self.name} takes no parameter {', '.join(unknown)} (it takes: {takes})"
            )
        values = {}
        for p in self.parameters:
            value = p.convert(given.get(p.name), self.name)
            if value is None:
                value = p.convert(p.default, self.name)
            if value is None and p.required:
                raise ReportError(
                    f"report {self.name} needs parameter {p.name} ({p.type}): "
                    f"give --param {p.name}=VALUE"
                )
            values[p.name] = value
        return values


def standard_reports() -> list[Report]:
    """The report models with `config.meta.report`, from their YAML files."""
    found = []
    for path in sorted(STANDARD_DIR.glob("*.yml")):
        for model in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("models", []):
            meta = ((model.get("config") or {}).get("meta") or {}).get("report")
            if meta:
                found.append(_standard(model["name"], model.get("description", ""), meta, path))
    return found


def _standard(model: str, description: str, meta: Mapping[str, Any], path: Path) -> Report:
    realm, period = meta.get("realm"), meta.get("period")
    where = []
    parameters = []
    if realm:
        where.append(f"($realm::varchar is null or {realm} = $realm)")
        parameters.append(Parameter("realm", "string", required=False))
    if period:
        where.append(f"($from::date is null or {period} >= $from)")
        where.append(f"($to::date is null or {period} <= $to)")
        parameters += [Parameter(n, "date", required=False) for n in ("from", "to")]
    sql = f"select * from {model}" + (" where " + " and ".join(where) if where else "")
    return Report(
        name=model.removeprefix("rpt_"),
        title=meta.get("title") or model,
        description=" ".join(description.split()),
        sql=sql,
        kind="standard",
        pack=meta.get("pack"),
        chart=_chart(meta.get("chart"), str(path), model),
        parameters=tuple(parameters),
        model=model,
        source=str(path),
        realm_column=realm,
    )


def custom_reports(settings: Settings) -> list[Report]:
    """Every `$JET_HOME/reports/*.sql` with its header; a bad one raises, naming it."""
    return [_custom(path) for path in sorted((settings.root / "reports").glob("*.sql"))]


def _custom(path: Path) -> Report:
    text = path.read_text(encoding="utf-8")
    match = HEADER.match(text)
    if not match:
        raise ReportError(
            f"{path}: a custom report starts with a YAML header between /*--- and ---*/ "
            "lines (title, description, parameters), then one SELECT"
        )
    try:
        header = yaml.safe_load(match["yaml"]) or {}
    except yaml.YAMLError as err:
        raise ReportError(f"{path}: the header is not YAML: {err}") from None
    if not isinstance(header, dict):
        raise ReportError(f"{path}: the header must be a mapping of title, description, …")
    allowed = {"title", "description", "parameters", "chart", "pack"}
    for key in sorted(set(header) - allowed):
        raise ReportError(f"{path}: header.{key}: unknown key; expected one of: {sorted(allowed)}")
    if not header.get("title"):
        raise ReportError(f"{path}: header.title: required, but missing")
    parameters = []
    for name, spec in (header.get("parameters") or {}).items():
        spec = spec or {}
        where = f"{path}: header.parameters.{name}"
        if not isinstance(spec, dict) or spec.get("type") not in TYPES:
            raise ReportError(f"{where}.type: give one of {', '.join(TYPES)}")
        for key in sorted(set(spec) - {"type", "default", "required"}):
            raise ReportError(f"{where}.{key}: unknown key; expected type, default, required")
        parameters.append(
            Parameter(
                str(name),
                spec["type"],
                spec.get("default"),
                bool(spec.get("required", "default" not in spec)),
            )
        )
    return Report(
        name=path.stem,
        title=str(header["title"]),
        description=" ".join(str(header.get("description", "")).split()),
        sql=match["sql"].strip().rstrip(";"),
        kind="custom",
        pack=header.get("pack"),
        chart=_chart(header.get("chart"), str(path), "header"),
        parameters=tuple(parameters),
        source=str(path),
    )


def _chart(spec: Any, where: str, owner: str) -> Mapping[str, str] | None:
    if spec is None:
        return None
    if not isinstance(spec, dict) or spec.get("kind") not in CHARTS or not spec.get("x"):
        raise ReportError(
            f"{where}: {owner}.chart: give kind ({', '.join(CHARTS)}), x and y "
            "(and optionally series), each a column of the report"
        )
    return {k: str(v) for k, v in spec.items()}


def all_reports(settings: Settings) -> dict[str, Report]:
    """Every report by name; a custom report named as a standard one is an error."""
    reports = {r.name: r for r in standard_reports()}
    for report in custom_reports(settings):
        if report.name in reports:
            raise ReportError(
                f"{report.source}: custom report {report.name!r} has the name of the standard "
                f"report defined in {reports[report.name].source}: rename the file"
            )
        reports[report.name] = report
    return reports


def chosen(settings: Settings, name: str) -> list[Report]:
    """The report `name`, or every report of the pack `name`; an unknown name lists them."""
    reports = all_reports(settings)
    if name in reports:
        return [reports[name]]
    pack = [r for r in reports.values() if r.pack == name]
    if pack:
        return pack
    packs = sorted({r.pack for r in reports.values() if r.pack})
    raise ReportError(
        f"no report or pack {name!r}: `jet report list` shows them "
        f"(packs: {', '.join(packs) or 'none'}; reports: {', '.join(sorted(reports))})"
    )
