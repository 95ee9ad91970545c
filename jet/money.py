"""Money rules of billing-rules.md: Decimal only, half away from zero, the currency's minor unit."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

# ISO 4217 currencies whose minor unit is not 2 places.
_MINOR_UNITS = {
    **dict.fromkeys(["BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG"], 0),
    **dict.fromkeys(["RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF"], 0),
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
}


def minor_units(currency: str) -> int:
    """Decimal places of the currency's minor unit (2 unless ISO 4217 says 0 or 3)."""
    return _MINOR_UNITS.get(currency.upper(), 2)


def round_money(value: Decimal, places: int) -> Decimal:
    """Round half away from zero (Decimal's ROUND_HALF_UP) to `places`."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def format_money(value: Decimal, places: int) -> str:
    """Exactly `places` decimals, as invoices print them: "16.45", "-70.43", "1200"."""
    return f"{round_money(Decimal(value), places):f}"
