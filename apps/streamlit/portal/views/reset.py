"""The e-mailed reset link (`?reset=TOKEN`): set a new portal password, once."""

import streamlit as st

from apps.streamlit.console.context import shown_refusals
from apps.streamlit.portal.context import realm_page
from jet.portal_logins import reset_password
from jet.store.db import session

settings, realm = realm_page("New password")
with st.form("reset"):
    password = st.text_input("New portal password", type="password", help="At least 10 characters.")
    again = st.text_input("The same again", type="password")
    submitted = st.form_submit_button("Set the password", type="primary")
if submitted:
    if password != again:
        st.error("The two passwords differ: type the same one twice.")
        st.stop()
    with shown_refusals(stop=False), session(settings.db_url) as s:
        account = reset_password(s, st.query_params.get("reset", ""), password)
        del st.query_params["reset"]
        st.success(f"The portal password of {account} is set: sign in with it.")
