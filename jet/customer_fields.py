"""What a customer's details must look like: each check names the field, what was wrong
and what to give instead (`FieldError`), so that a command, an import row and a form
all refuse the same input with the same words."""

from __future__ import annotations

import re
from functools import cache

from email_validator import EmailNotValidError, validate_email
from email_validator.rfc_constants import CASE_INSENSITIVE_MAILBOX_NAMES
from stdnum.au import abn
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError
from stdnum.gb import vat as gb_vat
from stdnum.nz import ird

from jet.errors import JetError

KINDS = ("person", "company")
DELIVERIES = ("email", "paper")
_LOGIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,63}")


class FieldError(JetError, ValueError):
    """A detail that cannot be stored as given; `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


def login(value: str) -> str:
    value = (value or "").strip()
    if not _LOGIN.fullmatch(value):
        raise FieldError(
            "login",
            f"{value!r} is not a login: give 1 to 64 letters, digits, '.', '_', '+' or '-', "
            "starting with a letter or digit (no '@': RADIUS adds the realm after it)",
        )
    return value


def name(value: str | None) -> str:
    value = (value or "").strip()
    if not value or len(value) > 200:
        raise FieldError("name", "give the customer's name, 1 to 200 characters")
    return value


def choice(field: str, value: str | None, allowed: tuple[str, ...]) -> str:
    value = (value or allowed[0]).strip().lower()
    if value not in allowed:
        raise FieldError(field, f"{value!r} is not one of {', '.join(allowed)}")
    return value


def email(value: str | None) -> str | None:
    if not value or not value.strip():
        return None
    plain = _plain_email(value.strip())
    if plain is not None:
        return plain
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized
    except EmailNotValidError as err:
        raise FieldError("email", f"{value!r} is not an e-mail address: {err}") from None


# The common shape of an address (ASCII, dot-atom before the @, letters, digits and
# single hyphens after it, ending in a letter), which email-validator accepts and
# normalizes by lowercasing the domain (and a role name such as info@). It decides such
# addresses in ~1 µs instead of ~80 µs, which an import of a million accounts notices;
# anything else goes to email-validator. tests/unit/test_customer_fields.py holds the two
# to the same answers.
_PLAIN_EMAIL = re.compile(
    r"([A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*)"
    r"@((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z])?)"
)
_SPECIAL_USE = frozenset({"arpa", "invalid", "local", "localhost", "onion", "test"})
_ROLE_NAMES = frozenset(CASE_INSENSITIVE_MAILBOX_NAMES)


def _plain_email(value: str) -> str | None:
    """email-validator's normalized form of a plain address, or None to ask it."""
    if len(value) > 254 or "--" in value:  # "--": R-LDH and Punycode labels
        return None
    found = _PLAIN_EMAIL.fullmatch(value)
    if found is None:
        return None
    local, domain = found.groups()
    domain = domain.lower()
    if domain.rsplit(".", 1)[1] in _SPECIAL_USE:
        return None
    if local.lower() in _ROLE_NAMES:
        local = local.lower()
    normalized = f"{local}@{domain}"
    return value if normalized == value else normalized  # the same text, held once


def phone(value: str | None) -> str | None:
    if not value or not value.strip():
        return None
    value = " ".join(value.split())
    if not re.fullmatch(r"\+?[0-9 ()./-]{5,40}", value) or sum(c.isdigit() for c in value) < 5:
        raise FieldError(
            "phone", f"{value!r} is not a phone number: give digits, e.g. +61 2 9876 5432"
        )
    return value


def country(value: str | None) -> str | None:
    if not value or not value.strip():
        return None
    code = value.strip().upper()
    if code not in _countries():
        raise FieldError(
            "country", f"{value!r} is not an ISO 3166 country code: give two letters, e.g. AU"
        )
    return code


def text(field: str, value: str | None, most: int) -> str | None:
    if value is None or not value.strip():
        return None
    value = value.strip()
    if len(value) > most:
        raise FieldError(field, f"has {len(value)} characters; at most {most}")
    return value


def tax_id(value: str | None, country_code: str | None) -> str | None:
    """A tax identifier, checked where its country has a validator: an ABN (AU), an IRD or
    GST number (NZ), a VAT number (EU member states, GB); kept as given elsewhere."""
    if not value or not value.strip():
        return None
    value = value.strip()
    code = (country_code or "").upper()
    check = _CHECKS.get(code)
    if check is None:
        return value
    validate, what = check
    if what == _EU_VAT and value[:2].isdigit():
        value = ("EL" if code == "GR" else code) + value  # the VAT prefix of its country
    try:
        return validate(value)
    except ValidationError as err:
        raise FieldError(
            "tax_id", f"{value!r} is not a valid {what}: {err} (check the number, or its country)"
        ) from None


_EU_VAT = "EU VAT number"
_CHECKS = {
    "AU": (abn.validate, "Australian Business Number (ABN)"),
    "NZ": (ird.validate, "New Zealand IRD/GST number"),
    "GB": (gb_vat.validate, "UK VAT number"),
    "GR": (eu_vat.validate, _EU_VAT),
    **{code.upper(): (eu_vat.validate, _EU_VAT) for code in eu_vat.MEMBER_STATES},
}


@cache
def _countries() -> frozenset[str]:
    from babel import Locale

    return frozenset(k for k in Locale("en").territories if len(k) == 2 and k.isalpha())
