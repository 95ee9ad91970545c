"""The portal's test home (`home`): two realms' accounts, a person, a company with two
users and a prepaid-capable account of another realm, with invoices, PDFs and marts;
shared by the portal's data, page and demo tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal as D

import polars as pl
import pytest

from jet.accounts import add_accounts, subscribe
from jet.audit import Actor
from jet.catalog import load_catalog_file
from jet.realms import store_catalog
from jet.store.db import session
from reports.issued_invoices import render_pdfs
from tests.ledger_fixtures import CATALOGS, issue

STAFF = Actor("root", "cli")
TODAY = date.today()
CYCLE = TODAY.replace(day=1)
UTC_TIME = pl.Datetime(time_zone="UTC")


@pytest.fixture(name="home")
def portal_home(settings, monkeypatch):
    """acme: `ann` (a person on home), the company `bigco` with users `sue` and `olaf`;
    skyfi: `sky`. An invoice each for ann, bigco and sky, their PDFs rendered, and marts
    of usage, allowances and sessions for all of them."""
    monkeypatch.setenv("ACME_GATEWAY_KEY", "sk_test_acme")
    with session(settings.db_url) as s:
        for realm in ("acme", "skyfi"):
            store_catalog(s, load_catalog_file(CATALOGS / f"{realm}.yaml"), realm)
        add_accounts(s, "acme", [
            {"id": "ann", "name": "Ann Lee", "email": "ann@example.net"},
            {"id": "bigco", "name": "Big Co", "kind": "company"},
            {"id": "sue", "name": "Sue", "parent": "bigco"},
            {"id": "olaf", "name": "Olaf", "parent": "bigco"},
        ], STAFF)  # fmt: skip
        add_accounts(s, "skyfi", [{"id": "sky", "name": "Sky Walker"}], STAFF)
        subscribe(s, "ann", "home", date(2026, 1, 1), actor=STAFF)
        for account, total in (("ann", "75.90"), ("bigco", "150.00"), ("sky", "39.00")):
            issue(s, account, CYCLE, total)
    assert len(render_pdfs(settings, processes=1)) == 3
    settings.marts.mkdir(parents=True, exist_ok=True)
    ids = ["ann", "sue", "olaf", "sky"]
    realms = ["acme", "acme", "acme", "skyfi"]
    publish_mart(settings, "fct_usage_daily", pl.DataFrame({
        "account_id": ids, "usage_date": [TODAY] * 4, "source": ["radius"] * 4,
        "bytes_in": [3_000_000_000, 1, 2, 4], "bytes_out": [1_000_000_000, 1, 2, 4],
        "seconds": [7200, 1, 1, 1], "records": [3, 1, 1, 1],
    }))  # fmt: skip
    publish_mart(settings, "fct_usage_allowances", pl.DataFrame({
        "billing_account_id": ["ann", "bigco"], "realm_id": ["acme", "acme"],
        "account_id": ["ann", "olaf"], "subscription_id": [1, 2],
        "product_id": ["home-data", "home-data"], "period_start": [CYCLE, CYCLE],
        "period_end": [CYCLE + timedelta(days=31)] * 2,
        "used": [D("400.000000000"), D("9")], "included": [D("500"), D("500")],
        "threshold": [80, None],
    }, schema_overrides={"used": pl.Decimal(38, 9), "included": pl.Decimal(18, 3)}))  # fmt: skip
    now = datetime.now(UTC)
    publish_mart(settings, "fct_radius_sessions", pl.DataFrame({
        "account_id": ids, "realm_id": realms, "user_name": ids,
        "nas_ip": [int.from_bytes(bytes([10, 0, 0, i])) for i in (1, 2, 3, 4)],
        "nas_identifier": ["bras-1", None, None, None], "acct_session_id": ["a", "b", "c", "d"],
        "started_at": [now - timedelta(hours=2)] * 4, "ended_at": [now, None, None, None],
        "bytes_in": [3_000_000_000, 1, 2, 4], "bytes_out": [1_000_000_000, 1, 2, 4],
    }, schema_overrides={"nas_ip": pl.UInt32, "ended_at": UTC_TIME}))  # fmt: skip
    return settings


def publish_mart(settings, name: str, frame: pl.DataFrame) -> None:
    frame.write_parquet(settings.marts / f"{name}.parquet")
