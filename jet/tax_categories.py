"""Tax category codes of UN/CEFACT UNCL5305, as invoices and exports for accountants and
e-invoices (EN 16931) name them: one rule, so every document says the same of a line."""

from __future__ import annotations

from decimal import Decimal

STANDARD = "S"
ZERO_RATED = "Z"
EXEMPT = "E"


def tax_category(taxable: bool, rate: Decimal) -> str:
    """ "S" standard rated (taxable at a rate above 0), "Z" zero rated (taxable at 0),
    "E" exempt (a product or line item with `taxable: false`)."""
    if not taxable:
        return EXEMPT
    return STANDARD if rate > 0 else ZERO_RATED
