"""The portal's reads and actions (apps/streamlit/data/portal*.py) on a real store, real
Parquet marts, real invoice PDFs and the sandbox gateway: a customer reaches its own
accounts (a company its whole tree, a user only itself), and every other account id,
invoice number or receipt reads as missing and is audited."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path

import pyarrow as pa
import pytest
from sqlalchemy import func, select

from apps.streamlit.data import portal
from apps.streamlit.data import portal_actions as actions
from ingest.landing import land
from jet.accounts import AccountError, update_account
from jet.contact_messages import messages
from jet.customer_access import NotYours, customer
from jet.gateways import CardError
from jet.ledger import record_payment
from jet.portal_logins import (
    PortalLoginRefused,
    PortalPasswordError,
    customer_of,
    portal_sign_in,
    set_portal_password,
)
from jet.prepaid import top_up
from jet.store.db import session
from jet.store.models import AuditEntry, CardCharge, Event, Invoice
from reports.statement_pdf import render_statements
from schemas.raw import RADIUS
from tests.ledger_fixtures import issue
from tests.portal_home import CYCLE, STAFF, TODAY, UTC_TIME, portal_home, publish_mart  # noqa: F401


def who(settings, account_id: str):
    with session(settings.db_url) as s:
        return customer(s, account_id)


def number_of(settings, account_id: str) -> str:
    with session(settings.db_url) as s:
        return s.scalar(select(Invoice.number).where(Invoice.account_id == account_id))


def refusals(settings) -> list[AuditEntry]:
    with session(settings.db_url) as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == "access.refused")))


# --- reads ------------------------------------------------------------------------------


def test_usage_this_cycle_against_the_allowance_with_chart_and_sessions(home):
    page = portal.usage(home, who(home, "ann"), "ann")
    assert page["plan"] == "home" and page["cycle_start"] == CYCLE
    (row,) = page["allowances"].to_dicts()
    assert (row["product"], row["unit"], row["used"], row["included"], row["percent"]) == (
        "home-data", "GB", D("400"), D("500"), 80.0,
    )  # fmt: skip
    (day,) = page["daily"].to_dicts()
    assert (day["day"], day["gigabytes_in"], day["gigabytes_out"], day["hours"]) == (
        TODAY, 3.0, 1.0, 2.0,
    )  # fmt: skip
    (held,) = page["sessions"].to_dicts()
    assert held["nas"] == "bras-1" and held["bytes_in"] == 3_000_000_000 and held["ended_at"]
    assert page["prepaid"] is None


def test_a_prepaid_account_sees_its_credit_and_what_it_still_buys(home):
    with session(home.db_url) as s:
        update_account(s, "ann", prepaid=True, actor=STAFF)
        top_up(s, STAFF, "ann", "86.90", "cash")  # 75.90 pays the invoice, 11.00 is left
    page = portal.usage(home, who(home, "ann"), "ann")["prepaid"]
    assert page["credit"] == D("11.00") and page["currency"] == "AUD"
    # home-data's dearest tier: 0.05 a GB + 10 % GST = 0.055: 11.00 buys 200 GB
    assert page["buys"] == [{"what": "Home data", "quantity": D("200.00"), "unit": "GB"}]


def test_invoices_dues_and_the_pdf_and_facturx_files(home):
    ann = who(home, "ann")
    number = number_of(home, "ann")
    (row,) = portal.invoices(home, ann, "ann").to_dicts()
    assert (row["number"], row["total"], row["due"]) == (number, "75.90", "75.90")
    assert row["due_date"] == (CYCLE + timedelta(days=14)).isoformat()
    pdf = portal.invoice_file(home, ann, number)
    assert str(pdf) == row["pdf_path"] and pdf.read_bytes().startswith(b"%PDF")
    xml = portal.invoice_file(home, ann, number, "facturx")
    assert xml.suffix == ".xml" and number.encode() in xml.read_bytes()
    owed = portal.dues(home, ann, "ann")
    assert owed["cards"]  # acme's catalog names a gateway
    assert owed["balance"] == "75.90" and [o["number"] for o in owed["open"]] == [number]
    assert not owed["billed_elsewhere"]
    with session(home.db_url) as s:
        later = issue(s, "ann", CYCLE + timedelta(days=1), "5.00").number  # not rendered yet
    assert portal.invoices(home, ann, "ann")["pdf_path"].to_list() == [None, str(pdf)]
    with pytest.raises(portal.NotWritten, match=f"the PDF of {later} is not written yet"):
        portal.invoice_file(home, ann, later)


def test_details_and_the_realms_public_plans(home):
    ann = who(home, "ann")
    shown = portal.details(home, ann, "ann")
    assert (shown["name"], shown["email"], shown["plan"]) == ("Ann Lee", "ann@example.net", "home")
    offered = portal.plans(home, ann)
    assert [(p["plan"], p["current"]) for p in offered] == [("home", True), ("hotspot", False)]
    assert [p["product"] for p in offered[0]["products"]] == ["home-access", "setup", "home-data"]


# --- refusals ---------------------------------------------------------------------------


def test_another_customers_invoice_pdf_and_usage_give_nothing_and_are_audited(home):
    ann = who(home, "ann")
    theirs = number_of(home, "sky")
    with pytest.raises(NotYours, match=f"no invoice '{theirs}'") as refused:
        portal.invoice_file(home, ann, theirs)
    assert "sky" not in str(refused.value)  # whose it is is not said
    with pytest.raises(NotYours, match="no invoice 'ACME-NOPE'"):
        portal.invoice_file(home, ann, "ACME-NOPE", "facturx")
    for read in (portal.usage, portal.invoices, portal.dues, portal.details):
        with pytest.raises(NotYours, match="no account 'sky'"):
            read(home, ann, "sky")
    asked = [(r.actor, r.channel, r.after["asked"], r.after["about"]) for r in refusals(home)]
    assert asked[:2] == [
        ("ann", "portal", "sky", f"invoice {theirs!r}"),
        ("ann", "portal", "", "invoice 'ACME-NOPE'"),
    ]
    assert [a[2:] for a in asked[2:]] == [
        ("sky", "usage"), ("sky", "invoices"), ("sky", "dues"), ("sky", "details"),
    ]  # fmt: skip


def test_a_user_under_a_company_cannot_see_its_siblings_nor_the_companys_bills(home):
    sue = who(home, "sue")
    assert portal.usage(home, sue, "sue")["daily"]["gigabytes_in"].to_list() == [0.0]
    for account in ("olaf", "bigco"):
        with pytest.raises(NotYours):
            portal.usage(home, sue, account)
    with pytest.raises(NotYours):
        portal.invoice_file(home, sue, number_of(home, "bigco"))
    owed = portal.dues(home, sue, "sue")
    assert owed["billed_elsewhere"] and owed["open"] == [] and owed["balance"] is None
    assert portal.invoices(home, sue, "sue").is_empty()


def test_a_company_sees_its_users_and_its_own_bills(home):
    company = who(home, "bigco")
    olaf = portal.usage(home, company, "olaf")
    assert olaf["allowances"]["used"].to_list() == [D("9")]
    assert [c["id"] for c in portal.details(home, company, "bigco")["children"]] == [
        "olaf", "sue",
    ]  # fmt: skip
    assert portal.invoice_file(home, company, number_of(home, "bigco")).exists()
    assert portal.dues(home, company, "sue")["balance"] == "150.00"
    assert refusals(home) == []


def test_statements_of_ones_own_accounts_only(home):
    month = f"{CYCLE:%Y-%m}"
    assert portal.statements(home, who(home, "ann"), "ann") == []
    assert len(render_statements(home, CYCLE)) == 3  # ann, bigco and sky have entries
    assert portal.statements(home, who(home, "ann"), "ann") == [month]
    path = portal.statement_file(home, who(home, "ann"), "ann", month)
    assert path.read_bytes().startswith(b"%PDF")
    assert portal.statements(home, who(home, "bigco"), "bigco") == [month]
    assert portal.statements(home, who(home, "sue"), "sue") == []  # billed to bigco
    for customer_id, theirs in (("ann", "sky"), ("sue", "bigco"), ("sue", "olaf")):
        with pytest.raises(NotYours):
            portal.statement_file(home, who(home, customer_id), theirs, month)
        with pytest.raises(NotYours):
            portal.statements(home, who(home, customer_id), theirs)
    assert {r.after["asked"] for r in refusals(home)} == {"sky", "bigco", "olaf"}
    with pytest.raises(portal.NotWritten, match="no statement of 2020-01"):
        portal.statement_file(home, who(home, "ann"), "ann", "2020-01")


def test_receipts_only_of_ones_own_payments(home):
    with session(home.db_url) as s:
        paid = record_payment(s, STAFF, "sky", "39.00", "cash").id
    with pytest.raises(NotYours, match=f"no receipt {paid}"):
        portal.receipt_file(home, who(home, "ann"), paid)
    assert portal.receipt_file(home, who(home, "sky"), paid).read_bytes().startswith(b"%PDF")


# --- actions ----------------------------------------------------------------------------

OK, DECLINED = "4242 4242 4242 4242", "4000 0000 0000 0002"


def charges(settings) -> int:
    with session(settings.db_url) as s:
        return s.scalar(select(func.count()).select_from(CardCharge))


def test_paying_an_invoice_by_card_gives_the_result_and_receipt_at_once(home):
    ann, number = who(home, "ann"), number_of(home, "ann")
    declined = actions.pay_invoice(home, ann, number, DECLINED, "12/30", "123")
    assert not declined["charged"] and declined["reason"] == "card_declined"
    assert (
        declined["message"] == "visa ending 0002 was declined (card_declined): nothing was charged"
    )
    assert portal.dues(home, ann, "ann")["balance"] == "75.90"
    paid = actions.pay_invoice(home, ann, number, OK, "12/30", "123", key="form-7")
    assert paid["charged"] and paid["message"] == "AUD 75.90 charged to visa ending 4242"
    assert Path(paid["receipt_path"]).read_bytes().startswith(b"%PDF")
    again = actions.pay_invoice(home, ann, number, OK, "12/30", "123", key="form-7")
    assert again["reference"] == paid["reference"] and charges(home) == 2
    assert portal.dues(home, ann, "ann")["balance"] == "0.00"
    assert portal.invoices(home, ann, "ann")["due"].to_list() == ["0.00"]
    with session(home.db_url) as s:
        audit = s.scalars(select(AuditEntry).where(AuditEntry.action.like("%.recorded")))
        assert [(a.actor, a.channel) for a in audit] == [("ann", "portal")]


def test_no_one_pays_or_tops_up_through_another_customers_ids(home):
    with pytest.raises(NotYours, match="no invoice"):
        actions.pay_invoice(home, who(home, "ann"), number_of(home, "sky"), OK, "12/30", None)
    with pytest.raises(NotYours):  # a user, its company's invoice
        actions.pay_invoice(home, who(home, "sue"), number_of(home, "bigco"), OK, "12/30", None)
    with pytest.raises(NotYours, match="no account 'sky'"):
        actions.top_up(home, who(home, "ann"), "sky", "10.00", OK, "12/30", None)
    assert charges(home) == 0 and len(refusals(home)) == 3


def test_a_prepaid_customer_tops_up_by_card(home):
    with session(home.db_url) as s:
        update_account(s, "ann", prepaid=True, actor=STAFF)
    ann = who(home, "ann")
    done = actions.top_up(home, ann, "ann", "100.00", OK, "12/30", None)
    assert done["charged"] and done["amount"] == "100.00"
    assert portal.usage(home, ann, "ann")["prepaid"]["credit"] == D("24.10")


def test_details_change_as_jet_account_set_and_only_the_customers_fields(home):
    ann = who(home, "ann")
    after = actions.update_details(home, ann, "ann", address="1 Main St, Sydney", delivery="paper")
    assert (after["address"], after["delivery"]) == ("1 Main St, Sydney", "paper")
    assert portal.details(home, ann, "ann")["address"] == "1 Main St, Sydney"
    with session(home.db_url) as s:
        (changed,) = s.scalars(select(AuditEntry).where(AuditEntry.action == "account.updated"))
    assert (changed.actor, changed.channel) == ("ann", "portal")
    with pytest.raises(AccountError, match="notes cannot be changed here"):
        actions.update_details(home, ann, "ann", notes="VIP")
    with pytest.raises(NotYours):
        actions.update_details(home, who(home, "sue"), "olaf", phone="+61 2 9000 0000")


def test_a_plan_change_to_a_public_plan_only(home):
    ann = who(home, "ann")
    offered = "'business' is not offered here: choose one of home, hotspot"
    with pytest.raises(actions.NotOffered, match=offered):
        actions.change_plan(home, ann, "ann", "business")
    with pytest.raises(actions.NotOffered):
        actions.plan_change_preview(home, ann, "ann", "business")
    with pytest.raises(NotYours):
        actions.change_plan(home, ann, "sky", "hotspot")
    actions.change_plan(home, ann, "ann", "hotspot", TODAY)
    assert portal.details(home, ann, "ann")["plan"] == "hotspot"
    with session(home.db_url) as s:
        (event,) = s.scalars(select(Event).where(Event.topic == "plan.changed"))
        (entry,) = s.scalars(select(AuditEntry).where(AuditEntry.action == "plan.changed"))
    assert event.payload["plan"] == "hotspot" and entry.actor == "ann"


def test_the_plan_change_preview_rates_the_change_and_keeps_nothing(home):
    ann = who(home, "ann")
    on = TODAY if TODAY.day > 1 else TODAY + timedelta(days=1)
    draft = actions.plan_change_preview(home, ann, "ann", "hotspot", on)
    # home's monthly fee refunded from `on` (hotspot has only connect time to charge)
    (refund,) = draft["effect"]
    assert (refund["product"], refund["kind"], refund["period_start"]) == (
        "home-access", "refund", on.isoformat(),
    )  # fmt: skip
    assert D(draft["effect_total"]) == D(refund["amount"]) < 0
    assert draft["account"] == "ann" and refund in draft["lines"]
    assert portal.details(home, ann, "ann")["plan"] == "home"  # nothing was changed


def test_a_password_change_needs_the_current_one_and_goes_on_in_a_new_session(home):
    ann = who(home, "ann")
    with session(home.db_url) as s:
        set_portal_password(s, STAFF, "ann", "first long password")
    with pytest.raises(PortalLoginRefused):
        actions.change_password(home, ann, "a wrong guess!", "second long password")
    with pytest.raises(PortalPasswordError, match="at least 10"):
        actions.change_password(home, ann, "first long password", "short")
    token = actions.change_password(home, ann, "first long password", "second long password")
    with session(home.db_url) as s:
        assert customer_of(s, token).account_id == "ann"
        assert portal_sign_in(s, "ann", "second long password")
    with session(home.db_url) as s, pytest.raises(PortalLoginRefused):
        portal_sign_in(s, "ann", "first long password")
    with session(home.db_url) as s:
        changes = s.scalars(
            select(AuditEntry).where(AuditEntry.action == "portal.password_changed")
        )
        assert [(a.actor, a.channel) for a in changes] == [("root", "cli"), ("ann", "portal")]


def test_a_contact_message_is_kept_on_the_customers_own_account_only(home):
    sue = who(home, "sue")
    kept = actions.contact(home, sue, "sue", "Slow evenings", "Since Monday, after 7 pm.")
    with session(home.db_url) as s:
        (message,) = messages(s, "sue")
    assert (message["id"], message["author"], message["subject"]) == (kept, "sue", "Slow evenings")
    with pytest.raises(NotYours):
        actions.contact(home, sue, "olaf", "Hello", "A sibling's account")
    with session(home.db_url) as s:
        assert messages(s, "olaf") == []


def test_a_session_open_now_shows_before_any_rating_run(home):
    now = datetime.now(UTC)
    start = {
        "status_type": "Start", "event_time": now, "received_at": now,
        "user_name": "ann@acme", "acct_session_id": "s9",
        "nas_ip": int(ipaddress.IPv4Address("10.0.0.9")),
        "source_ip": int(ipaddress.IPv4Address("10.0.0.9")),
    }  # fmt: skip
    interim = {
        **start, "status_type": "Interim-Update", "event_time": now + timedelta(minutes=5),
        "session_time": 300, "input_octets": 7_000_000, "output_octets": 900_000,
    }  # fmt: skip
    land("radius", pa.Table.from_pylist([start, interim], schema=RADIUS), "b1", home.raw)
    online = portal.usage(home, who(home, "ann"), "ann")["online"]
    assert online.select("start", "bytes_in", "bytes_out", "nas").rows() == [
        (now, 7_000_000, 900_000, "10.0.0.9")
    ]
    assert portal.usage(home, who(home, "sue"), "sue")["online"].is_empty()


def test_a_first_top_up_is_due_until_paid_in_a_realm_that_asks_one(home, monkeypatch):
    monkeypatch.setenv("SKYFI_GATEWAY_KEY", "sk_test_skyfi")
    sky = who(home, "sky")
    assert portal.dues(home, sky, "sky")["first_top_up_due"] is None  # postpaid
    with session(home.db_url) as s:
        update_account(s, "sky", prepaid=True, actor=STAFF)
    assert portal.dues(home, sky, "sky")["first_top_up_due"] == D("10.00")
    with pytest.raises(CardError, match="the first top-up of sky is at least 10.00"):
        actions.top_up(home, sky, "sky", "5.00", OK, "12/30", None)
    assert charges(home) == 0  # refused before the gateway
    assert actions.top_up(home, sky, "sky", "50.00", OK, "12/30", None)["charged"]
    assert actions.top_up(home, sky, "sky", "5.00", OK, "12/30", None)["charged"]  # then any
    assert portal.dues(home, sky, "sky")["prepaid_credit"] == D("16.00")  # 55.00 less 39.00 owed
    assert portal.dues(home, who(home, "ann"), "ann")["prepaid_credit"] is None  # postpaid
    assert portal.dues(home, sky, "sky")["first_top_up_due"] is None
