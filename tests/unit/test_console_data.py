"""The console's reads and actions (apps/streamlit/data) on a real store and real Parquet
marts: each keeps to the staff member's realms and role, refusals are audited, and a new
publish is seen at once."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from decimal import Decimal as D
from ipaddress import IPv4Address

import polars as pl
import pytest
from sqlalchemy import select

from apps.streamlit import data
from apps.streamlit.data import actions
from apps.streamlit.data.marts import connection
from jet.accounts import add_accounts, update_account
from jet.addresses import assign
from jet.audit import Actor
from jet.catalog import load_catalog_file
from jet.config import PROJECT_ROOT
from jet.nas import add_nas_client
from jet.quality.frames import Hold
from jet.quality.results import Finding, record
from jet.realms import store_catalog
from jet.roles import Forbidden, Staff
from jet.store.db import session
from jet.store.models import Account, AuditEntry

CATALOGS = PROJECT_ROOT / "examples" / "catalogs"
ADMIN = Staff("ada@isp.example", "Ada", "admin", None)
ACME_ADMIN = Staff("amy@isp.example", "Amy", "admin", frozenset({"acme"}))
SALES = Staff("sam@isp.example", "Sam", "sales", frozenset({"acme"}))
HELPDESK = Staff("hal@isp.example", "Hal", "helpdesk", frozenset({"acme"}))


@pytest.fixture
def home(settings):
    """Two realms, an account in each, and marts published for both."""
    with session(settings.db_url) as s:
        for realm in ("acme", "skyfi"):
            path = CATALOGS / f"{realm}.yaml"
            store_catalog(s, load_catalog_file(path), str(path))
        add_accounts(s, "acme", [{"id": "ann", "name": "Ann Lee", "email": "ann@example.net"}])
        add_accounts(s, "skyfi", [{"id": "sky", "name": "Sky Walker"}], Actor.here())
    settings.marts.mkdir(parents=True, exist_ok=True)
    publish(settings, "fct_invoice_lines", _lines())
    publish(
        settings,
        "fct_radius_sessions",
        pl.DataFrame(
            {
                "account_id": ["ann", "sky"],
                "realm_id": ["acme", "skyfi"],
                "framed_ip": [int.from_bytes(bytes([100, 64, 0, 7])), 1684025841],
                "started_at": [datetime.now(UTC)] * 2,
                "ended_at": [None, None],
            },
            schema_overrides={"framed_ip": pl.UInt32, "ended_at": pl.Datetime(time_zone="UTC")},
        ),
    )
    return settings


def publish(settings, name: str, frame: pl.DataFrame) -> None:
    frame.write_parquet(settings.marts / f"{name}.parquet")


def _lines(amount: str = "69.00") -> pl.DataFrame:
    return pl.DataFrame(
        {
            "realm_id": ["acme", "skyfi"],
            "bill_date": [date.today().replace(day=1)] * 2,
            "product_id": ["home-access", "unlimited-pass"],
            "kind": ["advance", "advance"],
            "account_id": ["ann", "sky"],
            "billing_account_id": ["ann", "sky"],
            "amount": [D(amount), D("39.00")],
        },
        schema_overrides={"amount": pl.Decimal(18, 3)},
    )


def refusals(settings) -> list[AuditEntry]:
    with session(settings.db_url) as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == "access.refused")))


def test_search_keeps_to_the_staff_members_realms(home):
    assert data.search_accounts(home, HELPDESK, "a")["account_id"].to_list() == ["ann"]
    assert set(data.search_accounts(home, ADMIN, "a")["account_id"]) == {"ann", "sky"}
    assert data.search_accounts(home, HELPDESK, "ann@example")["account_id"].to_list() == ["ann"]


def test_search_by_the_address_of_an_open_session(home):
    found = data.search_accounts(home, HELPDESK, "100.64.0.7")
    assert found.select("account_id", "online_as").rows() == [("ann", "100.64.0.7")]
    # skyfi's session address: not in a helpdesk of acme's realms
    assert data.search_accounts(home, HELPDESK, "100.96.0.241").is_empty()


def test_another_realms_account_reads_as_not_found_and_is_audited(home):
    assert data.search_accounts(home, HELPDESK, "sky").is_empty()
    assert data.search_accounts(home, HELPDESK, "nobody").is_empty()
    (typed,) = refusals(home)
    assert typed.actor == HELPDESK.email and typed.after["about"] == "sky"
    page = data.account_page(home, HELPDESK, "ann")
    assert page["profile"]["realm_id"] == "acme" and page["profile"]["name"] == "Ann Lee"
    with pytest.raises(data.AccountNotFound, match="no account 'sky' in your realms"):
        data.account_page(home, HELPDESK, "sky")
    with pytest.raises(data.AccountNotFound, match="no account 'nobody'"):
        data.account_page(home, HELPDESK, "nobody")
    assert [(r.actor, r.after["about"]) for r in refusals(home)] == [(HELPDESK.email, "sky")] * 2
    with pytest.raises(data.AccountNotFound):
        actions.reset_password(home, HELPDESK, "sky")


def test_overview_counts_only_the_realms_given(home):
    revenue = data.overview(home, SALES)["revenue_by_month_plan"]
    assert revenue["product"].to_list() == ["home-access"]
    assert set(data.overview(home, ADMIN)["revenue_by_month_plan"]["product"]) == {
        "home-access",
        "unlimited-pass",
    }
    assert "held_invoices" not in data.overview(home, SALES)  # the gate is admins'


def test_overview_money_is_never_added_across_currencies(home):
    currencies = {"realm_id": ["acme", "skyfi"], "currency": ["AUD", "NZD"]}  # a realm's one
    publish(home, "dim_accounts", pl.DataFrame(currencies))
    month = date.today().replace(day=1)
    every = data.overview(home, ADMIN)
    assert every["mrr"].rows() == [(month, "AUD", D("69.000")), (month, "NZD", D("39.000"))]
    assert every["arpu"]["currency"].to_list() == ["AUD", "NZD"]
    assert set(every["revenue_by_month_plan"].select("product", "currency").rows()) == {
        ("home-access", "AUD"),
        ("unlimited-pass", "NZD"),
    }
    assert every["active_accounts"].rows() == [(month, 2)]  # a count: of every currency
    assert data.overview(home, SALES)["mrr"].rows() == [(month, "AUD", D("69.000"))]


def test_a_new_publish_is_read_at_once(home):
    before = data.overview(home, SALES)["revenue_by_month_plan"]["revenue"].to_list()
    old = connection(home)  # a page still reading while the next run publishes
    publish(home, "fct_invoice_lines", _lines("79.00"))
    stat = (home.marts / "fct_invoice_lines.parquet").stat()
    os.utime(home.marts / "fct_invoice_lines.parquet", ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))
    after = data.overview(home, SALES)["revenue_by_month_plan"]["revenue"].to_list()
    assert before == [D("69.000")] and after == [D("79.000")]
    assert connection(home) is not old
    assert old.sql("select count(*) from fct_invoice_lines").fetchall() == [(2,)]


def test_each_role_acts_in_its_realm_only(home):
    assert actions.create_account(home, SALES, "acme", "bob", "Bob Ray", None) == "bob"
    actions.subscribe(home, SALES, "bob", "home", date(2026, 3, 1))
    with pytest.raises(Forbidden):
        actions.create_account(home, SALES, "skyfi", "eve", "Eve", None)
    with pytest.raises(Forbidden, match="may not billing.run"):
        actions.run_billing(home, SALES, date(2026, 3, 1), date(2026, 3, 1))
    with pytest.raises(Forbidden, match="may not billing.run across every realm"):
        actions.run_billing(home, ACME_ADMIN, date(2026, 3, 1), date(2026, 3, 1))
    with pytest.raises(Forbidden, match="may not account.suspend"):
        actions.suspend(home, SALES, "bob")

    actions.suspend(home, HELPDESK, "bob")
    password = actions.reset_password(home, HELPDESK, "bob")
    with session(home.db_url) as s:
        bob = s.get(Account, "bob")
        assert bob.status == "suspended" and bob.radius_password == password
        by = {e.action: e.actor for e in s.scalars(select(AuditEntry))}
    assert by["account.created"] == SALES.email and by["password.changed"] == HELPDESK.email
    assert [(e.actor, e.after["action"]) for e in refusals(home)] == [
        (SALES.email, "account.create"),
        (SALES.email, "billing.run"),
        (ACME_ADMIN.email, "billing.run"),
        (SALES.email, "account.suspend"),
    ]


def test_a_catalog_upload_gets_the_loaders_messages_and_is_audited(home):
    # An upload has no folder: a logo is an absolute path or a data: URL in it.
    text = (CATALOGS / "acme.yaml").read_text().replace("2026-01-01", "2026-06-01", 1)
    text = text.replace("../brands/", f"{CATALOGS.parent / 'brands'}/")
    assert actions.load_catalog(home, ACME_ADMIN, text, "acme.yaml") == (
        "stored the catalog of acme from 2026-06-01"
    )
    versions = data.catalog_versions(home, ACME_ADMIN)
    assert versions["effective_from"].to_list() == [date(2026, 6, 1), date(2026, 1, 1)]
    with pytest.raises(Forbidden):
        actions.load_catalog(home, ACME_ADMIN, (CATALOGS / "skyfi.yaml").read_text(), "s.yaml")
    with pytest.raises(Exception, match="plans"):
        actions.load_catalog(home, ACME_ADMIN, "realm: {id: acme}\n", "broken.yaml")


HELD_DAY = date(2026, 3, 1)
KNOWN = "raw_radius.known_account"  # a blocking check


def _fail(check: str, *holds: Hold) -> Finding:
    return Finding(
        check=check, blocking=True, rows_checked=10, rows_failing=len(holds) * 2, sample=[],
        holds=list(holds), error=None, checked_at=datetime.now(UTC),
        first_bill_date=HELD_DAY, last_bill_date=HELD_DAY,
    )  # fmt: skip


@pytest.fixture
def held(home):
    """Ann's and Sky's draft invoices at HELD_DAY, both held by a failed KNOWN check."""
    publish(
        home,
        "fct_invoice_drafts",
        pl.DataFrame(
            {
                "billing_account_id": ["ann", "sky"],
                "bill_date": [HELD_DAY] * 2,
                "realm_id": ["acme", "skyfi"],
                "currency": ["AUD", "USD"],
                "total": [D("75.900"), D("39.000")],
            },
            schema_overrides={"total": pl.Decimal(18, 3)},
        ),
    )
    with session(home.db_url) as s:
        passed = _fail("raw_radius.columns")
        record(
            s,
            [
                _fail(KNOWN, Hold("acme", HELD_DAY, HELD_DAY), Hold("skyfi", HELD_DAY, HELD_DAY)),
                Finding(**{**passed.__dict__, "rows_failing": 0}),
            ],
        )
    return home


def test_held_invoices_show_the_realms_given_and_a_waiver_needs_every_realm_held(held):
    columns = ["check", "realm", "bill_date", "invoices", "currency", "total", "reason"]
    acme = data.held_invoices(held, ACME_ADMIN)
    assert acme.columns == columns
    assert acme.rows() == [(KNOWN, "acme", HELD_DAY, 1, "AUD", D("75.900"), "4 of 10 rows fail")]
    assert data.held_invoices(held, SALES).rows() == acme.rows()  # invoice.read is every role's
    assert set(data.held_invoices(held, ADMIN)["realm"]) == {"acme", "skyfi"}
    assert data.quality(held, ACME_ADMIN).select("check", "passed").rows() == [
        (KNOWN, False),
        ("raw_radius.columns", True),
    ]
    with pytest.raises(Forbidden, match="quality.read"):
        data.quality(held, SALES)

    # A waiver of a check and date lets out skyfi's invoices too: not for acme's admin.
    with pytest.raises(Forbidden, match="billing.waive"):
        actions.waive(held, ACME_ADMIN, KNOWN, "the accounts exist now")
    refused = refusals(held)[-1]
    assert (refused.actor, refused.after["realm"]) == (ACME_ADMIN.email, "skyfi")
    assert data.held_invoices(held, ADMIN).height == 2

    assert actions.waive(held, ADMIN, KNOWN, "the accounts exist now") == [HELD_DAY]
    assert data.held_invoices(held, ADMIN).is_empty()
    with session(held.db_url) as s:
        waived = s.scalars(select(AuditEntry).where(AuditEntry.action == "quality.waived")).all()
    assert [(e.actor, e.channel, e.entity_id, e.after) for e in waived] == [
        (
            ADMIN.email,
            "console",
            KNOWN,
            {"bill_dates": "2026-03-01", "reason": "the accounts exist now"},
        )
    ]
    assert actions.waive(held, ADMIN, KNOWN, "again") == []  # waived already: nothing new


def test_collectors_are_admins_and_catalogs_keep_to_the_realms(home):
    publish(
        home,
        "fct_source_freshness",
        pl.DataFrame(
            {
                "source": ["radius", "radius", "netflow"],
                "sender": ["10.0.0.5", "10.0.0.9", "10.0.9.1"],
                "sender_name": ["acme-bras-05", "skyfi-bras-09", "core-exporter"],
                "last_landed_at": [datetime.now(UTC)] * 3,
                "silent_seconds": [60, 120, 90_000],
                "status": ["pass", "pass", "error"],
            }
        ),
    )
    with session(home.db_url) as s:
        add_nas_client(s, "10.0.0.5", "secret", "acme")
        add_nas_client(s, "10.0.0.9", "secret", "skyfi")
    assert data.collectors(home, ADMIN).select("sender", "status").rows() == [
        ("10.0.9.1", "error"),  # the most silent first
        ("10.0.0.9", "pass"),
        ("10.0.0.5", "pass"),
    ]
    # an admin of acme: acme's NAS only, not skyfi's nor the network's exporter
    assert data.collectors(home, ACME_ADMIN)["sender"].to_list() == ["10.0.0.5"]
    eurowave_admin = Staff("eve@isp.example", "Eve", "admin", frozenset({"eurowave"}))
    assert data.collectors(home, eurowave_admin).is_empty()  # a realm with no NAS
    with pytest.raises(Forbidden, match="collectors.read"):
        data.collectors(home, HELPDESK)
    assert data.catalog_versions(home, SALES)["realm"].to_list() == ["acme"]
    assert set(data.catalog_versions(home, ADMIN)["realm"]) == {"acme", "skyfi"}
    with pytest.raises(Forbidden, match="catalog.read"):
        data.catalog_versions(home, HELPDESK)


def test_the_account_page_shows_its_own_usage_and_sessions(home):
    publish(
        home,
        "fct_usage_daily",
        pl.DataFrame(
            {
                "account_id": ["ann", "sky"],
                "usage_date": [date.today()] * 2,
                "source": ["radius", "radius"],
                "bytes_in": [2_000_000_000, 7],
                "bytes_out": [500_000_000, 7],
            }
        ),
    )
    with session(home.db_url) as s:
        update_account(s, "ann", framed_ip="100.64.5.5", actor=HELPDESK.actor)
        assign(s, "ann", "203.0.113.0/29")
    page = data.account_page(home, HELPDESK, "ann")
    assert (page["profile"]["static_ip"], page["profile"]["networks"]) == (
        "100.64.5.5",
        "203.0.113.0/29",
    )
    assert page["usage"].rows() == [(date.today(), "radius", 2.5)]
    assert page["sessions"].is_empty() and page["invoices"].is_empty()
    assert page["balance"].startswith("0")


def test_plan_changes_suspension_and_disconnect_as_the_staff_member(home):
    actions.subscribe(home, SALES, "ann", "home", date(2026, 3, 1))
    actions.change_plan(home, SALES, "ann", "business", date(2026, 4, 1))
    with pytest.raises(Forbidden, match="may not subscription.change"):
        actions.change_plan(home, HELPDESK, "ann", "home", date(2026, 5, 1))
    actions.suspend(home, HELPDESK, "ann")
    actions.reactivate(home, HELPDESK, "ann")
    (outcome,) = actions.disconnect(home, HELPDESK, "ann")  # not online: nothing sent
    assert not outcome.failed
    with pytest.raises(data.AccountNotFound):
        actions.disconnect(home, HELPDESK, "sky")
    with session(home.db_url) as s:
        assert s.get(Account, "ann").status == "active"
        mine = [
            e.action
            for e in s.scalars(select(AuditEntry).where(AuditEntry.actor != "system"))
            if e.actor in (SALES.email, HELPDESK.email)
        ]
    assert {"plan.changed", "account.suspended", "session.disconnect"} <= set(mine), mine


def test_invoices_of_the_realms_given_with_their_pdf(home):
    publish(
        home,
        "fct_invoices",
        pl.DataFrame(
            {
                "invoice_number": ["ACME-2026-000001", "ACME-2026-000002", "SKY-2026-000001"],
                "document_kind": ["invoice"] * 3,
                "realm_id": ["acme", "acme", "skyfi"],
                "billing_account_id": ["ann", "ann", "sky"],
                "bill_date": [date(2026, 3, 1), date(2026, 4, 1), date(2026, 3, 1)],
                "currency": ["AUD", "AUD", "NZD"],
                "total": [D("75.90"), D("75.90"), D("39.00")],
                "issued_at": [datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)]
                + [datetime(2026, 3, 1, tzinfo=UTC)],
                "amount_paid": [D("75.90"), D("0"), D("0")],
                "amount_due": [D("0"), D("75.90"), D("39.00")],
            },
            schema_overrides={c: pl.Decimal(18, 3) for c in ("total", "amount_paid", "amount_due")},
        ),
    )
    mine = data.invoices(home, HELPDESK)
    assert mine["number"].to_list() == ["ACME-2026-000002", "ACME-2026-000001"]  # newest first
    assert mine["pdf_path"][0] == str(home.pdf_dir / "acme" / "ACME-2026-000002.pdf")
    assert data.invoices(home, HELPDESK, "sky").is_empty()
    assert data.invoices(home, HELPDESK, unpaid=True)["number"].to_list() == ["ACME-2026-000002"]
    assert data.invoices(home, ADMIN, "SKY")["realm"].to_list() == ["skyfi"]
    assert data.invoices(home, ADMIN, limit=1).height == 1


def land_radius(settings, **columns) -> None:
    """Accounting records landed today (only the columns the search reads)."""
    landed = settings.raw / "radius" / f"date={date.today()}"
    landed.mkdir(parents=True, exist_ok=True)
    frame = pl.DataFrame(columns, schema_overrides={"framed_ip": pl.UInt32})
    frame.write_parquet(landed / f"batch-{len(list(landed.iterdir()))}.parquet")


def test_search_by_the_mac_address_a_session_came_from(home):
    land_radius(
        home,
        user_name=["ann@acme", "sky@skyfi"],
        calling_station_id=["AA-BB-CC-DD-EE-01", "aabb.ccdd.ee02"],
        framed_ip=[None, None],
    )
    found = data.search_accounts(home, HELPDESK, "aa:bb:cc:dd:ee:01")
    assert found.select("account_id", "online_as").rows() == [("ann", "aa:bb:cc:dd:ee:01")]
    assert data.search_accounts(home, HELPDESK, "AA-BB-CC-DD-EE-02").is_empty()  # skyfi's
    assert data.search_accounts(home, ADMIN, "AA-BB-CC-DD-EE-02")["account_id"].to_list() == ["sky"]


def test_search_by_the_address_of_a_session_started_since_the_last_publish(home):
    # Online now, after fct_radius_sessions was published: only the landed accounting has it.
    with session(home.db_url) as s:
        add_accounts(s, "acme", [{"id": "cid", "name": "Cid Moss"}], HELPDESK.actor)
    land_radius(
        home,
        user_name=["cid@acme", "sky@skyfi"],
        calling_station_id=[None, None],
        framed_ip=[int(IPv4Address("100.64.1.9")), int(IPv4Address("100.96.1.9"))],
    )
    found = data.search_accounts(home, HELPDESK, "100.64.1.9")
    assert found.select("account_id", "online_as").rows() == [("cid", "100.64.1.9")]
    assert data.search_accounts(home, HELPDESK, "100.96.1.9").is_empty()  # skyfi's
    assert data.search_accounts(home, ADMIN, "100.96.1.9")["account_id"].to_list() == ["sky"]
    # the published session's address is still found through the mart
    assert data.search_accounts(home, HELPDESK, "100.64.0.7")["account_id"].to_list() == ["ann"]
