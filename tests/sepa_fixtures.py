"""The euro realm of the direct-debit tests: eurowave (examples/catalogs/eurowave.yaml),
its billing accounts `anna` and `ben` (each with a mandate), `carl` (none), `dora`
under `anna`, and invoices issued by `tests.ledger_fixtures.issue`."""

from __future__ import annotations

from datetime import date

from jet.accounts import add_accounts
from jet.audit import Actor
from jet.catalog import load_catalog_file
from jet.mandates import add_mandate
from jet.realms import store_catalog
from tests.ledger_fixtures import CATALOGS

ME = Actor("finance@eurowave.example", "cli")
CREDITOR_IBAN = "DE89370400440532013000"
ANNA_IBAN = "DE02120300000000202051"
BEN_IBAN = "DE02500105170137075030"


def eurowave(s) -> None:
    store_catalog(s, load_catalog_file(CATALOGS / "eurowave.yaml"), "eurowave.yaml")
    add_accounts(
        s,
        "eurowave",
        [
            {"id": "anna", "name": "Anna Arndt"},
            {"id": "ben", "name": "Ben Beck"},
            {"id": "carl", "name": "Carl Cramer"},
        ],
    )
    add_accounts(s, "eurowave", [{"id": "dora", "name": "Dora", "parent": "anna"}])
    add_mandate(s, ME, "anna", ANNA_IBAN, "EW-MANDATE-0001", date(2025, 12, 1))
    add_mandate(s, ME, "ben", BEN_IBAN, "EW-MANDATE-0002", date(2025, 12, 2), bic="BYLADEM1001")
    s.flush()
