"""A realm's catalog file (billing-rules.md, "The catalog file"): parsed, checked, refused whole.

A catalog decides what every customer pays, so a file with any mistake is refused
with every problem listed at once (key path, what was expected, what was found),
and nothing from it is stored.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any, Literal

import jinja2
import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from jet import bank_ids
from jet import customer_fields as fields
from jet.errors import JetError
from jet.gl_accounts import LedgerAccounts
from jet.realm_branding import Branding, PaymentDetails, Seller, with_paths_from

UNIT_DIVISORS: dict[str, int] = {
    "B": 1,
    "KB": 1000,
    "MB": 10**6,
    "GB": 10**9,
    "KiB": 1024,
    "MiB": 1024**2,
    "GiB": 1024**3,
    "second": 1,
    "minute": 60,
    "hour": 3600,
}
USAGE_UNITS = ("B", "KB", "MB", "GB", "KiB", "MiB", "GiB")
DURATION_UNITS = ("second", "minute", "hour")
MONEY_PLACES = 6

# The fields each product type takes; anything else given is a mistake, not a no-op.
_TYPE_FIELDS = {
    "flat": ("price", "period", "refund_unused", "taxable"),
    "once": ("price", "taxable"),
    "usage": ("metric", "unit", "price", "tiers", "tier_mode", "taxable"),
    "duration": ("unit", "price", "tiers", "tier_mode", "taxable"),
}
_MONTHS = {"monthly": 1, "quarterly": 3, "yearly": 12}
_IDENT = re.compile(r"[a-z0-9][a-z0-9_-]*")
RADIUS_INTEGER_MAX = 2**32 - 1  # a RADIUS integer is 32 bits, unsigned (RFC 2865 section 5)
# A Mikrotik-Rate-Limit as a plan sets it: upload/download in bit/s, with k, M or G (x1000).
_RATE_LIMIT = re.compile(r"([1-9][0-9]*)([kMG]?)/([1-9][0-9]*)([kMG]?)")
# A host name: dot-separated labels of letters, digits and inner hyphens.
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_RATE_UNITS = {"": 1, "k": 10**3, "M": 10**6, "G": 10**9}

Loc = tuple[str | int, ...]


class CatalogError(JetError, ValueError):
    """A refused catalog: every problem found, each as (key path, what was expected and found)."""

    def __init__(self, source: str, problems: list[tuple[str, str]]) -> None:
        self.source = str(source)
        self.problems = problems
        lines = [f"{self.source}: catalog refused, nothing was stored"]
        lines += [f"  {path}: {message}" for path, message in problems]
        super().__init__("\n".join(lines))


# --- YAML ------------------------------------------------------------------------------


class YamlFloat:
    """An unquoted YAML float, kept as its text so money written as 59.95 can be refused."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


class _Loader(yaml.SafeLoader):
    """SafeLoader that keeps floats as `YamlFloat` and refuses duplicate keys."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: dict[str, int] = {}
        for key, _ in node.value:
            if isinstance(key, yaml.ScalarNode) and key.tag != "tag:yaml.org,2002:merge":
                if key.value in seen:
                    raise yaml.constructor.ConstructorError(
                        None,
                        None,
                        f"duplicate key {key.value!r} (first given on line {seen[key.value]})",
                        key.start_mark,
                    )
                seen[key.value] = key.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


_Loader.add_constructor("tag:yaml.org,2002:float", lambda loader, node: YamlFloat(node.value))


def load_yaml(text: str, source: str) -> dict:
    """Load a YAML mapping safely; syntax errors become a CatalogError naming the line."""
    try:
        data = yaml.load(text, Loader=_Loader)  # _Loader is a SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}" if mark else "(document)"
        what = "; ".join(p for p in (exc.context, exc.problem) if p)
        column = f" (column {mark.column + 1})" if mark else ""
        raise CatalogError(source, [(where, f"invalid YAML, {what}{column}")]) from None
    except yaml.YAMLError as exc:
        raise CatalogError(source, [("(document)", f"invalid YAML, {exc}")]) from None
    if not isinstance(data, dict):
        found = "an empty file" if data is None else _show(data)
        raise CatalogError(source, [("(document)", f"expected a YAML mapping, got {found}")])
    return data


# --- value types -----------------------------------------------------------------------


def _decimal(value: Any, example: str) -> Decimal:
    """Decimal from a string, int or Decimal; floats are refused, they cannot hold money."""
    if isinstance(value, YamlFloat):
        raise ValueError(f"{example}, got the YAML float {value.text}")
    if isinstance(value, float):
        raise ValueError(f"{example}, got the float {value!r}")
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise ValueError(f"{example}, got {_show(value)}")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{example}, got {_show(value)}") from None
    if not number.is_finite():
        raise ValueError(f"{example}, got {_show(value)}")
    return number


def _money(value: Any) -> Decimal:
    number = _decimal(value, 'money must be a quoted decimal string such as "59.95"')
    if number < 0:
        raise ValueError(f"money must not be negative, got {_show(value)}")
    if number.as_tuple().exponent < -MONEY_PLACES:  # type: ignore[operator]
        raise ValueError(f"money has at most {MONEY_PLACES} decimal places, got {_show(value)}")
    return number


def _rate(value: Any) -> Decimal:
    number = _money(value)
    if number >= 1:
        raise ValueError(f'tax_rate must be below 1 ("0.10" means 10%), got {_show(value)}')
    return number


def _quantity(value: Any) -> Decimal:
    """A tier bound is a quantity, not money: an unquoted 0.5 is exact from its text."""
    value = value.text if isinstance(value, YamlFloat) else value
    return _decimal(value, 'upto must be a number of units such as 10 or "0.5"')


def _day(value: Any) -> date:
    """A calendar date; pydantic would also take an int as a Unix timestamp."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f"expected a date such as 2026-01-01, got {_show(value)}")


def _ident(value: str) -> str:
    """Ids end up in SQL, file names and invoice numbers, so they stay plain."""
    if not _IDENT.fullmatch(value):
        example = 'a lowercase name of a-z, 0-9, "-" and "_" such as "home"'
        raise ValueError(f"expected {example}, got {_show(value)}")
    return value


def _seconds(value: Any) -> int:
    """A RADIUS timeout: whole seconds, at least 1, held in a 32-bit RADIUS integer."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"expected a whole number of seconds such as 3600, got {_show(value)}")
    if not 1 <= value <= RADIUS_INTEGER_MAX:
        raise ValueError(f"expected seconds from 1 to {RADIUS_INTEGER_MAX}, got {value}")
    return value


def _rate_limit(value: Any) -> str:
    if not isinstance(value, str) or not _RATE_LIMIT.fullmatch(value):
        raise ValueError(
            'expected upload/download rates in bit/s such as "10M/50M" (suffix k, M or G, '
            f"each above 0), got {_show(value)}"
        )
    return value


def rate_limit_bps(rate_limit: str) -> tuple[int, int]:
    """The (upload, download) bit/s of a checked rate limit: "10M/50M" -> (10**7, 5 * 10**7)."""
    match = _RATE_LIMIT.fullmatch(rate_limit)
    assert match is not None, rate_limit
    up, up_unit, down, down_unit = match.groups()
    return int(up) * _RATE_UNITS[up_unit], int(down) * _RATE_UNITS[down_unit]


Money = Annotated[Decimal, BeforeValidator(_money)]
Rate = Annotated[Decimal, BeforeValidator(_rate)]
Quantity = Annotated[Decimal, BeforeValidator(_quantity)]
Ident = Annotated[str, AfterValidator(_ident)]
Day = Annotated[date, BeforeValidator(_day)]
Seconds = Annotated[int, BeforeValidator(_seconds)]
RateLimit = Annotated[str, BeforeValidator(_rate_limit)]


def _refuse(problems: list[tuple[Loc, str]]) -> None:
    """Raise rule problems whose key paths are relative to the model being validated."""
    if problems:
        raise PydanticCustomError("catalog_rules", "catalog rules broken", {"problems": problems})


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# --- models ----------------------------------------------------------------------------


class Sepa(_Frozen):
    """The realm as a SEPA direct-debit creditor (`jet collect sepa`)."""

    creditor_name: str
    creditor_iban: str
    creditor_bic: str
    creditor_id: str  # the SEPA creditor identifier, e.g. DE98ZZZ09999999999

    @field_validator("creditor_name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not value.strip() or len(value) > 70:
            raise ValueError(f"expected the creditor's name in 1 to 70 characters, got {value!r}")
        return value.strip()

    @field_validator("creditor_iban", "creditor_bic", "creditor_id")
    @classmethod
    def _bank_ids(cls, value: str, info: ValidationInfo) -> str:
        check = {"creditor_iban": bank_ids.iban, "creditor_bic": bank_ids.bic}
        return check.get(info.field_name, bank_ids.creditor_id)(value)


class Gateway(_Frozen):
    """The realm's card gateway: `kind` picks the implementation; its secret is read from
    the environment variable `secret_env`, never from a catalog file. A failed charge is
    tried again `retry_days` days after the invoice was issued, then left to dunning."""

    kind: Literal["sandbox"]
    secret_env: str | None = None
    retry_days: tuple[int, ...] = (1, 3, 7)

    @field_validator("secret_env")
    @classmethod
    def _secret_env(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
            raise ValueError(
                f"expected the name of an environment variable such as ACME_GATEWAY_KEY "
                f"(the secret itself never goes in a catalog), got {value!r}"
            )
        return value

    @field_validator("retry_days")
    @classmethod
    def _retry_days(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(d < 1 for d in value) or list(value) != sorted(set(value)):
            raise ValueError(
                f"expected increasing whole days from 1, such as [1, 3, 7], got {value}"
            )
        return value


class DunningStep(_Frozen):
    """One rung of the dunning ladder: `after_days` past an invoice's due date, `action`
    the account (remind: an e-mail; suspend; close: close and write off), with an
    optional late `fee` billed as an external line item."""

    after_days: int
    action: Literal["remind", "suspend", "close"]
    fee: Money | None = None

    @field_validator("after_days")
    @classmethod
    def _after(cls, value: int) -> int:
        if value < 1:
            raise ValueError(
                f"after_days counts days past the due date: give 1 or more, got {value}"
            )
        return value

    @field_validator("fee")
    @classmethod
    def _fee(cls, value: Decimal | None) -> Decimal | None:
        if value is not None and value == 0:
            raise ValueError(
                'a late fee of 0 bills nothing: give an amount such as "10.00" or leave fee out'
            )
        return value


class Prepaid(_Frozen):
    """Prepaid accounts of the realm: `low_balance` is where a warning event fires."""

    low_balance: Money


def _template(text: str) -> str:
    try:
        jinja2.Environment().parse(text)
    except jinja2.TemplateSyntaxError as err:
        raise ValueError(f"not a Jinja2 template: {err.message} (line {err.lineno})") from err
    return text


Template = Annotated[str, AfterValidator(_template)]


class Mail(_Frozen):
    """How the realm's invoice e-mails read (docs/invoice-delivery.md): `from` ("Name
    <address>"), `subject` and `body` as Jinja2 templates; Jet's defaults where not given."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", populate_by_name=True, serialize_by_alias=True
    )

    sender: str | None = Field(default=None, alias="from")
    subject: Template | None = None
    body: Template | None = None


class Portal(_Frozen):
    """The realm's customer portal (docs/portal-accounts.md): whether anyone may `signup`
    there, the `hosts` it answers on (the realm is chosen by host name), the public `plans`
    a customer may choose (each a plan of this catalog), where contact messages go
    (`support_email`), and for a prepaid realm the `first_top_up` a new account pays
    before it is of use."""

    signup: bool = False
    hosts: tuple[str, ...] = ()
    plans: tuple[str, ...] = ()
    support_email: str | None = None
    first_top_up: Money | None = None

    @field_validator("hosts")
    @classmethod
    def _hosts(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        hosts = tuple(h.strip().lower().rstrip(".") for h in value)
        for host in hosts:
            if not _HOST.fullmatch(host):
                raise ValueError(
                    f"{host!r} is not a host name: give names such as portal.acme.example "
                    "(no scheme, port or path)"
                )
        if len(set(hosts)) != len(hosts):
            raise ValueError("a host is given twice: give each host once")
        return hosts

    @field_validator("support_email")
    @classmethod
    def _support_email(cls, value: str | None) -> str | None:
        try:
            return fields.email(value)
        except fields.FieldError as err:
            raise ValueError(str(err)) from None

    @field_validator("first_top_up")
    @classmethod
    def _first_top_up(cls, value: Decimal | None) -> Decimal | None:
        if value is not None and value <= 0:
            raise ValueError('give an amount above 0 such as "20.00", or leave first_top_up out')
        return value


class ReportMail(_Frozen):
    """Reports e-mailed on a schedule (docs/reports.md, "Scheduled delivery"): the
    `reports` (report or pack names, as `jet report list` shows them) go `to` these
    addresses `every` month (on the 2nd, covering the month before) or week (on
    Mondays, the week before), as `format` files filtered to this realm."""

    reports: tuple[str, ...]
    to: tuple[str, ...]
    every: Literal["month", "week"] = "month"
    format: Literal["pdf", "xlsx", "csv", "html", "json", "parquet"] = "pdf"

    @field_validator("reports")
    @classmethod
    def _reports(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("give at least one report or pack name, as `jet report list` shows")
        return value

    @field_validator("to")
    @classmethod
    def _to(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("give at least one address to send the reports to")
        try:
            return tuple(fields.email(address) for address in value)
        except fields.FieldError as err:
            raise ValueError(str(err)) from None


class Realm(_Frozen):
    """Who bills: currency, tax and cycle settings shared by every account of the realm,
    and how it collects (all optional, docs/payments.md): `payment_terms` days from the
    bill date to the due date (14 when not given), `sepa`, `gateway`, `dunning`,
    `prepaid`; `ledger_accounts`, the journal's account codes (docs/exports.md); and
    how its invoices are e-mailed (`mail`)."""

    id: Ident
    name: str = ""
    currency: str
    tax_rate: Rate
    cycle: Literal["fixed_date", "anniversary"]
    cycle_day: int | None = None
    invoice_prefix: str = ""
    # How invoice numbers print: {prefix}, {year} (of the bill date) and {number}, the
    # realm's gapless sequence, e.g. "{prefix}-{year}-{number:06d}" -> ACME-2026-000123.
    invoice_format: str = "{prefix}-{year}-{number:06d}"
    # None when not given, so that a catalog stored before these existed reads the same.
    payment_terms: int | None = None
    sepa: Sepa | None = None
    gateway: Gateway | None = None
    dunning: tuple[DunningStep, ...] | None = None
    prepaid: Prepaid | None = None
    ledger_accounts: LedgerAccounts | None = None
    mail: Mail | None = None
    # What its invoices say and how they look (jet.realm_branding, docs/invoices.md).
    seller: Seller | None = None
    payment: PaymentDetails | None = None
    branding: Branding | None = None
    # Its customer portal (docs/portal-accounts.md); None: the realm has none.
    portal: Portal | None = None
    # Reports e-mailed on a schedule (docs/reports.md); None when not given, as above.
    report_mail: tuple[ReportMail, ...] | None = None

    @field_validator("dunning")
    @classmethod
    def _ladder(cls, steps: tuple[DunningStep, ...] | None) -> tuple[DunningStep, ...] | None:
        seen = set()
        for step in steps or ():
            if (step.after_days, step.action) in seen:
                raise ValueError(
                    f"dunning has two {step.action} steps at {step.after_days} days: "
                    "each step is taken once, so give each (after_days, action) once"
                )
            seen.add((step.after_days, step.action))
        return steps

    @property
    def terms_days(self) -> int:
        """Days from the bill date to the due date."""
        return 14 if self.payment_terms is None else self.payment_terms

    @model_validator(mode="before")
    @classmethod
    def _defaults_from_id(cls, data: Any) -> Any:
        ident = data.get("id") if isinstance(data, dict) else None
        if isinstance(ident, str) and _IDENT.fullmatch(ident):
            data = {"name": ident, "invoice_prefix": ident.upper(), **data}
        return data

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Z]{3}", value):
            raise ValueError(f'expected a 3-letter ISO 4217 code such as "AUD", got {value!r}')
        return value

    @field_validator("invoice_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Z0-9][A-Z0-9_-]*", value):
            raise ValueError(f'expected capitals, digits, "-" or "_" such as "ACME", got {value!r}')
        return value

    @field_validator("invoice_format")
    @classmethod
    def _format(cls, value: str) -> str:
        expected = (
            'placeholders {prefix}, {year} and {number}, such as "{prefix}-{year}-{number:06d}"'
        )
        try:
            sample = value.format(prefix="ACME", year=2026, number=123)
        except (KeyError, IndexError, ValueError) as err:
            raise ValueError(f"expected {expected}, got {value!r} ({err})") from None
        if "{number" not in value or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", sample):
            raise ValueError(
                f"expected {expected} giving letters, digits, '-', '_' or '.', got {value!r}"
            )
        return value

    @model_validator(mode="after")
    def _cycle_rules(self) -> Realm:
        day = self.cycle_day
        if self.cycle == "fixed_date" and day is None:
            _refuse([(("cycle_day",), "a fixed_date cycle needs cycle_day (1 to 28), got none")])
        elif self.cycle == "fixed_date" and not 1 <= day <= 28:
            _refuse([(("cycle_day",), f"expected a day from 1 to 28, got {day}")])
        elif self.cycle == "anniversary" and day is not None:
            _refuse([(("cycle_day",), f"an anniversary cycle takes no cycle_day, got {day}")])
        if self.portal and self.portal.first_top_up is not None and self.prepaid is None:
            _refuse([(("portal", "first_top_up"), "a first top-up is for a prepaid realm: "
                      "add prepaid (its low_balance) or remove first_top_up")])  # fmt: skip
        if self.sepa is not None and self.currency != "EUR":
            _refuse([(("sepa",), f"SEPA direct debit collects euros; the realm's currency is "
                                 f"{self.currency}: remove sepa or bill in EUR")])  # fmt: skip
        return self


class Tier(_Frozen):
    """One price band; `upto` is inclusive, in units, and absent on the last band."""

    upto: Quantity | None = None
    price: Money


class Product(_Frozen):
    """Something a plan charges for; which fields apply depends on `type` (_TYPE_FIELDS)."""

    id: Ident
    type: Literal["flat", "once", "usage", "duration"]
    name: str | None = None  # what invoices print; None: `display_name`, from the id
    price: Money | None = None
    period: Literal["monthly", "quarterly", "yearly"] | None = None
    refund_unused: bool = True
    taxable: bool = True
    metric: Literal["bytes_in", "bytes_out", "bytes_total"] | None = None
    unit: str | None = None
    tiers: tuple[Tier, ...] | None = None
    tier_mode: Literal["graduated", "volume"] | None = None

    @property
    def display_name(self) -> str:
        """The name invoices print: `name`, else the id made readable ("home-data" ->
        "Home data")."""
        return self.name or self.id.replace("-", " ").replace("_", " ").capitalize()

    @property
    def months(self) -> int | None:
        """Months in one service period of a flat product (1, 3 or 12); None otherwise."""
        return _MONTHS[self.period] if self.type == "flat" and self.period else None

    @model_validator(mode="after")
    def _type_rules(self) -> Product:
        _refuse(_product_problems(self))
        return self


def _product_problems(p: Product) -> list[tuple[Loc, str]]:
    """Every rule of billing-rules.md "Product types" that `p` breaks."""
    problems: list[tuple[Loc, str]] = []
    allowed = _TYPE_FIELDS[p.type]
    for name in sorted(p.model_fields_set - {"id", "type", "name"} - set(allowed)):
        problems.append(
            ((name,), f"a {p.type} product does not take {name}; it takes: {', '.join(allowed)}")
        )

    def need(name: str, hint: str) -> None:
        if getattr(p, name) is None:
            problems.append(((name,), f"a {p.type} product needs {name} ({hint}), got none"))

    if p.type in ("flat", "once"):
        need("price", 'a quoted decimal such as "59.95"')
    if p.type == "flat":
        need("period", "monthly, quarterly or yearly")
    if p.type == "usage":
        need("metric", "bytes_in, bytes_out or bytes_total")
    if p.type in ("usage", "duration"):
        units = USAGE_UNITS if p.type == "usage" else DURATION_UNITS
        need("unit", " ".join(units))
        if p.unit is not None and p.unit not in units:
            problems.append((("unit",), f"expected one of {', '.join(units)}, got {p.unit!r}"))
        problems += _pricing_problems(p)
    return problems


def _pricing_problems(p: Product) -> list[tuple[Loc, str]]:
    """Usage and duration are priced by exactly one of `price` or `tiers` + `tier_mode`."""
    problems: list[tuple[Loc, str]] = []
    if p.price is not None and p.tiers is not None:
        problems.append((("price",), f"a {p.type} product takes price or tiers, got both"))
    if p.price is None and p.tiers is None:
        problems.append((("price",), f"a {p.type} product needs price or tiers, got neither"))
    if p.tiers is not None and p.tier_mode is None:
        problems.append((("tier_mode",), "tiers need tier_mode (graduated or volume), got none"))
    if p.tiers is None and p.tier_mode is not None:
        problems.append(
            (("tier_mode",), f"tier_mode applies to tiers, got {p.tier_mode!r} and no tiers")
        )
    if p.tiers == ():
        problems.append((("tiers",), "expected at least one tier, got an empty list"))
    return problems + _tier_problems(p.tiers or ())


def _tier_problems(tiers: tuple[Tier, ...]) -> list[tuple[Loc, str]]:
    """Bounds rise strictly from above 0, and the last tier is the unbounded one."""
    problems: list[tuple[Loc, str]] = []
    previous = Decimal(0)
    for i, tier in enumerate(tiers):
        where: Loc = ("tiers", i, "upto")
        if i == len(tiers) - 1:
            if tier.upto is not None:
                msg = f"the last tier has no upto (it is unbounded), got {tier.upto}"
                problems.append((where, msg))
        elif tier.upto is None:
            problems.append((where, "every tier but the last needs an upto bound, got none"))
        elif tier.upto <= previous:
            bound = "0" if i == 0 else f"the previous tier's upto {previous}"
            problems.append((where, f"expected a bound greater than {bound}, got {tier.upto}"))
        else:
            previous = tier.upto
    return problems


class RadiusAttributes(_Frozen):
    """What a NAS is told in the Access-Accept of a subscriber on the plan: Session-Timeout
    and Idle-Timeout in seconds, and the rate limit as Mikrotik-Rate-Limit ("upload/
    download") and WISPr-Bandwidth-Max-Up/Down in bit/s."""

    session_timeout: Seconds | None = None
    idle_timeout: Seconds | None = None
    rate_limit: RateLimit | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _given(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None:  # `key:` with nothing after it: leave the key out instead
            raise ValueError(f"expected a value for {info.field_name}, got nothing")
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> RadiusAttributes:
        if not self.model_fields_set:
            keys = ", ".join(type(self).model_fields)
            _refuse([((), f"expected at least one of {keys}, got an empty mapping")])
        return self


class Plan(_Frozen):
    """What a subscription buys: a set of products of the same catalog, and optionally the
    RADIUS reply attributes of its subscribers' sessions.

    `usage_source` names the one source that meters the plan's usage and duration
    products, so an account seen by RADIUS and by NetFlow is not billed twice; without
    it every source counts (right only where each account has one)."""

    id: Ident
    products: tuple[str, ...]
    radius: RadiusAttributes | None = None
    usage_source: Literal["radius", "netflow", "upstream_csv"] | None = None

    @field_validator("radius", mode="before")
    @classmethod
    def _radius_given(cls, value: Any) -> Any:
        if not isinstance(value, dict | RadiusAttributes):
            keys = ", ".join(RadiusAttributes.model_fields)
            found = "nothing" if value is None else _show(value)
            raise ValueError(f"expected a mapping of {keys}, got {found}")
        return value

    @model_validator(mode="after")
    def _known_products(self, info: ValidationInfo) -> Plan:
        _refuse(_plan_problems(self, (info.context or {}).get("product_ids")))
        return self


def _plan_problems(plan: Plan, known: set[str] | None) -> list[tuple[Loc, str]]:
    """A plan names at least one product, each once; `known` (when given) holds them all."""
    if not plan.products:
        return [(("products",), f"plan {plan.id!r} needs at least one product, got none")]
    problems: list[tuple[Loc, str]] = []
    for i, name in enumerate(plan.products):
        if known is not None and name not in known:
            defined = ", ".join(sorted(known)) or "none"
            msg = f"plan {plan.id!r} names unknown product {name!r}; the catalog defines: {defined}"
            problems.append((("products", i), msg))
        elif name in plan.products[:i]:
            problems.append((("products", i), f"plan {plan.id!r} names product {name!r} twice"))
    return problems


class Catalog(_Frozen):
    """One version of a realm's catalog, in force from `effective_from`."""

    realm: Realm
    effective_from: Day
    products: dict[str, Product]
    plans: dict[str, Plan]

    @model_validator(mode="before")
    @classmethod
    def _ids_from_keys(cls, data: Any) -> Any:
        """In the file a product's or plan's id is its key."""
        if isinstance(data, dict):
            data = dict(data)
            for group in ("products", "plans"):
                if isinstance(items := data.get(group), dict):
                    data[group] = {
                        k: {"id": k, **v} if isinstance(v, dict) else v for k, v in items.items()
                    }
        return data

    @model_validator(mode="after")
    def _consistent(self) -> Catalog:
        problems: list[tuple[Loc, str]] = []
        for group, items in (("products", self.products), ("plans", self.plans)):
            for key, item in items.items():
                if item.id != key:
                    problems.append(
                        ((group, key, "id"), f"expected the key {key!r}, got {item.id!r}")
                    )
        for key, plan in self.plans.items():
            problems += [
                (("plans", key, *loc), m) for loc, m in _plan_problems(plan, set(self.products))
            ]
        for name in self.realm.ledger_accounts.products if self.realm.ledger_accounts else ():
            if name not in self.products:
                defined = ", ".join(self.products)
                msg = f"names unknown product {name!r}; the catalog defines: {defined}"
                problems.append((("realm", "ledger_accounts", "products", name), msg))
        for name in self.realm.portal.plans if self.realm.portal else ():
            if name not in self.plans:
                defined = ", ".join(self.plans)
                msg = f"names unknown plan {name!r}; the catalog defines: {defined}"
                problems.append((("realm", "portal", "plans"), msg))
        _refuse(problems)
        return self

    def to_dict(self) -> dict:
        """JSON-able form of the catalog file that parse_catalog reads back to an equal Catalog."""
        realm = self.realm.model_dump(mode="json", exclude_none=True)
        realm["tax_rate"] = _text(self.realm.tax_rate)
        return {
            "realm": realm,
            "effective_from": self.effective_from.isoformat(),
            "products": {key: _product_dict(p) for key, p in self.products.items()},
            "plans": {key: _plan_dict(plan) for key, plan in self.plans.items()},
        }


def _text(number: Decimal) -> str:
    return f"{number:f}"


def _plan_dict(plan: Plan) -> dict:
    out: dict[str, Any] = {"products": list(plan.products)}
    if plan.radius is not None:
        out["radius"] = plan.radius.model_dump(exclude_none=True)
    if plan.usage_source is not None:
        out["usage_source"] = plan.usage_source
    return out


def _product_dict(p: Product) -> dict:
    out: dict[str, Any] = {"type": p.type} | ({"name": p.name} if p.name else {})
    for name in _TYPE_FIELDS[p.type]:
        value = getattr(p, name)
        if name == "tiers" and value is not None:
            value = [
                {"price": _text(t.price)} | ({} if t.upto is None else {"upto": _text(t.upto)})
                for t in value
            ]
        elif isinstance(value, Decimal):
            value = _text(value)
        if value is not None:
            out[name] = value
    return out


# --- parsing ---------------------------------------------------------------------------


def parse_catalog(data: dict, source: str) -> Catalog:
    """Validate a loaded catalog file; any problem refuses the whole catalog."""
    return _parse(data, source, rename={}, problems=[])


def load_catalog_file(path: str | Path) -> Catalog:
    """Read, check and return the catalog in `path`."""
    path = Path(path)
    data = load_yaml(path.read_text(encoding="utf-8"), str(path))
    realm = data.get("realm")
    if isinstance(realm, dict) and "branding" in realm:  # its files are beside the catalog
        data["realm"] = realm | {"branding": with_paths_from(realm["branding"], path.parent)}
    return parse_catalog(data, str(path))


def parse_realm_and_catalog(
    realm: dict, catalog: dict, effective_from: date, source: str
) -> Catalog:
    """The `realm` and `catalog` blocks of a scenario file, checked like a catalog file."""
    problems: list[tuple[str, str]] = []
    data: dict[str, Any] = {"realm": realm, "effective_from": effective_from}
    if isinstance(catalog, dict):
        for key in catalog:
            if key not in ("products", "plans"):
                problems.append((f"catalog.{key}", "unknown key; expected one of: products, plans"))
        data |= {k: v for k, v in catalog.items() if k in ("products", "plans")}
    else:
        problems.append(
            ("catalog", f"expected a mapping of products and plans, got {_show(catalog)}")
        )
        data |= {"products": {}, "plans": {}}
    rename = {"products": "catalog.products", "plans": "catalog.plans"}
    return _parse(data, source, rename=rename, problems=problems)


def _parse(
    data: Any, source: str, rename: dict[str, str], problems: list[tuple[str, str]]
) -> Catalog:
    products = data.get("products") if isinstance(data, dict) else None
    context = {"product_ids": set(products) if isinstance(products, dict) else set()}
    try:
        catalog = Catalog.model_validate(data, context=context)
    except ValidationError as exc:
        for error in exc.errors():
            if error["type"] == "catalog_rules":
                for loc, message in error["ctx"]["problems"]:
                    problems.append((_path((*error["loc"], *loc), rename), message))
            else:
                problems.append((_path(error["loc"], rename), _message(error)))
        raise CatalogError(source, problems) from None
    if problems:
        raise CatalogError(source, problems)
    return catalog


def _path(loc: Loc, rename: dict[str, str]) -> str:
    """("products", "data", "tiers", 1, "upto") -> "products.data.tiers[1].upto"."""
    if not loc:
        return "(document)"
    parts = [rename.get(str(loc[0]), str(loc[0]))]
    for part in loc[1:]:
        parts.append(f"[{part}]" if isinstance(part, int) else f".{part}")
    return "".join(parts)


def _message(error: dict) -> str:
    """Pydantic's message reworded as "expected ..., got ..."."""
    kind, message = error["type"], error["msg"]
    if kind == "value_error":
        return message.removeprefix("Value error, ")
    if kind == "missing":
        return "required, but missing"
    if kind == "extra_forbidden":
        allowed = _allowed_keys(error["loc"][:-1])
        return f"unknown key; expected one of: {', '.join(allowed)}"
    message = message.replace("Input should be ", "expected ", 1)
    return f"{message}, got {_show(error['input'])}"


def _allowed_keys(loc: Loc) -> list[str]:
    match loc:
        case ("realm",):
            model: type[BaseModel] = Realm
        case ("realm", "seller" | "payment" | "branding" | "portal" as block):
            model = {
                "seller": Seller,
                "payment": PaymentDetails,
                "branding": Branding,
                "portal": Portal,
            }[block]
        case ("realm", "report_mail", int()):
            model = ReportMail
        case ("products", _):
            model = Product
        case ("products", _, "tiers", int()):
            model = Tier
        case ("plans", _):
            model = Plan
        case ("plans", _, "radius"):
            model = RadiusAttributes
        case _:
            model = Catalog
    return [name for name in model.model_fields if name != "id" or model is Realm]


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
