"""Pay: an open invoice, or a prepaid top-up, by card through the realm's gateway; the
result and the receipt at once."""

import uuid

import streamlit as st

from apps.streamlit.data import portal, portal_actions
from apps.streamlit.portal.context import page
from apps.streamlit.refusals import shown_refusals

FORM_KEY = "jet_portal_pay_key"  # one per form shown: a second submit charges nothing
RESULT = "jet_portal_pay_result"  # the last payment's result, shown after the page is read again

settings, customer, account = page("Pay")
with shown_refusals():
    owed = portal.dues(settings, customer, account)
prepaid = owed["prepaid_credit"]  # None: not a prepaid account


def _card() -> tuple[str, str, str]:
    number = st.text_input("Card number", autocomplete="cc-number")
    expiry = st.text_input("Expiry (MM/YY)", autocomplete="cc-exp")
    cvc = st.text_input("CVC", type="password", max_chars=4, autocomplete="cc-csc")
    return number, expiry, cvc


def _done(result: dict) -> None:
    """Read the page again (what is due has changed) and show `result` at its top."""
    st.session_state.pop(FORM_KEY, None)  # the next submit is a new charge
    st.session_state[RESULT] = result
    st.rerun()


def _show(result: dict) -> None:
    if not result["charged"]:
        st.error(result["message"])
        return
    st.success(result["message"] + f" (reference {result['reference']})")
    with shown_refusals(stop=False):
        receipt = portal.receipt_file(settings, customer, result["receipt_id"])
        st.download_button("Receipt (PDF)", receipt.read_bytes(), receipt.name, "application/pdf")


if (last := st.session_state.pop(RESULT, None)) is not None:
    _show(last)
if not owed["cards"]:
    st.info(
        "Payments here are not taken by card: your invoices say how to pay them "
        "(direct debit or bank transfer)."
    )
    st.stop()
key = st.session_state.setdefault(FORM_KEY, uuid.uuid4().hex)
if owed["first_top_up_due"] is not None:
    st.warning(f"A first top-up of {owed['first_top_up_due']} is due before you connect.")
if prepaid is not None:
    st.subheader("Top up")
    st.caption(f"Credit now: {owed['currency']} {prepaid}")
    with st.form("top_up"):
        amount = st.text_input("Amount", value=str(owed["first_top_up_due"] or ""))
        number, expiry, cvc = _card()
        topped = st.form_submit_button("Top up", type="primary")
    if topped:
        with shown_refusals(stop=False):
            _done(portal_actions.top_up(
                settings, customer, account, amount, number, expiry, cvc, key=key))  # fmt: skip
open_invoices = [o for o in owed["open"] if o["number"]]
if owed["billed_elsewhere"]:
    st.info("This account's charges are billed to the company it belongs to.")
elif open_invoices:
    st.subheader("Pay an invoice")
    with st.form("pay_invoice"):
        number_due = st.selectbox(
            "Invoice",
            [o["number"] for o in open_invoices],
            format_func=lambda n: next(
                f"{n}: {owed['currency']} {o['due']} due" for o in open_invoices if o["number"] == n
            ),
        )
        number, expiry, cvc = _card()
        paid = st.form_submit_button("Pay", type="primary")
    if paid:
        with shown_refusals(stop=False):
            _done(portal_actions.pay_invoice(
                settings, customer, number_due, number, expiry, cvc, key=key))  # fmt: skip
elif prepaid is None:
    st.success("Nothing is due.")
