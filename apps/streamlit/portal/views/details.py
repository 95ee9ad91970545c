"""Details: contact and billing address, delivery by e-mail or paper, the portal
password."""

import streamlit as st

from apps.streamlit.auth.customer_login import TOKEN
from apps.streamlit.console.context import shown_refusals
from apps.streamlit.data import portal, portal_actions
from apps.streamlit.portal.context import page

settings, customer, account = page("Details")
with shown_refusals():
    mine = portal.details(settings, customer, account)

st.caption(f"Account {account} · {mine['kind']} · {mine['status']} · plan {mine['plan']}")
if mine["children"]:
    st.caption("Accounts under it: " + ", ".join(c["id"] for c in mine["children"]))
with st.form("details"):
    name = st.text_input("Name", mine["name"] or "")
    email = st.text_input("E-mail", mine["email"] or "")
    phone = st.text_input("Phone", mine["phone"] or "")
    address = st.text_area("Billing address", mine["address"] or "")
    country = st.text_input("Country", mine["country"] or "", max_chars=2)
    tax_id = st.text_input("Tax id", mine["tax_id"] or "")
    delivery = st.radio(
        "Invoices by",
        ["email", "paper"],
        index=0 if (mine["delivery"] or "email") == "email" else 1,
        horizontal=True,
    )
    saved = st.form_submit_button("Save", type="primary")
if saved:
    with shown_refusals(stop=False):
        portal_actions.update_details(
            settings, customer, account, name=name, email=email, phone=phone,
            address=address, country=country.upper(), tax_id=tax_id, delivery=delivery,
        )  # fmt: skip
        st.success("Saved.")

if account == customer.account_id:
    st.subheader("Portal password")
    with st.form("password"):
        old = st.text_input("Current password", type="password")
        new = st.text_input("New password", type="password", help="At least 10 characters.")
        again = st.text_input("The same again", type="password")
        changed = st.form_submit_button("Change the password")
    if changed:
        if new != again:
            st.error("The two new passwords differ: type the same one twice.")
        else:
            with shown_refusals(stop=False):
                st.session_state[TOKEN] = portal_actions.change_password(
                    settings, customer, old, new
                )
                st.success("Your portal password is changed; your other sessions ended.")
