"""Customer sign-in for the portal: the form, and the session token in `st.session_state`.

As for staff (staff_login), the token is all a browser tab holds; who it belongs to is
asked of the store (`jet.portal_logins.customer_of`) on every rerun, so a session that
expired, was signed out, or whose account was closed ends at the next click. A session
counts only in the portal of its own realm: a customer of one realm signed in at another
realm's address is refused with the same vague message as a wrong password."""

from __future__ import annotations

import streamlit as st

from apps.streamlit.auth.sign_out import sign_out_button as sign_out_button_of
from jet.config import Settings
from jet.customer_access import Customer
from jet.portal_logins import PortalLoginRefused, customer_of, portal_sign_in, portal_sign_out
from jet.store.db import session

TOKEN = "jet_portal_token"
_ENDED = "jet_portal_session_ended"


def signed_in(settings: Settings, realm_id: str) -> Customer | None:
    """The customer this tab is signed in as in `realm_id`'s portal, None when no one (or
    no longer, or a customer of another realm)."""
    token = st.session_state.get(TOKEN)
    if not token:
        return None
    with session(settings.db_url) as s:
        customer = customer_of(s, token)
    if customer is None:
        del st.session_state[TOKEN]
        st.session_state[_ENDED] = True
    elif customer.realm_id != realm_id:
        return None
    return customer


def sign_in_form(settings: Settings, realm_id: str) -> None:
    """Login and portal password; signs in and reruns, or shows the one refusal."""
    if st.session_state.pop(_ENDED, False):
        st.info("Your session ended (signed out, or idle too long). Sign in again.")
    with st.form("sign_in"):
        login = st.text_input("Login", autocomplete="username", help="Your account's login.")
        password = st.text_input(
            "Portal password",
            type="password",
            autocomplete="current-password",
            help="Not the password your router uses to connect.",
        )
        submitted = st.form_submit_button("Sign in", type="primary")
    if not submitted:
        return
    try:
        with session(settings.db_url) as s:
            token = portal_sign_in(s, login, password, realm_id=realm_id)
    except PortalLoginRefused as err:
        st.error(str(err))
        return
    st.session_state[TOKEN] = token
    st.rerun()


def sign_out_button(settings: Settings) -> None:
    """The sidebar's sign-out button (apps/streamlit/auth/sign_out.py)."""
    sign_out_button_of(settings, TOKEN, portal_sign_out)
