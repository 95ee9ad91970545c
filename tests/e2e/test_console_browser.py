"""The staff console in Chromium over HTTPS, on the demo's data (issue #17, "Done when"):
admin loads a catalog version, runs billing for a date and waives a hold; sales creates
an account and subscribes it; helpdesk finds a customer by the IP address of their open
session, disconnects it (FreeRADIUS, standing in for the NAS, gets the Disconnect) and
resets the password. Refusals: another realm's account, by its id typed or by the URL's
query parameter, is not found and the attempt is audited; a disabled login cannot sign in.

Each page a test passes through is saved as a screenshot (conftest.ARTIFACTS)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from jet.audit import Actor, entries
from jet.config import PROJECT_ROOT, Settings
from jet.drivers.demo_console import LOGINS, DemoLogin
from jet.quality.gate import waivers
from jet.quality.results import latest
from jet.staff import add_staff, disable_staff
from jet.store.db import session
from jet.store.models import Account, CatalogVersion, Invoice, Subscription
from tests.e2e.browsing import LONG_RUN, no_exception, open_page, shot
from tests.e2e.conftest import NAS, STRAY_USER
from tests.peers.freeradius import FreeRadius, detail_records

ADMIN, SALES, HELPDESK = LOGINS
PAGES = ("Overview", "Accounts", "Catalog", "Billing", "Collectors", "Quality", "Reports")
BILL_DATE = date(2026, 12, 1)  # the month after the demo's last bill date
SETUP = Actor("e2e-setup", "cli")  # the test, adding staff as `jet staff` does
pytestmark = pytest.mark.e2e


def sign_in(page: Page, url: str, login: DemoLogin, password: str | None = None) -> None:
    page.goto(url)
    page.get_by_label("E-mail").fill(login.email)
    page.get_by_label("Password", exact=True).fill(password or login.password)
    page.get_by_role("button", name="Sign in").click()


def follow_url(page: Page, path_and_query: str) -> None:
    """Go to `path_and_query` within this tab's session, as the browser's back and forward
    buttons do (a typed URL reloads, and this console keeps no cookie: docs/console.md)."""
    page.evaluate(
        "(to) => { history.pushState({}, '', to);"
        " window.dispatchEvent(new PopStateEvent('popstate')); }",
        path_and_query,
    )


def set_date(page: Page, label: str, day: date) -> None:
    """Type `day` into the date field `label`: its year, month and day are spin buttons."""
    for part, value in (("year", f"{day:%Y}"), ("month", f"{day:%m}"), ("day", f"{day:%d}")):
        page.get_by_role("spinbutton", name=f"{part}, {label}").click()
        page.keyboard.type(value)


def pick_first_row(page: Page) -> None:
    """Tick the first row of the result table (a canvas: its row marker, by position)."""
    grid = page.get_by_test_id("stDataFrame").first
    expect(grid).to_be_visible()
    box = grid.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + 16, box["y"] + 52)


@pytest.mark.parametrize("login", LOGINS, ids=lambda x: x.role)
def test_every_page_of_each_role_renders(
    page: Page, console_url: str, artifacts: Path, login: DemoLogin
) -> None:
    sign_in(page, console_url, login)
    menu = page.get_by_role("navigation")
    expect(menu.get_by_role("link", name="Overview")).to_be_visible()
    shown = [t for t in PAGES if menu.get_by_role("link", name=t, exact=True).count()]
    for title in shown:
        open_page(page, title)
        no_exception(page)
        shot(page, artifacts, f"{login.role}-{title.lower()}")
    expected = {
        "admin": set(PAGES),
        "sales": {"Overview", "Accounts", "Catalog", "Reports"},
        "helpdesk": {"Overview", "Accounts"},
    }[login.role]
    assert set(shown) == expected


def test_admin_loads_a_catalog_runs_billing_waives_the_hold_and_issues(
    page: Page, console_url: str, demo_home: Settings, artifacts: Path, tmp_path: Path
) -> None:
    # acme's catalog from 2027; an upload has no folder beside it, so its logo's path is
    # made absolute (docs/console.md).
    logo = PROJECT_ROOT / "examples" / "brands" / "acme-logo.png"
    text = (PROJECT_ROOT / "examples" / "catalogs" / "acme.yaml").read_text()
    text = text.replace("effective_from: 2026-01-01", "effective_from: 2027-01-01")
    upload = tmp_path / "acme-2027.yaml"
    upload.write_text(text.replace("logo: ../brands/acme-logo.png", f"logo: {logo}"))
    sign_in(page, console_url, ADMIN)

    open_page(page, "Catalog")
    page.locator("input[type=file]").set_input_files(upload)
    page.get_by_role("button", name="Load", exact=True).click()
    expect(page.get_by_text("Loaded: stored the catalog of acme from 2027-01-01")).to_be_visible()
    shot(page, artifacts, "admin-catalog-loaded")
    with session(demo_home.db_url) as s:
        versions = select(CatalogVersion.effective_from).where(CatalogVersion.realm_id == "acme")
        assert date(2027, 1, 1) in set(s.scalars(versions))

    open_page(page, "Billing")
    for label in ("First bill date", "Last bill date"):
        set_date(page, label, BILL_DATE)
    run = page.get_by_role("button", name="Run billing")
    run.click()
    # The stray RADIUS user (conftest.STRAY_USER) fails blocking checks: the run holds
    # every realm's invoices of the date and says so.
    held = page.get_by_text("The data quality gate held these invoices")
    expect(held).to_be_visible(timeout=LONG_RUN)
    shot(page, artifacts, "admin-billing-held")
    with session(demo_home.db_url) as s:
        holding = [f.check for f in latest(s) if f.blocking and not f.passed]
        assert holding and not issued(s, BILL_DATE)

    for check in holding:
        page.get_by_role("combobox", name="Check").click()
        page.keyboard.type(check)  # the select filters its options by what is typed
        page.keyboard.press("Enter")
        page.get_by_label("Reason").fill(f"{STRAY_USER} is the NAS's test login")
        page.get_by_role("button", name="Waive the hold").click()
        expect(page.get_by_text(f"Waived {check}: its invoices go out")).to_be_visible()
    shot(page, artifacts, "admin-billing-waived")

    run.click()
    expect(page.get_by_text("Billing run done")).to_be_visible(timeout=LONG_RUN)
    shot(page, artifacts, "admin-billing-run")
    with session(demo_home.db_url) as s:
        given = [w for w in waivers(s) if w.waived_by == ADMIN.email]
        # A waiver from the console covers each date up to today that the check holds.
        assert {(w.check, w.bill_date) for w in given} >= {(c, BILL_DATE) for c in holding}
        assert {w.check for w in given} == set(holding)
        assert all("test login" in w.reason for w in given)
        assert issued(s, BILL_DATE)
        runs = [e for e in entries(s) if e.action == "billing.run" and e.actor == ADMIN.email]
        assert [e.entity_id for e in runs] == [f"{BILL_DATE}..{BILL_DATE}"] * 2


def issued(s, bill_date: date) -> int:
    """How many invoices of `bill_date` are issued."""
    return s.scalar(select(func.count()).where(Invoice.bill_date == bill_date))


def test_sales_creates_an_account_and_subscribes_it(
    page: Page, console_url: str, demo_home: Settings, artifacts: Path
) -> None:
    sign_in(page, console_url, SALES)
    open_page(page, "Accounts")
    page.get_by_text("New account").click()
    page.get_by_label("Login").fill("e2e-new")
    page.get_by_label("Name").fill("Nia New")
    page.get_by_label("E-mail").fill("nia@example.net")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_text("Account e2e-new created.")).to_be_visible()
    expect(page.get_by_role("heading", name="Nia New · e2e-new")).to_be_visible()
    shot(page, artifacts, "sales-account-created")

    page.get_by_role("tab", name="Subscriptions").click()
    page.get_by_label("Plan", exact=True).fill("home")
    page.get_by_role("button", name="Subscribe", exact=True).click()
    expect(page.get_by_text(f"Subscribed to home from {date.today()}")).to_be_visible()
    shot(page, artifacts, "sales-subscribed")
    with session(demo_home.db_url) as s:
        account = s.get(Account, "e2e-new")
        assert account is not None and account.realm_id == "acme"
        subs = s.scalars(select(Subscription).where(Subscription.account_id == "e2e-new")).all()
        assert [(x.plan_id, x.start_date) for x in subs] == [("home", date.today())]
        made = {e.action for e in entries(s, "e2e-new") if e.actor == SALES.email}
        assert {"account.created", "subscription.started"} <= made


def test_helpdesk_finds_by_ip_disconnects_the_session_and_resets_the_password(
    page: Page,
    console_url: str,
    demo_home: Settings,
    online_customer: dict[str, str],
    nas: FreeRadius,
    artifacts: Path,
) -> None:
    account = online_customer["account"]
    sign_in(page, console_url, HELPDESK)
    open_page(page, "Accounts")
    search = page.get_by_label("Find an account")
    search.fill(online_customer["framed_ip"])
    search.press("Enter")
    pick_first_row(page)
    expect(page.get_by_role("heading", name=re.compile(f"· {account}$"))).to_be_visible()
    shot(page, artifacts, "helpdesk-found-by-ip")

    page.get_by_role("tab", name="Sessions").click()
    page.get_by_role("button", name="Disconnect").click()
    expect(page.get_by_text(re.compile(f"Disconnect-ACK from {NAS}"))).to_be_visible()
    shot(page, artifacts, "helpdesk-disconnected")
    requests = [
        r
        for r in detail_records(nas.logdir / "dynauth-detail")
        if r.get("Acct-Session-Id") == online_customer["session"]
    ]
    assert [r["Packet-Type"] for r in requests] == ["Disconnect-Request"]
    assert requests[0]["Framed-IP-Address"] == online_customer["framed_ip"]

    page.get_by_role("tab", name="Profile").click()
    page.get_by_role("button", name="Reset password").click()
    shown = page.get_by_text(re.compile(r"New password: \S+ \(shown once"))
    expect(shown).to_be_visible()
    shot(page, artifacts, "helpdesk-password-reset")
    password = re.search(r"New password: (\S+) ", shown.inner_text()).group(1)
    with session(demo_home.db_url) as s:
        assert s.get(Account, account).radius_password == password
        done = {e.action for e in entries(s, account) if e.actor == HELPDESK.email}
        assert {"session.disconnect", "password.changed"} <= done


def test_another_realms_account_is_not_found_by_id_or_url_and_audited(
    page: Page, console_url: str, demo_home: Settings, artifacts: Path
) -> None:
    with session(demo_home.db_url) as s:
        other = s.scalar(
            select(Account.id).where(Account.realm_id != "acme").order_by(Account.id).limit(1)
        )
    sign_in(page, console_url, HELPDESK)
    open_page(page, "Accounts")
    search = page.get_by_label("Find an account")
    search.fill(other)
    search.press("Enter")
    expect(page.get_by_text(f"No account matches {other!r}.")).to_be_visible()
    shot(page, artifacts, "helpdesk-other-realm-typed")

    follow_url(page, f"/accounts?account={other}")
    expect(page.get_by_text(f"no account {other!r} in your realms")).to_be_visible()
    expect(page.get_by_role("tab", name="Profile")).to_have_count(0)
    shot(page, artifacts, "helpdesk-other-realm-url")
    with session(demo_home.db_url) as s:
        refused = [
            e for e in entries(s) if e.action == "access.refused" and e.actor == HELPDESK.email
        ]
    assert other in {e.after["about"] for e in refused}


def test_a_disabled_login_cannot_sign_in_and_the_attempt_is_audited(
    page: Page, console_url: str, demo_home: Settings, artifacts: Path
) -> None:
    gone = DemoLogin("gone@acme.example", "Gus Gone", "helpdesk", ["acme"], "gone-password-1")
    with session(demo_home.db_url) as s:
        add_staff(s, SETUP, gone.email, gone.role, realms=gone.realms,
                  password=gone.password, name=gone.name)  # fmt: skip
        disable_staff(s, SETUP, gone.email)
    sign_in(page, console_url, gone)
    expect(page.get_by_text("sign-in refused")).to_be_visible()
    expect(page.get_by_role("navigation")).to_have_count(0)
    shot(page, artifacts, "disabled-login-refused")
    with session(demo_home.db_url) as s:
        tried = [e for e in entries(s) if e.action == "staff.sign_in_refused"]
    assert [e.after["reason"] for e in tried if e.entity_id == gone.email] == ["disabled"]
