"""A realm's general-ledger account codes (the catalog's optional `ledger_accounts`), which
the journal for accountants posts to (reports/gl_journal.py, docs/exports.md).

Every code has a default, so a realm without the block still gets a balanced journal;
a finance team sets its own chart's codes, and a product's own revenue account."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict

_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def _code(value: Any) -> str:
    """An account code as a chart of accounts writes it: "1100", "4010.01", "REV-HOME"
    (a YAML integer such as 1100 is taken as its digits)."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        value = str(value)
    if not isinstance(value, str) or not _CODE.fullmatch(value):
        raise ValueError(
            f'expected an account code of letters, digits, ".", "-" or "_" such as "4010", '
            f"got {value!r}"
        )
    return value


Code = Annotated[str, BeforeValidator(_code)]


class LedgerAccounts(BaseModel):
    """Where the journal posts: `receivables` (what customers owe), `tax_payable` (tax
    invoiced, owed to the tax office), `bank` (payments received and paid back),
    `revenue` (every line whose product has no code of its own, and line items),
    `write_offs` (debts given up) and `products` (a product id's own revenue account)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    receivables: Code = "1100"
    bank: Code = "1000"
    tax_payable: Code = "2200"
    revenue: Code = "4000"
    write_offs: Code = "6900"
    products: dict[str, Code] = {}

    def revenue_account(self, product_id: str | None) -> str:
        """The revenue account of a line of `product_id` (None: an external line item)."""
        return self.products.get(product_id or "", self.revenue)
