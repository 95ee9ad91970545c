"""Contact: a message to the realm's support, kept on the account for the helpdesk."""

import streamlit as st

from apps.streamlit.console.context import shown_refusals
from apps.streamlit.data import portal_actions
from apps.streamlit.portal.context import page

settings, customer, account = page("Contact")
with st.form("contact", clear_on_submit=True):
    subject = st.text_input("Subject", max_chars=200)
    body = st.text_area("Message", max_chars=5000)
    sent = st.form_submit_button("Send", type="primary")
if sent:
    with shown_refusals(stop=False):
        number = portal_actions.contact(settings, customer, account, subject, body)
        st.success(f"Message #{number} is with our support; we answer by e-mail.")
