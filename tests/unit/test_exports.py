"""The pieces of the exports for accountants that need no store: tax codes, the tax
shared among an invoice's lines, the catalog's ledger accounts, the journal's check."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jet.catalog import CatalogError, load_yaml, parse_catalog
from jet.cli.invoice import FORMATS as CLI_FORMATS
from jet.gl_accounts import LedgerAccounts
from jet.money import round_money
from jet.tax_categories import tax_category
from reports.gl_journal import check_balanced
from reports.invoice_export import FORMATS, ExportError, allocate_tax, write_rows

D = Decimal


def test_tax_categories_are_uncl5305_codes():
    assert tax_category(True, D("0.10")) == "S"
    assert tax_category(True, D("0")) == "Z"
    assert tax_category(False, D("0.10")) == "E"
    assert tax_category(False, D("0")) == "E"


def test_the_tax_is_shared_so_the_lines_add_up_to_the_invoice():
    # three lines of 0.05 at 10%: 0.005 each rounds to 0.01 (0.03), the invoice 0.015 to 0.02
    assert allocate_tax(D("0.02"), [D("0.05")] * 3, 2) == [D("0.01"), D("0.00"), D("0.01")]
    # untaxed lines get nothing; a refund line its negative share
    assert allocate_tax(D("5.00"), [D("100"), None, D("-50")], 2) == [
        D("10.00"),
        D("0.00"),
        D("-5.00"),
    ]
    assert allocate_tax(D("0"), [D("3"), None], 0) == [D("0"), D("0")]
    assert allocate_tax(D("0.10"), [D("1"), D("-1")], 2) == [D("0.00"), D("0.10")]
    with pytest.raises(ExportError, match="no taxable line"):
        allocate_tax(D("1.00"), [None], 2)


amounts = st.lists(
    st.one_of(st.none(), st.decimals("-500", "500", places=2)), min_size=1, max_size=12
)


@given(amounts, st.sampled_from(["0.10", "0.2", "0.075", "0.19"]))
def test_shares_always_add_up_to_the_invoice_tax(lines, rate):
    taxable = sum((a for a in lines if a is not None), D(0))
    tax = round_money(taxable * D(rate), 2)
    if tax and all(a is None for a in lines):
        return
    shares = allocate_tax(tax, lines, 2)
    assert sum(shares, D(0)) == tax
    assert all(s == round_money(s, 2) for s in shares)
    assert all(s == 0 for s, a in zip(shares, lines, strict=True) if a is None)


CATALOG = """\
realm:
  id: acme
  currency: AUD
  tax_rate: "0.10"
  cycle: fixed_date
  cycle_day: 1
  ledger_accounts: {receivables: 1100, products: {access: "4010.01"}}
effective_from: 2026-01-01
products:
  access: {type: flat, price: "59.95", period: monthly}
plans:
  home: {products: [access]}
"""


def test_ledger_accounts_come_from_the_catalog_with_defaults():
    realm = parse_catalog(load_yaml(CATALOG, "c.yaml"), "c.yaml").realm
    accounts = realm.ledger_accounts
    assert accounts.receivables == "1100" and accounts.tax_payable == "2200"
    assert accounts.revenue_account("access") == "4010.01"
    assert accounts.revenue_account("other") == accounts.revenue_account(None) == "4000"
    assert LedgerAccounts().bank == "1000"
    plain = parse_catalog(load_yaml(CATALOG.replace("  ledger_accounts", "  #"), "c"), "c")
    assert plain.realm.ledger_accounts is None
    assert "ledger_accounts" not in plain.to_dict()["realm"]  # stored catalogs read the same


def test_ledger_accounts_that_name_no_product_or_a_bad_code_are_refused():
    wrong = CATALOG.replace('access: "4010.01"', 'acess: "4010"')
    with pytest.raises(CatalogError, match="names unknown product 'acess'"):
        parse_catalog(load_yaml(wrong, "c.yaml"), "c.yaml")
    with pytest.raises(CatalogError, match="expected an account code"):
        parse_catalog(load_yaml(CATALOG.replace("1100", '"11 00"'), "c.yaml"), "c.yaml")


def test_formats_are_one_list_and_unknown_ones_are_refused(tmp_path):
    assert CLI_FORMATS == FORMATS
    with pytest.raises(ExportError, match="no export format 'pdf'; choose one of csv"):
        write_rows([], (), "pdf", tmp_path / "x.pdf")


def test_an_unbalanced_journal_is_refused():
    row = {"journal_id": "X-1", "debit": D("1.00"), "credit": None}
    with pytest.raises(ExportError, match="X-1 do not balance"):
        check_balanced([row, {"journal_id": "X-1", "debit": None, "credit": D("0.99")}])
    check_balanced([row, {"journal_id": "X-1", "debit": None, "credit": D("1.00")}])
