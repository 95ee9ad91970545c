"""A customer reaches its own account and the accounts under it, nothing else; every
other id is refused as if it did not exist, and the attempt is audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from jet.accounts import add_accounts
from jet.audit import Actor
from jet.catalog import load_catalog_file
from jet.config import PROJECT_ROOT, Settings
from jet.customer_access import NotYours, customer, own
from jet.realms import store_catalog
from jet.store.db import session
from jet.store.models import AuditEntry

STAFF = Actor("root", "cli")


@pytest.fixture
def url(settings: Settings) -> str:
    """In acme: a company with two cost-centres and a user under each; a person apart."""
    with session(settings.db_url) as s:
        path = PROJECT_ROOT / "examples" / "catalogs" / "acme.yaml"
        store_catalog(s, load_catalog_file(path), str(path))
        add_accounts(
            s,
            "acme",
            [
                {"id": "bigco", "name": "Big Co", "kind": "company"},
                {"id": "bigco-sales", "name": "Sales", "parent": "bigco"},
                {"id": "bigco-ops", "name": "Ops", "parent": "bigco"},
                {"id": "sue", "name": "Sue", "parent": "bigco-sales"},
                {"id": "olaf", "name": "Olaf", "parent": "bigco-ops"},
                {"id": "pat", "name": "Pat"},
            ],
            STAFF,
        )
    return settings.db_url


def test_a_company_sees_its_whole_tree_a_user_only_itself(url):
    with session(url) as s:
        company = customer(s, "bigco")
        sue = customer(s, "sue")
        centre = customer(s, "bigco-sales")
    assert company.accounts == {"bigco", "bigco-sales", "bigco-ops", "sue", "olaf"}
    assert company.realm_id == "acme" and company.actor == Actor("bigco", "portal")
    assert sue.accounts == {"sue"} and not sue.sees("olaf") and not sue.sees("bigco")
    assert centre.accounts == {"bigco-sales", "sue"}


def test_another_account_is_refused_like_a_missing_one_and_audited(url):
    with session(url) as s:
        sue = customer(s, "sue")
        own(s, sue, "sue")  # its own: nothing happens
    with session(url) as s, pytest.raises(NotYours) as sibling:
        own(s, sue, "olaf", "usage")
    with session(url) as s:
        with pytest.raises(NotYours) as missing:
            own(s, sue, "nobody", "usage")
        s.rollback()  # whatever the caller does next, the refusal stays recorded
    assert str(sibling.value).replace("olaf", "X") == str(missing.value).replace("nobody", "X")
    with session(url) as s:
        refused = s.scalars(select(AuditEntry).where(AuditEntry.action == "access.refused")).all()
    assert [(e.actor, e.channel, e.after["asked"], e.after["about"]) for e in refused] == [
        ("sue", "portal", "olaf", "usage"),
        ("sue", "portal", "nobody", "usage"),
    ]


def test_no_customer_for_an_unknown_login(url):
    with session(url) as s, pytest.raises(NotYours, match="no account 'ghost'"):
        customer(s, "ghost")
