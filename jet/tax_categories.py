"""The UNCL5305 tax category of an invoice line (EN 16931 BT-151): what the PDF's tax per
rate and the e-invoice group lines by."""

from __future__ import annotations

from decimal import Decimal


def tax_category(taxable: bool, rate: Decimal) -> str:
    """ "S" (standard rate) for a taxable line of a realm that charges tax; "E" (exempt) for
    a line billed without tax, or any line of a realm whose rate is 0."""
    return "S" if taxable and rate > 0 else "E"
