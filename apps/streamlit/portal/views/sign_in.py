"""Sign in with the account's login and portal password; ask for a reset link."""

import streamlit as st

from apps.streamlit.auth.customer_login import sign_in_form
from apps.streamlit.console.context import shown_refusals
from apps.streamlit.portal.context import base_url, realm_page
from jet.portal_logins import request_password_reset
from jet.store.db import session

settings, realm = realm_page("Sign in")
sign_in_form(settings, realm)
with st.expander("Forgot your portal password?"), st.form("reset_request"):
    login = st.text_input("Login", key="reset_login")
    asked = st.form_submit_button("E-mail me a link")
if asked:
    with shown_refusals(stop=False), session(settings.db_url) as s:
        request_password_reset(s, settings, login, base_url(settings, realm))
        st.success(
            "If that login has an e-mail address with us, a link to set a new password is "
            "on its way; it works once, for an hour."
        )
