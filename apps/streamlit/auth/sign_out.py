"""The sidebar's sign-out button of both apps: it ends the session in the store, not only
in this tab."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st
from sqlalchemy.orm import Session

from jet.config import Settings
from jet.store.db import session


def sign_out_button(
    settings: Settings, token_key: str, end: Callable[[Session, str], None]
) -> None:
    """Sign out: forget the token kept under `token_key` and `end` its session."""
    if st.sidebar.button("Sign out", icon=":material/logout:"):
        token = st.session_state.pop(token_key, None)
        if token:
            with session(settings.db_url) as s:
                end(s, token)
        st.rerun()
