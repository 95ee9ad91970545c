"""The staff console's entry point (`jet console serve` runs it with `streamlit run`).

Signed out, the only page is Sign in. Signed in, the menu holds the pages of the staff
member's role (navigation.pages_for), in their realm's brand when they have one realm."""

from __future__ import annotations

import streamlit as st

from apps.streamlit import branding
from apps.streamlit.auth.staff_login import sign_out_button, signed_in
from apps.streamlit.console.navigation import HERE, SIGN_IN, ConsolePage, pages_for
from jet.config import Settings

st.set_page_config(page_title="Jet console", page_icon=":material/router:", layout="wide")


def _page(p: ConsolePage, default: bool = False) -> st.Page:
    return st.Page(HERE / p.path, title=p.title, icon=p.icon, default=default)


settings = Settings()
staff = signed_in(settings)
if staff is None:
    pages = [_page(SIGN_IN, default=True)]
else:
    # Staff of one realm work in its colours; staff of several in Jet's own.
    one = staff.realms is not None and len(staff.realms) == 1
    branding.apply(branding.realm_brand(settings, min(staff.realms)) if one else branding.JET)
    realms = "all realms" if staff.realms is None else ", ".join(sorted(staff.realms))
    st.sidebar.caption(f"{staff.name or staff.email} · {staff.role} · {realms}")
    sign_out_button(settings)
    pages = [_page(p, default=n == 0) for n, p in enumerate(pages_for(settings, staff))]
st.navigation(pages).run()
