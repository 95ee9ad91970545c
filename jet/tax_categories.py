"""The UNCL5305 tax category of a line, as e-invoices (EN 16931) name it."""

from __future__ import annotations

from decimal import Decimal


def tax_category(taxable: bool, rate: Decimal) -> str:
    """ "S" (standard rate) for a taxable line at a rate above zero, "Z" (zero rated) for a
    taxable line at a zero rate, "E" (exempt) for a line the realm does not tax."""
    if not taxable:
        return "E"
    return "S" if rate else "Z"
