"""Staff sign-in for the console: the form, and the session token in `st.session_state`.

The token is all a browser tab holds; who it belongs to and what they may do is asked of
the store (`jet.staff.staff_of`) on every rerun, so a session that expired, was signed
out or whose staff member was disabled ends at the next click. A refused sign-in shows
one vague message (jet.staff says why in the audit log, not to whoever is guessing)."""

from __future__ import annotations

import streamlit as st

from apps.streamlit.auth.sign_out import sign_out_button as sign_out_button_of
from jet.config import Settings
from jet.roles import Staff
from jet.staff import LoginRefused, sign_in, sign_out, staff_of
from jet.store.db import session

TOKEN = "jet_staff_token"
_ENDED = "jet_staff_session_ended"


def signed_in(settings: Settings) -> Staff | None:
    """The staff member this tab is signed in as, None when no one (or no longer)."""
    token = st.session_state.get(TOKEN)
    if not token:
        return None
    with session(settings.db_url) as s:
        staff = staff_of(s, token)
    if staff is None:
        del st.session_state[TOKEN]
        st.session_state[_ENDED] = True
    return staff


def sign_in_form(settings: Settings) -> None:
    """E-mail, password and (for those who set it up) a TOTP code; signs in and reruns."""
    if st.session_state.pop(_ENDED, False):
        st.info(
            "Your session ended (signed out, idle too long, or the login was disabled). "
            "Sign in again."
        )
    with st.form("sign_in"):
        email = st.text_input("E-mail", autocomplete="username")
        password = st.text_input("Password", type="password", autocomplete="current-password")
        code = st.text_input(
            "One-time code",
            max_chars=6,
            help="The 6 digits of your authenticator app, if you set one up.",
        )
        submitted = st.form_submit_button("Sign in", type="primary")
    if not submitted:
        return
    try:
        with session(settings.db_url) as s:
            token = sign_in(s, email.strip(), password, code.strip() or None)
    except LoginRefused as err:
        st.error(str(err))
        return
    st.session_state[TOKEN] = token
    st.rerun()


def sign_out_button(settings: Settings) -> None:
    """The sidebar's sign-out button (apps/streamlit/auth/sign_out.py)."""
    sign_out_button_of(settings, TOKEN, sign_out)
