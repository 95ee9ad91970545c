"""Bank identifiers checked before anything names them: IBANs and BICs with `schwifty`,
SEPA creditor identifiers by their own check digits. Each check returns the compact form
Jet stores, or raises a ValueError that says what is wrong with the value."""

from __future__ import annotations

import re

from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException

# CC, two check digits, a three-character business code, the national identifier.
_CREDITOR_ID = re.compile(r"([A-Z]{2})([0-9]{2})([A-Z0-9]{3})([A-Z0-9]{1,28})")


def iban(value: str) -> str:
    """The IBAN without spaces, in capitals."""
    try:
        return IBAN(value).compact
    except SchwiftyException as err:
        raise ValueError(f"IBAN {value!r} is not valid: {_said(err)}") from None


def bic(value: str) -> str:
    """The BIC in capitals (8 or 11 characters)."""
    try:
        return BIC(value).compact
    except SchwiftyException as err:
        raise ValueError(f"BIC {value!r} is not valid: {_said(err)}") from None


def creditor_id(value: str) -> str:
    """A SEPA creditor identifier such as DE98ZZZ09999999999: its check digits are ISO
    7064 MOD 97-10 of the national identifier and the country, the business code left
    out (EPC262-08)."""
    compact = value.replace(" ", "").upper()
    found = _CREDITOR_ID.fullmatch(compact)
    if found is None:
        raise ValueError(
            f"creditor id {value!r} is not valid: expected a country code, 2 check digits, a "
            "3-character business code and the national id, such as DE98ZZZ09999999999"
        )
    country, digits, _, national = found.groups()
    number = "".join(str(int(c, 36)) for c in national + country) + "00"
    if f"{98 - int(number) % 97:02d}" != digits:
        raise ValueError(f"creditor id {value!r} is not valid: its check digits are wrong")
    return compact


def _said(err: SchwiftyException) -> str:
    text = str(err)
    return (text[0].lower() + text[1:]) if text else type(err).__name__
