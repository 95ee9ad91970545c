"""A realm's portal block: its public plans are plans of the catalog, its hosts are host
names, a first top-up only where the realm is prepaid; the demo realms have one each."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from jet.catalog import CatalogError, load_catalog_file
from jet.portal_realms import portal_of, realm_for_host
from jet.realms import store_catalog
from jet.store.db import session

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "catalogs"

BASE = """\
realm:
  id: acme
  currency: AUD
  tax_rate: "0.10"
  cycle: fixed_date
  cycle_day: 1
{extra}
effective_from: 2026-01-01
products:
  access: {{type: flat, price: "59.95", period: monthly}}
plans:
  home: {{products: [access]}}
  office: {{products: [access]}}
"""


def parsed(tmp_path: Path, extra: str):
    path = tmp_path / "catalog.yaml"
    path.write_text(BASE.format(extra=extra), encoding="utf-8")
    return load_catalog_file(path)


def refused(tmp_path: Path, extra: str) -> str:
    with pytest.raises(CatalogError) as caught:
        parsed(tmp_path, extra)
    return str(caught.value)


def test_the_demo_realms_have_portals():
    acme = load_catalog_file(EXAMPLES / "acme.yaml").realm.portal
    assert acme.signup and acme.hosts == ("portal.acme.localhost",)
    assert acme.plans == ("home", "hotspot") and acme.first_top_up is None
    skyfi = load_catalog_file(EXAMPLES / "skyfi.yaml").realm.portal
    assert skyfi.first_top_up == Decimal("10.00") and skyfi.support_email == "help@skyfi.example"
    assert not load_catalog_file(EXAMPLES / "eurowave.yaml").realm.portal.signup


def test_a_portal_block_round_trips_and_defaults_to_no_signup(tmp_path):
    catalog = parsed(
        tmp_path,
        "  portal: {hosts: [Portal.Acme.Example.], plans: [home], support_email: s@a.example}",
    )
    portal = catalog.realm.portal
    assert not portal.signup and portal.hosts == ("portal.acme.example",)
    assert portal.plans == ("home",) and portal.support_email == "s@a.example"
    assert catalog.to_dict()["realm"]["portal"]["plans"] == ["home"]
    assert parsed(tmp_path, "").realm.portal is None


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            "  portal: {plans: [home, gold]}",
            "unknown plan 'gold'; the catalog defines: home, office",
        ),
        ("  portal: {hosts: ['https://acme.example/']}", "is not a host name"),
        ("  portal: {hosts: [a.example, A.example]}", "a host is given twice"),
        ("  portal: {support_email: nobody}", "is not an e-mail address"),
        ('  portal: {first_top_up: "20.00"}', "a first top-up is for a prepaid realm"),
        ('  prepaid: {low_balance: "1"}\n  portal: {first_top_up: "0"}', "an amount above 0"),
        ("  portal: {sign_up: true}", "sign_up"),
    ],
)
def test_mistakes_in_a_portal_block_are_refused(tmp_path, extra, message):
    assert message in refused(tmp_path, extra)


def test_the_realm_is_chosen_by_the_portal_host(settings):
    with session(settings.db_url) as s:
        for name in ("acme", "skyfi"):
            path = EXAMPLES / f"{name}.yaml"
            store_catalog(s, load_catalog_file(path), str(path))
        assert realm_for_host(s, "Portal.Skyfi.localhost:8502") == "skyfi"
        assert realm_for_host(s, "portal.acme.localhost") == "acme"
        assert realm_for_host(s, "localhost") is None and realm_for_host(s, "") is None
        assert portal_of(s, "acme").support_email == "support@acme.example"
