"""The customer portal in Chromium over HTTPS, on a demo home of its own (issue #18,
"Done when"): a newcomer signs up to acme at acme's portal address, follows the link
e-mailed to a loopback SMTP server, signs in and updates the address; a demo customer
sees the session that radclient sent through `jet radius serve`, changes plan after the
pro-rata preview (FreeRADIUS, standing in for the NAS, gets the CoA), has a card
declined and sees why, then pays every open invoice (the console's balance is zero);
a prepaid skyfi customer tops up. Refused: a sign-up not verified cannot sign in.

Each realm is reached by its portal's host name (`portal.acme.localhost`: Chromium
sends any *.localhost to loopback), as a customer reaches it. Each step is saved as a
screenshot under ARTIFACTS/portal."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from apps.streamlit.data.accounts import account_page
from apps.streamlit.data.actions import plan_change_preview
from jet.account_views import balance_detail
from jet.audit import Actor, entries
from jet.config import Settings
from jet.drivers.demo_console import LOGINS
from jet.drivers.demo_money import SANDBOX_KEYS
from jet.drivers.demo_portal import PASSWORD, DemoCustomer, prepare_portal
from jet.ledger import take_back
from jet.portal_logins import set_portal_password
from jet.ports import free_tcp_port
from jet.prepaid import credit_left
from jet.roles import Staff
from jet.store.db import session
from jet.store.models import Account, LedgerEntry, Subscription
from tests.e2e.browsing import LONG_RUN, open_page, shot
from tests.e2e.conftest import NAS, NAS_SECRET, demo, nas_of, radius_serving, serving
from tests.integration.test_radius_accounting import radclient
from tests.mailbox import Mailbox
from tests.peers.freeradius import FreeRadius, detail_records

pytestmark = pytest.mark.e2e
SUCCEEDS, DECLINED = "4242 4242 4242 4242", "4000 0000 0000 0002"  # the sandbox's test cards
EXPIRY, CVC = "12/30", "123"
NEWCOMER = {"login": "e2e-sam", "name": "Sam Newcomer", "email": "sam@example.net"}
ADMIN = Staff(LOGINS[0].email, LOGINS[0].name, "admin", None)  # the console's admin
SETUP = Actor("e2e-setup", "cli")  # the test, doing what staff do with `jet`
PORTAL_PASSWORD = "portal-secret-1"  # the newcomers'
ONLINE_IP = "100.64.18.7"  # the demo customer's framed address in the session radclient sends


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A demo home for this module alone: its tests sign up, pay and change plans."""
    return demo(tmp_path_factory, "portal")


@pytest.fixture(scope="module")
def shots(artifacts: Path) -> Path:
    folder = artifacts / "portal"
    folder.mkdir(exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def nas(home: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FreeRadius]:
    with nas_of(home, tmp_path_factory.mktemp("portal-nas")) as server:
        yield server


@pytest.fixture(scope="module")
def smtp() -> Iterator[Controller]:
    """aiosmtpd on loopback, keeping what arrives in its handler (a Mailbox)."""
    controller = Controller(Mailbox(), hostname="127.0.0.1", port=free_tcp_port())
    controller.start()
    yield controller
    controller.stop()


@pytest.fixture(scope="module")
def mailbox(smtp: Controller) -> Mailbox:
    return smtp.handler


@pytest.fixture(scope="module")
def portal(home: Settings, nas: FreeRadius, smtp: Controller) -> Iterator[int]:
    """`jet portal serve` over HTTPS, sending its e-mails to `smtp`, charging cards
    through the demo's sandbox gateways; its port."""
    mail = {"JET_SMTP_HOST": "127.0.0.1", "JET_SMTP_PORT": str(smtp.port)}
    mail["JET_MAIL_FROM"] = "portal@e2e.example"
    # The gateways' keys, exported where Jet runs as the catalogs' `secret_env` ask.
    with serving("portal", home, {**mail, **SANDBOX_KEYS}) as url:
        yield int(url.rsplit(":", 1)[1])


@pytest.fixture(scope="module")
def customers(home: Settings) -> dict[tuple[str, str], DemoCustomer]:
    """The demo's portal customers by (realm, kind): each has the portal password PASSWORD."""
    return {(c.realm, c.what): c for c in prepare_portal(home)}


@pytest.fixture(scope="module")
def radius(home: Settings, nas: FreeRadius) -> Iterator[int]:
    """`jet radius serve` (a plan change's CoA goes to `nas`); its accounting port."""
    with radius_serving(home) as port:
        yield port


@pytest.fixture(scope="module")
def online(radius: int, customers: dict) -> dict[str, str]:
    """acme's demo person online at the NAS now: a Start and an Interim-Update sent by
    radclient to `jet radius serve` (which answers once it has landed them). Its login
    and Acct-Session-Id."""
    login = customers["acme", "person"].login
    attributes = (
        f'User-Name = "{login}@acme"\nAcct-Session-Id = "e2e-portal"\n'
        f"NAS-IP-Address = {NAS}\nFramed-IP-Address = {ONLINE_IP}\n"
    )
    packets = [
        f"Acct-Status-Type = Start\n{attributes}",
        f"Acct-Status-Type = Interim-Update\n{attributes}Acct-Session-Time = 600\n"
        "Acct-Input-Octets = 250000000\nAcct-Output-Octets = 40000000\n",
    ]
    sent = radclient(radius, packets, secret=NAS_SECRET)
    assert sent.returncode == 0, sent.stdout + sent.stderr
    return {"login": login, "session": "e2e-portal"}


@pytest.fixture(scope="module")
def debtor(home: Settings, customers: dict) -> str:
    """An acme person billed to itself whose last card payment came back (a charge-back,
    taken back as the ledger takes one): the invoice it paid is open again. Its portal
    password is set as staff set one (`jet portal password`)."""
    with session(home.db_url) as s:
        login = s.scalar(
            select(Account.id)
            .join(LedgerEntry, LedgerEntry.account_id == Account.id)
            .where(Account.realm_id == "acme", Account.kind == "person", ~Account.prepaid)
            .where(Account.parent_id.is_(None), Account.status == "active")
            .where(LedgerEntry.kind == "payment", Account.id != customers["acme", "person"].login)
            .order_by(Account.id)
        )
        paid = s.scalar(
            select(func.max(LedgerEntry.id))
            .where(LedgerEntry.account_id == login, LedgerEntry.kind == "payment")
        )  # fmt: skip
        take_back(s, SETUP, paid, "reversal", "charged back by the card's bank")
        set_portal_password(s, SETUP, login, PASSWORD)
    with session(home.db_url) as s:
        assert balance_detail(s, login)["open"], f"{login} owes nothing to pay"
    return login


def url(port: int, realm: str) -> str:
    """The realm's portal as its customers reach it: by its host name."""
    return f"https://portal.{realm}.localhost:{port}/"


def form(page: Page, button: str) -> Locator:
    """The form whose submit button is `button` (several forms share labels)."""
    return page.get_by_test_id("stForm").filter(has=page.get_by_role("button", name=button))


def sign_in(page: Page, port: int, realm: str, login: str, password: str = PASSWORD) -> None:
    page.goto(url(port, realm))
    submit_sign_in(page, login, password)


def submit_sign_in(page: Page, login: str, password: str) -> None:
    """Fill in and send the sign-in form of the page open."""
    signing = form(page, "Sign in")
    signing.get_by_label("Login", exact=True).fill(login)
    signing.get_by_label("Portal password", exact=True).fill(password)
    signing.get_by_role("button", name="Sign in").click()


def signed_in(page: Page) -> None:
    expect(page.get_by_role("navigation").get_by_role("link", name="Usage")).to_be_visible()


def sign_up(page: Page, port: int, who: dict[str, str]) -> None:
    """acme's sign-up form, filled in and sent for the home plan."""
    page.goto(url(port, "acme"))
    open_page(page, "Sign up")
    signing = form(page, "Sign up")
    for label in ("Login", "Name", "E-mail"):
        signing.get_by_label(label, exact=True).fill(who[label.lower().replace("-", "")])
    signing.get_by_label("Address", exact=True).fill("1 First Street\nSydney NSW 2000")
    signing.get_by_label("Country", exact=True).fill("AU")
    signing.get_by_label("Connection password", exact=True).fill("router-secret-1")
    signing.get_by_label("Portal password", exact=True).fill(PORTAL_PASSWORD)
    signing.get_by_role("button", name="Sign up").click()
    expect(page.get_by_text(f"open the link we sent to {who['email']}")).to_be_visible()


def pay_with(page: Page, button: str, card: str) -> None:
    paying = form(page, button)
    paying.get_by_label("Card number", exact=True).fill(card)
    paying.get_by_label("Expiry (MM/YY)", exact=True).fill(EXPIRY)
    paying.get_by_label("CVC", exact=True).fill(CVC)
    paying.get_by_role("button", name=button).click()


def coa_of(nas: FreeRadius, session_id: str, wait: float = 60) -> list[dict[str, str]]:
    """The requests the NAS got about `session_id`, once it got any (within `wait` s)."""
    deadline = time.monotonic() + wait
    while True:
        log = nas.logdir / "dynauth-detail"
        got = [r for r in detail_records(log) if r.get("Acct-Session-Id") == session_id]
        if got or time.monotonic() > deadline:
            return got
        time.sleep(0.5)


def current_plan(s: Session, account_id: str) -> str:
    """The plan of the account's newest subscription."""
    newest = select(Subscription.plan_id).where(Subscription.account_id == account_id)
    return s.scalar(newest.order_by(Subscription.start_date.desc(), Subscription.id.desc()))


def receipt_is_a_pdf(page: Page) -> None:
    """The payment's receipt, downloaded from the result shown, is a PDF."""
    with page.expect_download() as receipt:
        page.get_by_role("button", name="Receipt (PDF)").click()
    assert Path(receipt.value.path()).read_bytes().startswith(b"%PDF")


def test_sign_up_follow_the_emailed_link_sign_in_and_update_the_address(
    page: Page, portal: int, mailbox: Mailbox, home: Settings, shots: Path
) -> None:
    sign_up(page, portal, NEWCOMER)
    shot(page, shots, "01-signed-up")
    sent = [m for m in mailbox.messages if m["To"] == NEWCOMER["email"]]
    assert len(sent) == 1
    link = re.search(r"https://\S+[?&]verify=[\w-]+", sent[0].get_content()).group(0)
    assert link.startswith(url(portal, "acme"))  # back to the realm's own address

    page.goto(link)
    expect(page.get_by_text(f"Your account {NEWCOMER['login']} is open")).to_be_visible()
    shot(page, shots, "02-verified")
    open_page(page, "Sign in")
    submit_sign_in(page, NEWCOMER["login"], PORTAL_PASSWORD)
    signed_in(page)
    shot(page, shots, "03-signed-in")

    open_page(page, "Details")
    moved = "7 Second Avenue\nNewtown NSW 2042"
    form(page, "Save").get_by_label("Billing address", exact=True).fill(moved)
    form(page, "Save").get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    shot(page, shots, "04-address-updated")
    with session(home.db_url) as s:
        account = s.get_one(Account, NEWCOMER["login"])
        held = (account.realm_id, account.email, account.address)
        assert held == ("acme", NEWCOMER["email"], moved)
        plans = s.scalars(select(Subscription.plan_id).where(Subscription.account_id == account.id))
        assert list(plans) == ["home"]
        by_customer = [e for e in entries(s, account.id) if e.actor == account.id]
        assert {e.channel for e in by_customer} == {"portal"}
        assert any("address" in (e.after or {}) for e in by_customer)


def test_a_sign_up_not_verified_cannot_sign_in(
    page: Page, portal: int, home: Settings, shots: Path
) -> None:
    pending = {"login": "e2e-pending", "name": "Pat Pending", "email": "pat@example.net"}
    sign_up(page, portal, pending)
    open_page(page, "Sign in")
    submit_sign_in(page, pending["login"], PORTAL_PASSWORD)
    expect(page.get_by_text("sign-in refused")).to_be_visible()
    expect(page.get_by_role("navigation").get_by_role("link", name="Usage")).to_have_count(0)
    shot(page, shots, "05-unverified-refused")
    with session(home.db_url) as s:
        assert s.get(Account, pending["login"]) is None


def test_usage_sent_by_radclient_then_a_plan_change_after_its_preview_sends_a_coa(
    page: Page, portal: int, home: Settings, online: dict[str, str], nas: FreeRadius, shots: Path
) -> None:
    login = online["login"]
    sign_in(page, portal, "acme", login)
    signed_in(page)
    expect(page.get_by_role("heading", name="Online now")).to_be_visible()
    # The grid is drawn on a canvas; its cells are also in a table kept for screen readers.
    at_nas = page.locator("[role=gridcell]").filter(has_text=re.compile(rf"^{re.escape(NAS)}$"))
    expect(at_nas).to_have_count(1)  # the open session's NAS (the others are named)
    shot(page, shots, "06-usage-online")

    open_page(page, "Plan")
    with session(home.db_url) as s:
        to = "hotspot" if current_plan(s, login) != "hotspot" else "home"
    page.get_by_role("combobox", name="Change to").click()
    page.get_by_role("option", name=to, exact=True).click()
    page.get_by_role("button", name="Show what it changes").click()
    # The console's preview of the same change: the rating of `jet invoice preview`.
    today = date.today()
    draft = plan_change_preview(home, ADMIN, login, to, today)
    effect = sum(Decimal(x["amount"]) for x in draft["lines"] if x["period_start"] >= f"{today}")
    shown = f"From today, before tax: {draft['currency']} {effect}"
    expect(page.get_by_text(shown)).to_be_visible(timeout=LONG_RUN)
    shot(page, shots, "07-plan-preview")
    page.get_by_role("button", name=f"Change to {to}").click()
    expect(page.get_by_text(f"Your plan is {to} from today.")).to_be_visible()
    shot(page, shots, "08-plan-changed")
    with session(home.db_url) as s:
        assert current_plan(s, login) == to
        changes = [e for e in entries(s, login) if e.action == "plan.changed"]
        assert (changes[-1].actor, changes[-1].channel) == (login, "portal")

    requests = coa_of(nas, online["session"])  # sent by `jet radius serve`'s dispatcher
    assert [r["Packet-Type"] for r in requests] == ["CoA-Request"]
    assert requests[0]["Framed-IP-Address"] == ONLINE_IP


def test_a_declined_card_says_why_then_paying_every_invoice_zeroes_the_balance(
    page: Page, portal: int, home: Settings, debtor: str, shots: Path
) -> None:
    login = debtor
    sign_in(page, portal, "acme", login)
    signed_in(page)
    open_page(page, "Pay")
    pay_with(page, "Pay", DECLINED)
    expect(page.get_by_text("was declined (card_declined): nothing was charged")).to_be_visible()
    shot(page, shots, "09-pay-declined")

    paid = 0
    while form(page, "Pay").count():
        pay_with(page, "Pay", SUCCEEDS)
        expect(page.get_by_text(re.compile(r"charged to visa ending 4242"))).to_be_visible()
        receipt_is_a_pdf(page)
        shot(page, shots, f"10-paid-{paid}")
        paid += 1
        open_page(page, "Invoices")  # and back: the Pay page lists what is still open
        open_page(page, "Pay")
    assert paid >= 1
    expect(page.get_by_text("Nothing is due.")).to_be_visible()
    shot(page, shots, "11-nothing-due")
    assert account_page(home, ADMIN, login)["balance"] == "0.00 (postpaid)"


def test_a_prepaid_customer_tops_up(
    page: Page, portal: int, home: Settings, customers: dict, shots: Path
) -> None:
    login = customers["skyfi", "prepaid"].login
    with session(home.db_url) as s:
        before = credit_left(s, [login]).get(login, Decimal(0))
    sign_in(page, portal, "skyfi", login)
    signed_in(page)
    open_page(page, "Pay")
    topping = form(page, "Top up")
    topping.get_by_label("Amount", exact=True).fill("20.00")
    pay_with(page, "Top up", SUCCEEDS)
    expect(page.get_by_text(re.compile(r"20\.00 charged to visa ending 4242"))).to_be_visible()
    receipt_is_a_pdf(page)
    shot(page, shots, "12-topped-up")
    with session(home.db_url) as s:
        assert credit_left(s, [login])[login] == before + Decimal("20.00")


def test_the_servers_logs_hold_no_password_or_card_number(home: Settings, portal: int) -> None:
    """After the tests above: what the portal and `jet radius serve` wrote to their logs."""
    logs = {name: (home.root.parent / name).read_text() for name in ("portal.log", "radius.log")}
    typed = [PORTAL_PASSWORD, PASSWORD, "router-secret-1", SUCCEEDS, DECLINED]
    typed += [card.replace(" ", "") for card in (SUCCEEDS, DECLINED)]
    assert {name: [t for t in typed if t in text] for name, text in logs.items()} == {
        name: [] for name in logs
    }
