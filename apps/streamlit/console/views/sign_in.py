"""Sign in: e-mail, password and, for those who set one up, a TOTP code."""

import streamlit as st

from apps.streamlit.auth.staff_login import sign_in_form
from jet.config import Settings

st.title("Jet staff console")
sign_in_form(Settings())
