"""Mapping profiles: how one provider's usage file reads, as a YAML file.

A profile names the file's columns (by header name, or by position from 1), the
account key and what it holds, the timestamp format and time zone, and the units of
the byte and duration columns. `examples/profiles/` ships the profiles Jet knows; an
operator's own live in `$JET_HOME/profiles/` and win over a shipped one of the same
name. A profile with any mistake is refused whole, every problem listed with its key
path, before a single row is read.
"""

from __future__ import annotations

import json
import zoneinfo
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import polars as pl
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from jet.catalog import CatalogError, load_yaml
from jet.config import PROJECT_ROOT
from jet.errors import JetError

SHIPPED = PROJECT_ROOT / "examples" / "profiles"

BYTE_UNITS: dict[str, int] = {
    "B": 1,
    "KB": 1000,
    "MB": 1000**2,
    "GB": 1000**3,
    "KiB": 1024,
    "MiB": 1024**2,
    "GiB": 1024**3,
}
DURATION_UNITS: dict[str, int] = {"s": 1, "min": 60, "h": 3600}


class ProfileError(JetError, ValueError):
    """A refused profile: every problem, each as (key path, what was wrong and expected)."""

    def __init__(self, source: str, problems: list[tuple[str, str]]) -> None:
        self.source = str(source)
        self.problems = problems
        lines = [f"{self.source}: usage profile refused"]
        lines += [f"  {path}: {message}" for path, message in problems]
        super().__init__("\n".join(lines))


def _column(value: Any) -> int | str:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise ValueError(
        f"expected a column's header name, or its position counting from 1, got {value!r}"
    )


Column = Annotated[int | str, BeforeValidator(_column)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class AccountKey(_Frozen):
    """`account_id` holds Jet's account id; `user_name` a RADIUS login, `account@realm`
    or `account`, whose realm (when given) must be the account's."""

    column: Column
    kind: Literal["account_id", "user_name"] = "account_id"


class Timestamp(_Frozen):
    """`iso8601` (2026-08-03T10:00:00Z, with an offset or none), `epoch` (whole seconds
    since 1970-01-01 UTC) or a strftime format such as "%d/%m/%Y %H:%M". `timezone` is
    where timestamps without an offset were written; all are stored in UTC."""

    column: Column
    format: str = "iso8601"
    timezone: str = "UTC"

    @field_validator("format")
    @classmethod
    def _format(cls, value: str) -> str:
        if value in ("iso8601", "epoch"):
            return value
        if "%" not in value:
            raise ValueError(
                'expected iso8601, epoch or a strftime format such as "%d/%m/%Y %H:%M", '
                f"got {value!r}"
            )
        # polars reads with chrono's directives: prove this format reads what it writes
        example = datetime(2026, 8, 3, 10, 4, 5, tzinfo=UTC)
        text = example.strftime(value)
        if pl.Series([text]).str.to_datetime(value, strict=False).null_count():
            raise ValueError(
                f"the format {value!r} cannot read back what it writes ({text!r} for "
                f"{example:%Y-%m-%d %H:%M:%S} UTC); use the directives %Y %y %m %d %b %H "
                "%I %p %M %S %z (not %Z)"
            )
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"expected an IANA time zone such as UTC or Europe/Berlin, got {value!r}"
            ) from None
        return value

    @model_validator(mode="after")
    def _epoch_is_utc(self) -> Timestamp:
        if self.format == "epoch" and self.timezone != "UTC":
            _refuse([("timezone", "epoch timestamps are UTC by definition; remove timezone")])
        return self


class Bytes(_Frozen):
    """The columns of what the user received (`in`, download) and sent (`out`, upload),
    in `unit`. A file with one total column names it under the side it counts as."""

    in_: Column | None = Field(default=None, alias="in")
    out: Column | None = None
    unit: Literal["B", "KB", "MB", "GB", "KiB", "MiB", "GiB"] = "B"

    @model_validator(mode="after")
    def _a_side(self) -> Bytes:
        if self.in_ is None and self.out is None:
            _refuse([("in", "expected the column of bytes in, of bytes out, or both")])
        return self


class Duration(_Frozen):
    column: Column
    unit: Literal["s", "min", "h"] = "s"


class UsageProfile(_Frozen):
    """How one provider's usage file reads; see `examples/profiles/wholesale.yaml`."""

    name: str = Field(default="", exclude=True)  # the file's stem, set by load_profile
    description: str = Field(default="", exclude=True)
    delimiter: str = ","
    header: bool = True
    # ASCII-compatible only: records are found in the file's bytes (ingest.csv.records)
    encoding: Literal["utf-8", "latin-1", "cp1252"] = "utf-8"
    account: AccountKey
    timestamp: Timestamp
    bytes: Bytes
    duration: Duration | None = None
    round: bool = False  # round fractional bytes and seconds, halves up, instead of refusing

    @field_validator("delimiter")
    @classmethod
    def _delimiter(cls, value: str) -> str:
        if len(value) != 1 or value in '"\r\n':
            raise ValueError(f'expected one character such as "," ";" or "\\t", got {value!r}')
        return value

    @model_validator(mode="after")
    def _columns(self) -> UsageProfile:
        problems: list[tuple[str, str]] = []
        seen: dict[int | str, str] = {}
        for key, column in self.columns().items():
            if isinstance(column, str) and not self.header:
                problems.append(
                    (
                        key,
                        f"a file without a header has no column names; give the column's "
                        f"position (1 = first), not {column!r}",
                    )
                )
            elif column in seen:
                problems.append((key, f"column {column!r} is already {seen[column]}"))
            seen.setdefault(column, key)
        _refuse(problems)
        return self

    def columns(self) -> dict[str, int | str]:
        """The columns the profile reads, by key path: {"account.column": "account_id"}."""
        columns = {"account.column": self.account.column, "timestamp.column": self.timestamp.column}
        if self.bytes.in_ is not None:
            columns["bytes.in"] = self.bytes.in_
        if self.bytes.out is not None:
            columns["bytes.out"] = self.bytes.out
        if self.duration is not None:
            columns["duration.column"] = self.duration.column
        return columns

    def fingerprint(self) -> bytes:
        """What the profile means, canonical: its name, description and YAML layout do not
        change it; a different column, unit or format does."""
        return json.dumps(self.model_dump(by_alias=True), sort_keys=True).encode()


def find_profile(name: str, own: Path) -> Path:
    """`<own>/<name>.yaml` (the operator's, `$JET_HOME/profiles`), else the shipped
    `examples/profiles/<name>.yaml`; a name ending in .yaml or .yml, or holding a /, is
    a path."""
    if name.endswith((".yaml", ".yml")) or "/" in name:
        if not Path(name).is_file():
            raise ProfileError(name, [("(file)", "no such file")])
        return Path(name)
    folders = [Path(own), SHIPPED]
    for folder in folders:
        if (folder / f"{name}.yaml").is_file():
            return folder / f"{name}.yaml"
    known = sorted({p.stem for folder in folders for p in folder.glob("*.yaml")})
    raise ProfileError(
        name,
        [
            (
                "(name)",
                f"no profile of that name in {folders[0]} or {folders[1]}; "
                f"known profiles: {', '.join(known) or 'none'}",
            )
        ],
    )


def load_profile(name: str, own: Path) -> UsageProfile:
    """Find (see `find_profile`), read and check the profile `name`."""
    return read_profile(find_profile(name, own))


def read_profile(path: Path) -> UsageProfile:
    """Read and check the profile in `path`; it is named for the file's stem."""
    path = Path(path)
    return parse_profile(path.read_text(encoding="utf-8"), str(path), path.stem)


def parse_profile(text: str, source: str, name: str) -> UsageProfile:
    """A profile from its YAML text, or ProfileError listing every problem."""
    try:
        data = load_yaml(text, source)
    except CatalogError as err:
        raise ProfileError(source, err.problems) from None
    try:
        profile = UsageProfile.model_validate(data)
    except ValidationError as exc:
        problems = [p for error in exc.errors() for p in _problems(error)]
        raise ProfileError(source, problems) from None
    return profile.model_copy(update={"name": name})


def _refuse(problems: list[tuple[str, str]]) -> None:
    """Raise rule problems whose key paths are relative to the model being validated."""
    if problems:
        raise PydanticCustomError("profile_rules", "profile rules broken", {"problems": problems})


def _problems(error: Any) -> list[tuple[str, str]]:
    """A pydantic error as [(key path, "expected ..., got ...")]."""
    path = ".".join(str(part) for part in error["loc"])
    kind, message = error["type"], error["msg"]
    if kind == "profile_rules":
        return [(".".join(filter(None, (path, key))), m) for key, m in error["ctx"]["problems"]]
    if kind == "value_error":
        return [(path, message.removeprefix("Value error, "))]
    if kind == "missing":
        return [(path, "required, but missing")]
    if kind == "extra_forbidden":
        allowed = ", ".join(_keys(error["loc"][:-1]))
        return [(path, f"unknown key; expected one of: {allowed}")]
    message = message.replace("Input should be ", "expected ", 1)
    return [(path, f"{message}, got {error['input']!r}")]


def _keys(loc: tuple) -> list[str]:
    """The keys a profile may have at `loc`, as written in YAML."""
    model: type[BaseModel] = UsageProfile
    for key in loc:
        field = next(f for n, f in model.model_fields.items() if (f.alias or n) == key)
        model = next(
            t
            for t in (field.annotation, *getattr(field.annotation, "__args__", ()))
            if isinstance(t, type) and issubclass(t, BaseModel)
        )
    return [f.alias or n for n, f in model.model_fields.items() if n != "name"]
