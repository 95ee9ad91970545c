"""The demo's portal logins (jet.drivers.demo_portal): a sample customer of each kind per
realm with a portal, given the printed password, which signs them in."""

from __future__ import annotations

from jet.accounts import update_account
from jet.audit import Actor
from jet.config import Settings
from jet.drivers.demo_portal import PASSWORD, DemoCustomer, prepare_portal
from jet.portal_logins import customer_of, portal_sign_in
from jet.store.db import session
from tests.unit.test_portal_data import home  # noqa: F401 (the fixture)


def test_the_demo_gives_a_sample_of_each_kind_the_printed_password(home: Settings) -> None:  # noqa: F811
    with session(home.db_url) as s:
        update_account(s, "olaf", prepaid=True, actor=Actor("root", "cli"))
    found = prepare_portal(home)
    acme, skyfi = "https://localhost:8502/?realm=acme", "https://localhost:8502/?realm=skyfi"
    # olaf is prepaid but under bigco: customers sign in at the top of their tree.
    assert found == [
        DemoCustomer("ann", "acme", "person", acme),
        DemoCustomer("bigco", "acme", "company", acme),
        DemoCustomer("sky", "skyfi", "person", skyfi),
    ]
    assert prepare_portal(home) == found  # a second demo run sets the same again
    with session(home.db_url) as s:
        for c in found:
            assert customer_of(s, portal_sign_in(s, c.login, PASSWORD)).realm_id == c.realm
