"""What a realm's invoices say about the seller, how to pay it and how they look: the
catalog realm's `seller`, `payment` and `branding` blocks (docs/invoices.md), and the
realm brand file `$JET_HOME/realms/<realm>/brand.yaml` that overrides `branding`.

A logo is kept as its bytes (a `data:` URI) once read, so a catalog version stored in the
database still has it when the file it came from is gone. Text blocks (`footer`,
`terms`, payment `reference`, `pay_url`, `text`) are Jinja2 templates, checked here and
rendered per document (reports.issued_invoices)."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

import yaml
from babel import Locale, UnknownLocaleError
from jinja2 import TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from jet import bank_ids
from jet.errors import JetError

TEMPLATES = SandboxedEnvironment(autoescape=False, keep_trailing_newline=False)
_COLOUR = re.compile(r"#[0-9A-Fa-f]{6}")
_IMAGE_TYPES = {b"\x89PNG": "image/png", b"\xff\xd8\xff": "image/jpeg"}
BRAND_FILE = "brand.yaml"


class BrandError(JetError, ValueError):
    """A refused brand: what was wrong, and what to give instead."""


def _template(value: str | None) -> str | None:
    if value is not None:
        try:
            TEMPLATES.parse(value)
        except TemplateSyntaxError as err:
            raise ValueError(f"expected a Jinja2 template, got {value!r} ({err})") from None
    return value


def logo_data(path: Path) -> str:
    """The PNG or JPEG file `path` as a `data:` URI."""
    if not path.is_file():
        raise ValueError(f"logo file {path} does not exist")
    data = path.read_bytes()
    kind = next((t for magic, t in _IMAGE_TYPES.items() if data.startswith(magic)), None)
    if kind is None:
        raise ValueError(f"logo file {path} is not a PNG or JPEG image")
    return f"data:{kind};base64,{base64.b64encode(data).decode('ascii')}"


class _Block(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Seller(_Block):
    """The realm as the seller its invoices name."""

    legal_name: str | None = None
    address: tuple[str, ...] = ()
    country: str | None = None
    tax_id: str | None = None  # ABN, GST number, VAT id
    email: str | None = None
    phone: str | None = None
    website: str | None = None

    @field_validator("country")
    @classmethod
    def _country(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Z]{2}", value):
            raise ValueError(f'expected an ISO 3166 country code such as "AU", got {value!r}')
        return value


class PaymentDetails(_Block):
    """How customers pay the realm: its bank account (an Australian BSB and account number,
    or an IBAN and BIC), the reference to quote, the portal's link and a text block (the
    last three Jinja2 templates of the invoice: {{ number }}, {{ amount_due }} ...), and
    whether an EPC (SEPA credit transfer) QR code prints, for a euro realm with an IBAN."""

    account_name: str | None = None
    bsb: str | None = None
    account_number: str | None = None
    iban: str | None = None
    bic: str | None = None
    reference: str | None = "{{ number }}"
    pay_url: str | None = None
    text: str | None = None
    epc_qr: bool = False

    @field_validator("reference", "pay_url", "text")
    @classmethod
    def _templates(cls, value: str | None) -> str | None:
        return _template(value)

    @field_validator("iban")
    @classmethod
    def _iban(cls, value: str | None) -> str | None:
        return None if value is None else bank_ids.iban(value)

    @field_validator("bic")
    @classmethod
    def _bic(cls, value: str | None) -> str | None:
        return None if value is None else bank_ids.bic(value)

    @field_validator("bsb")
    @classmethod
    def _bsb(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"\d{3}-?\d{3}", value):
            raise ValueError(f'expected a BSB of six digits such as "062-000", got {value!r}')
        return value


class Branding(_Block):
    """How the realm's documents look and speak: a logo (PNG or JPEG: a path relative to
    the file that names it, kept as a data: URI), colours as #RRGGBB, TTF fonts (none: the
    shipped DejaVu Sans), a babel locale for dates and money, footer and terms (Jinja2
    templates), and whether invoices embed the EN 16931 e-invoice."""

    logo: str | None = None
    primary_colour: str | None = None
    accent_colour: str | None = None
    font_regular: str | None = None
    font_bold: str | None = None
    locale: str | None = None
    footer: str | None = None
    terms: str | None = None
    einvoice: bool | None = None

    @field_validator("primary_colour", "accent_colour")
    @classmethod
    def _colour(cls, value: str | None) -> str | None:
        if value is not None and not _COLOUR.fullmatch(value):
            raise ValueError(f'expected a colour as #RRGGBB such as "#1F3A5F", got {value!r}')
        return value

    @field_validator("locale")
    @classmethod
    def _locale(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                Locale.parse(value)
            except (UnknownLocaleError, ValueError):
                raise ValueError(
                    f'expected a locale such as "en_AU", "de_DE" or "en_IE", got {value!r}'
                ) from None
        return value

    @field_validator("footer", "terms")
    @classmethod
    def _templates(cls, value: str | None) -> str | None:
        return _template(value)

    @field_validator("logo")
    @classmethod
    def _logo(cls, value: str | None) -> str | None:
        if value is None or value.startswith("data:"):
            return value
        return logo_data(Path(value))

    @field_validator("font_regular", "font_bold")
    @classmethod
    def _font(cls, value: str | None) -> str | None:
        if value is not None and not Path(value).is_file():
            raise ValueError(f"font file {value} does not exist")
        if value is not None and Path(value).suffix.lower() != ".ttf":
            raise ValueError(f"expected a TrueType font file (.ttf), got {value}")
        return value

    def over(self, base: Branding | None) -> Branding:
        """These settings, and `base`'s where these give none."""
        if base is None:
            return self
        return base.model_copy(update=self.model_dump(exclude_none=True))


def with_paths_from(block: Any, folder: Path) -> Any:
    """A branding block as read from a file in `folder`: its logo and font paths made
    absolute, so that they are found whatever the current directory."""
    if not isinstance(block, dict):
        return block
    out = dict(block)
    for key in ("logo", "font_regular", "font_bold"):
        value = out.get(key)
        if isinstance(value, str) and not value.startswith("data:"):
            out[key] = str((folder / value).resolve())
    return out


def brand_path(home: Path, realm_id: str) -> Path:
    return home / "realms" / realm_id / BRAND_FILE


def read_brand(home: Path, realm_id: str) -> Branding | None:
    """The realm brand file's settings, None where there is none."""
    path = brand_path(home, realm_id)
    if not path.is_file():
        return None
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    try:
        return Branding.model_validate(with_paths_from(data, path.parent))
    except ValidationError as err:
        raise BrandError(f"{path}: {_problems(err)}; fix it or run `jet realm brand`") from None


def write_brand(home: Path, realm_id: str, changes: dict[str, Any]) -> Path:
    """Merge `changes` into the realm's brand file, the logo copied beside it; a change
    that does not validate leaves the file as it was."""
    path = brand_path(home, realm_id)
    current = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else {}
    merged = {**(current or {}), **{k: v for k, v in changes.items() if v is not None}}
    try:
        Branding.model_validate(with_paths_from(merged, path.parent))
    except ValidationError as err:
        raise BrandError(
            f"brand of realm {realm_id} refused, nothing changed: {_problems(err)}"
        ) from None
    logo = changes.get("logo")
    path.parent.mkdir(parents=True, exist_ok=True)
    if logo:
        source = Path(logo).resolve()
        target = path.parent / f"logo{source.suffix.lower()}"
        if source != target.resolve():
            target.write_bytes(source.read_bytes())
        merged["logo"] = target.name
    for key in ("font_regular", "font_bold"):
        if changes.get(key):
            merged[key] = str(Path(changes[key]).resolve())
    temp = path.with_suffix(".tmp")
    temp.write_text(yaml.safe_dump(merged, sort_keys=True, allow_unicode=True), encoding="utf-8")
    temp.replace(path)
    return path


def _problems(err: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc'])}: {e['msg'].removeprefix('Value error, ')}"
        for e in err.errors()
    )
