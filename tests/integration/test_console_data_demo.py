"""The console's reads and actions on what `jet demo` builds (three realms, three billing
cycles, published marts): a staff member of acme gets acme's rows and figures and nothing
of skyfi's or eurowave's, checked against the marts read directly."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest
from sqlalchemy import select

from apps.streamlit import data
from apps.streamlit.data import actions
from apps.streamlit.data.overview import _since
from jet.config import Settings
from jet.roles import Forbidden, Staff
from jet.store.db import session
from jet.store.models import AuditEntry

pytestmark = pytest.mark.integration

ACCOUNTS = 60
SALES = Staff("sales@acme.example", "Sam", "sales", frozenset({"acme"}))
HELPDESK = Staff("helpdesk@acme.example", "Hal", "helpdesk", frozenset({"acme"}))
ADMIN = Staff("admin@jet.example", "Ada", "admin", None)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """One `jet demo` for the module (about two minutes)."""
    home = tmp_path_factory.mktemp("console-demo") / "home"
    jet = Path(sys.executable).parent / "jet"
    subprocess.run(
        [str(jet), "demo", "--accounts", str(ACCOUNTS)],
        env={"PATH": str(jet.parent) + ":/usr/bin:/bin", "JET_HOME": str(home), "HOME": str(home)},
        check=True,
        capture_output=True,
        timeout=900,
    )
    settings = Settings(home=home)
    settings.export()
    return settings


def mart(settings: Settings, sql: str, params: list | None = None) -> list[tuple]:
    """What a mart holds, read straight from its Parquet file (not through the console)."""
    with duckdb.connect() as con:
        for path in settings.marts.glob("*.parquet"):
            con.execute(f"create view {path.stem} as select * from read_parquet('{path}')")
        return con.execute(sql, params or []).fetchall()


def account_of(settings: Settings, realm: str) -> str:
    """An active account of `realm` that pays its own invoices and has been invoiced."""
    return mart(
        settings,
        """select min(account_id) from dim_accounts
           where realm_id = ? and status = 'active' and account_id = billing_account_id
             and account_id in (select billing_account_id from fct_invoices)""",
        [realm],
    )[0][0]


def test_the_demo_has_three_realms(demo):
    assert {r for (r,) in mart(demo, "select distinct realm_id from dim_accounts")} == {
        "acme",
        "skyfi",
        "eurowave",
    }


def test_acme_staff_read_acmes_figures_only(demo):
    since = _since()
    ((acme,),) = mart(
        demo,
        "select sum(amount) from fct_invoice_lines where realm_id = 'acme' and bill_date >= ?",
        [since],
    )
    ((every,),) = mart(
        demo, "select sum(amount) from fct_invoice_lines where bill_date >= ?", [since]
    )
    assert acme < every
    assert data.overview(demo, SALES)["revenue_by_month_plan"]["revenue"].sum() == acme
    assert data.overview(demo, ADMIN)["revenue_by_month_plan"]["revenue"].sum() == every

    ((acme_accounts,),) = mart(demo, "select count(*) from dim_accounts where realm_id = 'acme'")
    found = data.search_accounts(demo, HELPDESK, "-0")  # every demo login has one
    assert found.height == min(acme_accounts, 50) and set(found["realm"]) == {"acme"}
    assert data.search_accounts(demo, HELPDESK, "sky-0").is_empty()
    assert set(data.search_accounts(demo, ADMIN, "sky-0")["realm"]) == {"skyfi"}
    assert set(data.held_invoices(demo, SALES)["realm"]) <= {"acme"}
    assert data.catalog_versions(demo, SALES)["realm"].unique().to_list() == ["acme"]

    issued = data.invoices(demo, SALES, unpaid=True)
    ((owed,),) = mart(
        demo, "select count(*) from fct_invoices where realm_id = 'acme' and amount_due > 0"
    )
    assert issued.height == min(owed, 100) and set(issued["realm"]) <= {"acme"}
    assert all(Path(p).exists() for p in data.invoices(demo, SALES, limit=5)["pdf_path"])


def test_an_acme_account_page_and_a_skyfi_one_not_found(demo):
    account = account_of(demo, "acme")
    page = data.account_page(demo, HELPDESK, account)
    assert page["profile"]["realm_id"] == "acme"
    assert not page["invoices"].is_empty()
    assert all(Path(p).exists() for p in page["invoices"]["pdf_path"])
    assert not page["usage"].is_empty()
    assert not page["audit"].is_empty()

    other = account_of(demo, "skyfi")
    with pytest.raises(data.AccountNotFound, match="in your realms"):
        data.account_page(demo, HELPDESK, other)
    with session(demo.db_url) as s:
        refused = s.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "access.refused", AuditEntry.actor == HELPDESK.email
            )
        ).all()
    assert [(e.after["action"], e.after["realm"], e.after["about"]) for e in refused] == [
        ("account.read", "skyfi", other)
    ]


def test_sales_cannot_run_billing_and_previews_a_plan_change(demo):
    with pytest.raises(Forbidden, match="may not billing.run"):
        actions.run_billing(demo, SALES, date(2026, 11, 1), date(2026, 11, 30))
    account = account_of(demo, "acme")
    before = data.account_page(demo, SALES, account)["subscriptions"]
    preview = actions.plan_change_preview(demo, SALES, account, "business", date.today())
    assert preview["account"] == account
    assert "business-access" in {line["product"] for line in preview["lines"]}
    assert data.account_page(demo, SALES, account)["subscriptions"].equals(before)  # not kept
