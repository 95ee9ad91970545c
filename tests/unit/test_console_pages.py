"""The staff console's pages through Streamlit's AppTest, on a real store with the demo's
three logins (jet.drivers.demo_console): signing in and out, each page of each role, and
the pages a role may not use (absent from its menu, refused and audited when opened)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pyotp
import pytest
from streamlit.testing.v1 import AppTest

from apps.streamlit.auth.staff_login import TOKEN
from apps.streamlit.console import account_forms
from apps.streamlit.console.navigation import PAGES, pages_for
from apps.streamlit.data.reports import reports_for
from apps.streamlit.data.reports import run as run_console_report
from jet.accounts import add_accounts, subscribe
from jet.audit import Actor, entries
from jet.catalog import load_catalog_file
from jet.config import PROJECT_ROOT, Settings
from jet.drivers.demo_console import LOGINS, DemoLogin, prepare_console
from jet.realms import store_catalog
from jet.roles import ALLOWED, Forbidden, Staff
from jet.staff import (
    disable_staff,
    enable_totp,
    list_staff,
    set_staff_password,
    sign_in,
    staff_of,
)
from jet.store.db import session
from jet.store.models import Invoice, InvoiceLine, Realm
from reports.issued_invoices import pdf_path, render_pdfs

CONSOLE = PROJECT_ROOT / "apps" / "streamlit" / "console"
APP = CONSOLE / "app.py"
ADMIN, SALES, HELPDESK = LOGINS
TIMEOUT = 60
ADMIN_ACTOR = Actor("admin@jet.example", "console")


@pytest.fixture
def console(settings: Settings) -> Settings:
    """The demo's realms' catalogs and its three logins, in a fresh store."""
    with session(settings.db_url) as s:
        for realm in ("acme", "skyfi"):
            path = PROJECT_ROOT / "examples" / "catalogs" / f"{realm}.yaml"
            store_catalog(s, load_catalog_file(path), str(path))
    prepare_console(settings)
    return settings


def _signed_in(settings: Settings, login: DemoLogin, script: Path = APP) -> AppTest:
    at = AppTest.from_file(script, default_timeout=TIMEOUT)
    with session(settings.db_url) as s:
        at.session_state[TOKEN] = sign_in(s, login.email, login.password)
    return at.run()


def _an_export(settings: Settings) -> Path:
    folder = settings.root / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "invoice-lines_2026-08-01_2026-11-30.csv"
    path.write_text("invoice_number,realm_id\nA-1,acme\nS-1,skyfi\n")
    return path


def test_sign_in_opens_the_console_of_the_role(console: Settings) -> None:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert [t.value for t in at.title] == ["Jet staff console"]
    at.text_input[0].input(SALES.email)
    at.text_input[1].input(SALES.password)
    at.button[0].click().run()
    assert not at.exception
    assert at.session_state[TOKEN]
    sidebar = " ".join(str(c.value) for c in at.sidebar.caption)
    assert "Sam Sales · sales · acme" in sidebar
    with session(console.db_url) as s:
        assert [e.action for e in entries(s)][-1] == "staff.signed_in"


def test_a_wrong_password_shows_the_refusal_and_signs_no_one_in(console: Settings) -> None:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.text_input[0].input(HELPDESK.email)
    at.text_input[1].input("not-the-password")
    at.button[0].click().run()
    assert "sign-in refused" in at.error[0].value
    assert TOKEN not in at.session_state
    assert [t.value for t in at.title] == ["Jet staff console"]


def test_a_disabled_login_is_signed_out_at_the_next_click(console: Settings) -> None:
    at = _signed_in(console, HELPDESK)
    assert "Jet staff console" not in [t.value for t in at.title]
    with session(console.db_url) as s:
        disable_staff(s, ADMIN_ACTOR, HELPDESK.email)
    at.run()
    assert TOKEN not in at.session_state
    assert "Your session ended" in at.info[0].value
    assert [t.value for t in at.title] == ["Jet staff console"]


def test_sign_out_ends_the_session_in_the_store(console: Settings) -> None:
    at = _signed_in(console, ADMIN)
    token = at.session_state[TOKEN]
    at.sidebar.button[0].click().run()
    assert TOKEN not in at.session_state
    with session(console.db_url) as s:
        assert staff_of(s, token) is None


@pytest.mark.parametrize("login", LOGINS, ids=lambda login: login.role)
def test_each_page_of_each_role_renders(console: Settings, login: DemoLogin) -> None:
    _an_export(console)
    at = _signed_in(console, login)
    assert not at.exception, at.exception
    with session(console.db_url) as s:
        staff = staff_of(s, at.session_state[TOKEN])
    offered = pages_for(console, staff)
    assert {p.action for p in offered} <= ALLOWED[login.role]
    for page in offered:
        at.switch_page(page.path).run()
        assert not at.exception, (page.title, at.exception)
        assert not at.error, (page.title, [e.value for e in at.error])
        assert at.title[0].value == page.title
    assert ("Reports" in {p.title for p in offered}) == (login is not HELPDESK)


@pytest.mark.parametrize("login", [SALES, HELPDESK], ids=lambda login: login.role)
def test_a_page_the_role_may_not_use_is_not_offered_and_refused_when_opened(
    console: Settings, login: DemoLogin
) -> None:
    at = _signed_in(console, login)
    barred = [p for p in PAGES if p.action not in ALLOWED[login.role]]
    assert {p.title for p in barred} >= {"Billing", "Quality", "Collectors"}
    for page in barred:
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(page.path)
        opened = _signed_in(console, login, CONSOLE / page.path)
        assert f"may not {page.action}" in opened.error[0].value
        assert not opened.dataframe and not opened.button
    with session(console.db_url) as s:
        refused = [e for e in entries(s) if e.action == "access.refused"]
    assert {e.after["action"] for e in refused} == {p.action for p in barred}
    assert {e.actor for e in refused} == {login.email}


def test_staff_of_one_realm_see_its_brand(console: Settings) -> None:
    at = _signed_in(console, SALES)
    assert "**Acme Broadband**" in [m.value for m in at.sidebar.markdown]
    admin = _signed_in(console, ADMIN)
    assert "**Jet**" in [m.value for m in admin.sidebar.markdown]


SALES_STAFF = Staff(SALES.email, SALES.name, "sales", frozenset({"acme"}))


def _revenue_mart(settings: Settings) -> None:
    """A published rpt_revenue with a row of acme and one of skyfi."""
    settings.marts.mkdir(parents=True, exist_ok=True)
    duckdb.sql(
        "select * from (values "
        "('acme', 'AUD', 'home', 'home-access', date '2026-10-01', 69.000::decimal(18,3)), "
        "('skyfi', 'NZD', 'unlimited', 'access', date '2026-10-01', 35.000::decimal(18,3))"
        ") t(realm_id, currency, plan_id, product_id, month, billed)"
    ).write_parquet(str(settings.marts / "rpt_revenue.parquet"))


def test_reports_run_per_realm_and_exports_are_for_staff_of_every_realm(
    console: Settings,
) -> None:
    export = _an_export(console)
    _revenue_mart(console)
    (console.root / "reports").mkdir()
    (console.root / "reports" / "mine.sql").write_text("/*---\ntitle: Mine\n---*/\nselect 1")
    admin = _signed_in(console, ADMIN)
    admin.switch_page("views/reports.py").run()
    assert f"{export.name} ({export.stat().st_size:,} bytes)" in [
        b.label for b in admin.get("download_button")
    ]
    assert "Mine (mine, custom)" in admin.selectbox(key="report").options
    sales = _signed_in(console, SALES, CONSOLE / "views" / "reports.py")
    assert not sales.exception and not sales.error
    offered = sales.selectbox(key="report").options
    assert "Mine (mine, custom)" not in offered  # custom SQL may read any realm
    [revenue] = [r for r in reports_for(console, SALES_STAFF) if r.name == "revenue"]
    sales.selectbox(key="report").set_value(revenue).run()
    assert sales.selectbox[1].options == ["acme"]
    sales.button[0].click().run()
    assert not sales.exception, sales.exception
    [table] = sales.dataframe
    assert list(table.value["realm_id"]) == ["acme"]
    assert [b.label for b in sales.get("download_button")] == [
        "csv", "xlsx", "parquet", "json", "html", "pdf"
    ]  # fmt: skip
    with pytest.raises(Forbidden):
        run_console_report(console, SALES_STAFF, revenue, "skyfi")
    with pytest.raises(Forbidden):  # every realm at once is for staff of every realm
        run_console_report(console, SALES_STAFF, revenue, None)
    with session(console.db_url) as s:
        refused = [e for e in entries(s) if e.action == "access.refused"]
    assert [(e.actor, e.after["realm"]) for e in refused[-2:]] == [
        (SALES.email, "skyfi"),
        (SALES.email, None),
    ]


def test_a_login_with_totp_needs_the_code_in_the_form(console: Settings) -> None:
    with session(console.db_url) as s:
        uri = enable_totp(s, ADMIN_ACTOR, HELPDESK.email)
    code = pyotp.parse_uri(uri).now()
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.text_input[0].input(HELPDESK.email)
    at.text_input[1].input(HELPDESK.password)
    at.button[0].click().run()
    assert "sign-in refused" in at.error[0].value
    at.text_input[2].input(code)
    at.button[0].click().run()
    assert at.session_state[TOKEN]
    assert not at.exception


def test_the_demo_again_sets_the_printed_passwords_back(console: Settings) -> None:
    with session(console.db_url) as s:
        set_staff_password(s, ADMIN_ACTOR, SALES.email, "another-password-entirely")
    prepare_console(console)
    with session(console.db_url) as s:
        assert sign_in(s, SALES.email, SALES.password)
        assert len(list_staff(s)) == len(LOGINS)


def _accounts(settings: Settings) -> None:
    with session(settings.db_url) as s:
        add_accounts(s, "acme", [{"id": "bob", "name": "Bob Acme"}], ADMIN_ACTOR)
        add_accounts(s, "skyfi", [{"id": "sue", "name": "Sue Skyfi"}], ADMIN_ACTOR)


def test_helpdesk_finds_and_opens_an_account_of_its_realm(console: Settings) -> None:
    _accounts(console)
    at = _signed_in(console, HELPDESK)
    at.switch_page("views/accounts.py").run()
    at.text_input(key="account_search").input("Bob").run()
    assert at.dataframe[0].value["account_id"].to_list() == ["bob"]
    at.query_params["account"] = "bob"
    at.run()
    assert not at.exception and not at.error
    assert [t.label for t in at.tabs] == [
        "Profile", "Subscriptions", "Usage", "Sessions", "Invoices", "Payments", "Messages", "Audit"
    ]  # fmt: skip
    labels = {b.label for b in at.button}
    assert {"Suspend", "Reactivate", "Reset password"} <= labels
    assert "Create account" not in labels and "Subscribe" not in labels  # sales' actions


def test_an_account_of_another_realm_by_its_url_is_not_found_and_audited(
    console: Settings,
) -> None:
    _accounts(console)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    with session(console.db_url) as s:
        at.session_state[TOKEN] = sign_in(s, HELPDESK.email, HELPDESK.password)
    at.run()
    at.switch_page("views/accounts.py")
    at.query_params["account"] = "sue"
    at.run()
    assert "no account 'sue' in your realms" in at.error[0].value
    assert not at.tabs
    with session(console.db_url) as s:
        refused = [e for e in entries(s) if e.action == "access.refused"]
    assert [(e.actor, e.after["about"]) for e in refused] == [(HELPDESK.email, "sue")]


def test_another_realms_account_through_session_state_is_refused_and_audited(
    console: Settings,
) -> None:
    _accounts(console)
    at = _signed_in(console, HELPDESK)
    at.switch_page("views/accounts.py")
    # A tampered session: another realm's id typed, a plan preview kept for it.
    at.session_state["account_search"] = "sue"
    at.session_state[account_forms._PREVIEW] = (("sue", "home-basic", date.today()), None)
    at.run()
    assert at.info[0].value == "No account matches 'sue'."
    assert not at.tabs and "Change plan" not in {b.label for b in at.button}
    with session(console.db_url) as s:
        refused = [e for e in entries(s) if e.action == "access.refused"]
    assert [(e.actor, e.after["about"]) for e in refused] == [(HELPDESK.email, "sue")]
    # The staff member is whoever the store says the token is: a forged one signs no one in.
    forged = AppTest.from_file(APP, default_timeout=TIMEOUT)
    forged.session_state[TOKEN] = "a-token-jet-never-gave"
    forged.run()
    assert [t.label for t in forged.text_input][:2] == ["E-mail", "Password"]


def test_the_overview_charts_the_marts_of_the_staff_members_realms(console: Settings) -> None:
    _accounts(console)
    pl.DataFrame(
        {
            "realm_id": ["acme", "skyfi"],
            "bill_date": [date.today().replace(day=1)] * 2,
            "product_id": ["home-access", "unlimited-pass"],
            "kind": ["advance", "advance"],
            "account_id": ["bob", "sue"],
            "billing_account_id": ["bob", "sue"],
            "amount": [Decimal("69.00"), Decimal("39.00")],
        },
        schema_overrides={"amount": pl.Decimal(18, 2)},
    ).write_parquet(console.marts / "fct_invoice_lines.parquet")
    at = _signed_in(console, SALES)
    assert not at.exception
    assert {m.label: m.value for m in at.metric} == {
        "Active accounts": "1",
        "MRR": "69.00",
        "ARPU": "69.00",
    }
    assert len(at.get("vega_lite_chart")) >= 3  # revenue, MRR, active accounts


def test_a_catalog_upload_shows_the_loaders_message_or_stores_the_version(
    console: Settings,
) -> None:
    at = _signed_in(console, ADMIN)
    at.switch_page("views/catalog.py").run()
    at.get("file_uploader")[0].upload("broken.yaml", b"realm: [", "application/x-yaml").run()
    at.button(key="load_catalog").click().run()
    assert at.error and "broken.yaml" in at.error[0].value
    # An upload has no folder beside it: a logo given as a relative path is not found.
    text = (PROJECT_ROOT / "examples" / "catalogs" / "eurowave.yaml").read_text()
    good = "\n".join(ln for ln in text.splitlines() if "logo:" not in ln).encode()
    at.get("file_uploader")[0].upload("eurowave.yaml", good, "application/x-yaml").run()
    at.button(key="load_catalog").click().run()
    assert not at.error, at.error[0].value
    assert "stored the catalog of eurowave" in at.success[0].value


def _field(at: AppTest, label: str):  # noqa: ANN202 - AppTest's widget types
    [found] = [w for w in (*at.text_input, *at.date_input) if w.label == label]
    return found


def _click(at: AppTest, label: str) -> AppTest:
    [button] = [b for b in at.button if b.label == label]
    return button.click().run()


def test_sales_creates_an_account_subscribes_it_and_previews_a_plan_change(
    console: Settings,
) -> None:
    at = _signed_in(console, SALES)
    at.switch_page("views/accounts.py").run()
    assert at.selectbox[0].options == ["acme"]  # sales of acme create in acme only
    _field(at, "Login").input("carol")
    _field(at, "Name").input("Carol New")
    _click(at, "Create account")
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "Account carol created." in at.success[0].value
    assert at.query_params["account"] == "carol"
    assert at.header[0].value == "Carol New · carol"

    _field(at, "Plan").input("home")
    _field(at, "From").set_value(date.today() - timedelta(days=14))
    _click(at, "Subscribe")
    assert "Subscribed to home" in at.success[0].value
    assert _plans(at) == ["home"]  # the page read again after the action
    _field(at, "New plan").input("business")
    _click(at, "Preview the change")
    assert not at.error, [e.value for e in at.error]
    assert any("Pro-rata preview" in c.value for c in at.caption)
    [draft] = [m for m in at.metric if m.label.startswith("Invoice of ")]
    assert draft.value.endswith(" AUD")
    _click(at, "Change plan")
    assert any(f"Plan changed to business on {date.today()}" in s.value for s in at.success)
    assert _plans(at) == ["home", "business"]
    with session(console.db_url) as s:
        done = [(e.action, e.actor) for e in entries(s) if e.action.startswith(("account", "sub"))]
    assert done and {actor for _, actor in done} == {SALES.email}


def _plans(at: AppTest) -> list[str]:
    """The plans in the account page's subscriptions table."""
    [subs] = [d.value for d in at.dataframe if "plan" in d.value.columns]
    return list(subs["plan"])


def test_helpdesk_resets_a_password_suspends_and_reactivates(console: Settings) -> None:
    _accounts(console)
    at = _signed_in(console, HELPDESK)
    at.switch_page("views/accounts.py")
    at.query_params["account"] = "bob"
    at.run()
    assert "Create account" not in {b.label for b in at.button}
    _click(at, "Reset password")
    [shown] = [s.value for s in at.success if "New password" in s.value]
    password = shown.split("`")[1]
    _click(at, "Suspend")
    assert at.success[0].value.startswith("Suspended")
    at.run()
    assert "suspended" in at.caption[0].value
    _click(at, "Reactivate")
    at.run()
    assert "active" in at.caption[0].value
    with session(console.db_url) as s:
        done = [e for e in entries(s) if e.entity_id == "bob" and e.actor == HELPDESK.email]
    assert len(done) >= 3, [e.action for e in done]
    assert password and password not in str([e.after for e in done])  # never in the audit


def _an_invoice(settings: Settings) -> Path:
    """bob's invoice of 1 October as billing issues one, and its PDF rendered as `jet
    invoice pdf` renders it."""
    start, bill = date(2026, 9, 1), date(2026, 10, 1)
    with session(settings.db_url) as s:
        sub = subscribe(s, "bob", "home", start, actor=ADMIN_ACTOR)
        realm = s.get(Realm, "acme")
        realm.last_invoice_number = 1
        number = realm.invoice_format.format(prefix=realm.invoice_prefix, year=2026, number=1)
        s.add(
            Invoice(
                number=number, realm_id="acme", account_id="bob", bill_date=bill,
                currency="AUD", subtotal=Decimal("69.00"), tax=Decimal("6.90"),
                total=Decimal("75.90"), issued_at=datetime(2026, 10, 1, 6, 30, tzinfo=UTC),
                lines=[
                    InvoiceLine(
                        line_key=f"{number}:0", account_id="bob", subscription_id=sub.id,
                        product_id="home-access", kind="advance", description="Home broadband",
                        period_start=start, period_end=bill, quantity=Decimal(1),
                        amount=Decimal("69.00"), taxable=True,
                    )
                ],
            )
        )  # fmt: skip
    render_pdfs(settings, processes=1)
    return pdf_path(settings, "acme", number)


def test_the_account_page_offers_each_invoice_as_its_pdf(console: Settings) -> None:
    _accounts(console)
    pdf = _an_invoice(console)
    assert pdf.is_file()
    at = _signed_in(console, HELPDESK)
    at.switch_page("views/accounts.py")
    at.query_params["account"] = "bob"
    at.run()
    assert not at.exception and not at.error
    invoices = next(d.value for d in at.dataframe if "total" in d.value.columns)
    assert "pdf_path" not in invoices.columns  # the server's paths are not shown
    assert invoices["number"].to_list() == [pdf.stem]
    assert [b.label for b in at.get("download_button")] == [f"{pdf.stem} (PDF)"]
