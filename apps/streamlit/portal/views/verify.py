"""The e-mailed sign-up link (`?verify=TOKEN`): opens the account, once."""

import streamlit as st

from apps.streamlit.console.context import shown_refusals
from apps.streamlit.portal.context import realm_page
from jet.signup import verify_signup
from jet.store.db import session

settings, realm = realm_page("Open your account")
token = st.query_params.get("verify", "")
with shown_refusals(), session(settings.db_url) as s:
    account = verify_signup(s, token)
del st.query_params["verify"]  # a rerun would use the link a second time
st.success(f"Your account {account} is open: sign in with the login {account}.")
