"""The customer portal's pages through Streamlit's AppTest, on a real store, real marts,
invoice PDFs, the sandbox gateway and a loopback SMTP server (pdata's `home` fixture:
acme's `ann`, the company `bigco` with users `sue` and `olaf`; skyfi's `sky`): the realm
by host name or ?realm=, sign-in, each page, sign-up through the e-mailed link, a
password reset, paying, and refusals of other accounts by URL and session state."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from apps.streamlit.auth.customer_login import TOKEN
from apps.streamlit.portal.context import ACCOUNT
from apps.streamlit.portal.navigation import PAGES
from jet.accounts import update_account
from jet.audit import Actor
from jet.config import PROJECT_ROOT, Settings
from jet.portal_logins import customer_of, portal_sign_in, set_portal_password
from jet.store.db import session
from jet.store.models import AuditEntry
from tests.mailbox import serving
from tests.unit.test_portal_data import home  # noqa: F401 (the fixture)

APP = PROJECT_ROOT / "apps" / "streamlit" / "portal" / "app.py"
TIMEOUT = 60
PASSWORD = "correct horse battery"
STAFF = Actor("root", "cli")
OK, DECLINED = "4242 4242 4242 4242", "4000 0000 0000 0002"


@pytest.fixture
def mailbox(monkeypatch):
    yield from serving(monkeypatch)


@pytest.fixture
def portal(home: Settings, mailbox) -> Settings:  # noqa: F811
    """pdata's `home`, each account with the portal password PASSWORD."""
    with session(home.db_url) as s:
        for account in ("ann", "bigco", "sue", "olaf", "sky"):
            set_portal_password(s, STAFF, account, PASSWORD)
    return home


def _app(realm: str | None = "acme", **query: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    if realm:
        at.query_params["realm"] = realm
    for key, value in query.items():
        at.query_params[key] = value
    return at


def _signed_in(settings: Settings, login: str, realm: str = "acme", **query: str) -> AppTest:
    at = _app(realm, **query)
    with session(settings.db_url) as s:
        at.session_state[TOKEN] = portal_sign_in(s, login, PASSWORD)
    return at.run()


def _titles(at: AppTest) -> list[str]:
    return [t.value for t in at.title]


def _refusals(settings: Settings, actor: str) -> list[dict]:
    with session(settings.db_url) as s:
        rows = s.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "access.refused", AuditEntry.actor == actor
            )
        )
        return [r.after for r in rows]


def test_an_address_of_no_realm_lists_the_portals(portal: Settings) -> None:
    at = _app(realm=None).run()
    assert not at.exception
    assert _titles(at) == ["Customer portals"]
    links = " ".join(m.value for m in at.markdown)
    assert "?realm=acme" in links and "?realm=skyfi" in links
    assert _titles(_app(realm="nowhere").run()) == ["Customer portals"]


def test_the_host_name_chooses_the_realm_and_its_brand(portal: Settings) -> None:
    at = _app(realm=None)
    at.context["url"] = "https://portal.acme.localhost:8502/"
    at.run()
    assert not at.exception
    assert _titles(at) == ["Sign in"]
    assert "**Acme" in at.sidebar.markdown[0].value
    assert at.session_state["jet_portal_realm"] == "acme"


def test_sign_in_opens_the_usage_page_and_sign_out_ends_the_session(portal: Settings) -> None:
    at = _app().run()
    assert _titles(at) == ["Sign in"]
    at.text_input[0].input("ann")
    at.text_input[1].input(PASSWORD)
    at.button[0].click().run()
    assert not at.exception, at.exception
    assert _titles(at) == ["Usage"]
    token = at.session_state[TOKEN]
    assert "Signed in as ann" in at.sidebar.caption[0].value
    at.sidebar.button[0].click().run()
    assert TOKEN not in at.session_state
    with session(portal.db_url) as s:
        assert customer_of(s, token) is None


def test_a_wrong_password_or_another_realms_login_is_refused_alike(portal: Settings) -> None:
    for login, password in (("ann", "not the password"), ("sky", PASSWORD)):
        at = _app("acme").run()
        at.text_input[0].input(login)
        at.text_input[1].input(password)
        at.button[0].click().run()
        assert "sign-in refused" in at.error[0].value
        assert TOKEN not in at.session_state
    # sky's session from skyfi's portal does not count in acme's.
    assert _titles(_signed_in(portal, "sky", "acme")) == ["Sign in"]
    assert _titles(_signed_in(portal, "sky", "skyfi")) == ["Usage"]


@pytest.mark.parametrize("login", ["ann", "bigco", "sue"])
def test_each_page_renders(portal: Settings, login: str) -> None:
    at = _signed_in(portal, login)
    assert not at.exception, at.exception
    for page in PAGES:
        at.switch_page(page.path).run()
        assert not at.exception, (page.title, at.exception)
        assert not at.error, (page.title, [e.value for e in at.error])
        assert _titles(at)[0] == page.title
    assert _refusals(portal, login) == []


def test_a_company_chooses_among_its_accounts_and_a_user_has_no_choice(portal: Settings) -> None:
    company = _signed_in(portal, "bigco")
    assert company.sidebar.selectbox[0].options == ["bigco", "olaf", "sue"]
    company.sidebar.selectbox[0].select("olaf").run()
    assert "Account olaf" in company.caption[0].value
    assert not _signed_in(portal, "sue").sidebar.selectbox


@pytest.mark.parametrize(
    ("login", "other"), [("ann", "sky"), ("ann", "bigco"), ("sue", "olaf"), ("sue", "bigco")]
)
def test_another_account_by_url_or_session_state_gives_nothing_and_is_audited(
    portal: Settings, login: str, other: str
) -> None:
    for page in PAGES[:4]:  # usage, invoices, pay, details: each reads by account
        at = _signed_in(portal, login, account=other)
        at.switch_page(page.path).run()
        assert not at.exception, at.exception
        assert [e.value for e in at.error] == [
            f"no account '{other}': give one of your own accounts' logins"
        ], page.title
        assert not at.dataframe
    at = _app()
    with session(portal.db_url) as s:
        at.session_state[TOKEN] = portal_sign_in(s, login, PASSWORD)
    at.session_state[ACCOUNT] = other
    at.run()
    assert other in at.error[0].value
    # Each signed-in run opened Usage first, then the page: 2 x 4 tries, and the last one.
    asked = [r["asked"] for r in _refusals(portal, login)]
    assert asked == [other] * 9


def test_pay_an_invoice_declined_then_charged_with_a_receipt(portal: Settings) -> None:
    at = _signed_in(portal, "ann")
    at.switch_page("views/pay.py").run()
    assert _titles(at) == ["Pay"]

    def pay(card: str) -> None:
        at.text_input[0].input(card)
        at.text_input[1].input("12/30")
        at.text_input[2].input("123")
        at.button[0].click().run()
        assert not at.exception, at.exception

    pay(DECLINED)
    assert "declined (card_declined): nothing was charged" in at.error[0].value
    pay(OK)
    assert "AUD 75.90 charged to visa ending 4242" in at.success[0].value
    at.switch_page("views/invoices.py").run()
    assert at.metric[0].value == "AUD 0.00"


def test_sign_up_by_the_emailed_link_then_sign_in(portal: Settings, mailbox) -> None:
    at = _app().run()
    at.switch_page("views/sign_up.py").run()
    assert _titles(at) == ["Sign up"]
    fields = {t.label: t for t in at.text_input}
    fields["Login"].input("newbie")
    fields["Name"].input("New Bie")
    fields["E-mail"].input("newbie@example.net")
    fields["Country"].input("au")
    fields["Connection password"].input("radius-secret")
    fields["Portal password"].input(PASSWORD)
    at.button[0].click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert "newbie@example.net" in at.success[0].value
    # Not signed up before the link is followed.
    at.switch_page("views/sign_in.py").run()
    at.text_input[0].input("newbie")
    at.text_input[1].input(PASSWORD)
    at.button[0].click().run()
    assert "sign-in refused" in at.error[0].value
    link = mailbox.messages[-1].get_content()
    assert "?realm=acme&verify=" in link
    opened = _app(verify=mailbox.link("verify")).run()
    assert _titles(opened) == ["Open your account"]
    assert "newbie is open" in opened.success[0].value
    again = _app(verify=mailbox.link("verify")).run()
    assert "used already" in again.error[0].value
    assert _titles(_signed_in(portal, "newbie")) == ["Usage"]


def test_a_filled_honeypot_sends_nothing(portal: Settings, mailbox) -> None:
    at = _app().run()
    at.switch_page("views/sign_up.py").run()
    fields = {t.label: t for t in at.text_input}
    fields["Login"].input("robot")
    fields["E-mail"].input("robot@example.net")
    fields["Website"].input("http://spam.example")
    at.button[0].click().run()
    assert mailbox.messages == []


def test_a_reset_link_sets_a_new_password(portal: Settings, mailbox) -> None:
    at = _app().run()
    at.text_input[2].input("ann")  # the reset form, under the sign-in form
    at.button[1].click().run()
    assert "link to set a new password" in at.success[0].value
    at = _app(reset=mailbox.link("reset")).run()
    assert _titles(at) == ["New password"]
    at.text_input[0].input("a brand new password")
    at.text_input[1].input("a brand new password")
    at.button[0].click().run()
    assert "portal password of ann is set" in at.success[0].value
    with session(portal.db_url) as s:
        assert portal_sign_in(s, "ann", "a brand new password")


def test_contact_and_details_act_as_the_customer(portal: Settings) -> None:
    at = _signed_in(portal, "ann")
    at.switch_page("views/contact.py").run()
    at.text_input[0].input("Slow at night")
    at.text_area[0].input("Since Tuesday, after 8 pm.")
    at.button[0].click().run()
    assert "is with our support" in at.success[0].value
    at.switch_page("views/details.py").run()
    at.text_area[0].input("1 New Street\nSydney")
    at.button[0].click().run()
    assert at.success[0].value == "Saved."
    with session(portal.db_url) as s:
        actions = [
            (e.action, e.actor, e.channel)
            for e in s.scalars(select(AuditEntry).where(AuditEntry.actor == "ann"))
        ]
    assert ("account.updated", "ann", "portal") in actions


def test_plan_change_after_its_pro_rata_preview(portal: Settings) -> None:
    at = _signed_in(portal, "ann")
    at.switch_page("views/plan.py").run()
    captions = " ".join(c.value for c in at.caption)
    assert "plan now: home" in captions and "AUD" in captions
    assert at.selectbox[0].value == "hotspot"
    assert [b.label for b in at.main.button] == ["Show what it changes"]  # no change unseen
    at.main.button[0].click().run()
    assert not at.exception, at.exception
    assert "From today, before tax" in at.main.markdown[-1].value
    at.main.button[1].click().run()
    assert at.success[0].value == "Your plan is hotspot from today."
    with session(portal.db_url) as s:
        (entry,) = s.scalars(select(AuditEntry).where(AuditEntry.action == "plan.changed"))
    assert (entry.actor, entry.channel) == ("ann", "portal")


def test_usage_shows_the_allowance_chart_and_sessions(portal: Settings) -> None:
    at = _signed_in(portal, "ann")
    assert "plan home" in at.main.caption[0].value
    (bar,) = at.get("progress")
    assert "home-data: 400.000 of 500" in bar.proto.text and "(80.0 %)" in bar.proto.text
    assert at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")
    sessions = at.dataframe[-1].value
    assert list(sessions.columns) == ["started_at", "ended_at", "MB in", "MB out", "nas"]
    assert sessions["nas"].tolist() == ["bras-1"] and sessions["MB in"].tolist() == [3000.0]


def test_invoices_offer_the_pdf_and_the_facturx_xml(portal: Settings) -> None:
    at = _signed_in(portal, "ann")
    at.switch_page("views/invoices.py").run()
    assert at.metric[0].value == "AUD 75.90"
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["PDF", "Factur-X XML"]


def test_a_prepaid_customer_tops_up_on_the_pay_page(portal: Settings) -> None:
    with session(portal.db_url) as s:
        update_account(s, "ann", prepaid=True, actor=STAFF)
    at = _signed_in(portal, "ann")
    assert at.metric[0].label == "Prepaid credit"
    at.switch_page("views/pay.py").run()
    fields = {t.label: t for t in at.text_input[:4]}  # the top-up form comes first
    fields["Amount"].input("100.00")
    fields["Card number"].input(OK)
    fields["Expiry (MM/YY)"].input("12/30")
    fields["CVC"].input("123")
    at.main.button[0].click().run()
    assert not at.exception, at.exception
    assert "AUD 100.00 charged to visa ending 4242" in at.success[0].value
    assert "Receipt (PDF)" in [b.proto.label for b in at.get("download_button")]


def test_an_ended_session_asks_to_sign_in_again(portal: Settings) -> None:
    at = _signed_in(portal, "ann")
    with session(portal.db_url) as s:
        set_portal_password(s, STAFF, "ann", "another long password")  # ends its sessions
    at.run()
    assert TOKEN not in at.session_state
    assert "Your session ended" in at.info[0].value
    assert _titles(at) == ["Sign in"]
