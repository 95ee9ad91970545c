"""The customer portal's entry point (`jet portal serve` runs it with `streamlit run`).

The realm served is chosen by host name, or `?realm=ID` on a one-host install; with
neither, the only page lists the realms that have a portal. Signed out, the pages are
Sign in and (where the realm allows) Sign up; signed in, the customer's pages, in the
realm's brand either way."""

from __future__ import annotations

import streamlit as st

from apps.streamlit import branding
from apps.streamlit.auth.customer_login import sign_out_button, signed_in
from apps.streamlit.portal.context import ACCOUNT, served_realm
from apps.streamlit.portal.navigation import HERE, LINKS, REALMS, PortalPage, pages_for
from jet.config import Settings
from jet.portal_realms import portal_of
from jet.store.db import session

st.set_page_config(page_title="Customer portal", page_icon=":material/wifi:", layout="wide")


def _page(p: PortalPage, default: bool = False) -> st.Page:
    return st.Page(HERE / p.path, title=p.title, icon=p.icon, default=default)


settings = Settings()
realm = served_realm(settings)
if realm is None:
    st.navigation([_page(REALMS, default=True)]).run()
    st.stop()
brand = branding.realm_brand(settings, realm)
branding.apply(brand)
customer = signed_in(settings, realm)
if customer is not None:
    st.sidebar.caption(f"Signed in as {customer.account_id}")
    if len(customer.accounts) > 1:  # a company: itself, its cost-centres and users
        mine = sorted(customer.accounts - {customer.account_id})
        st.sidebar.selectbox("Account", [customer.account_id, *mine], key=ACCOUNT)
    sign_out_button(settings)
with session(settings.db_url) as s:
    portal = portal_of(s, realm)
link = next((key for key in LINKS if key in st.query_params), None)
pages = pages_for(customer is not None, bool(portal and portal.signup), link)
navigation = st.navigation([_page(p, default=n == 0) for n, p in enumerate(pages)])
if brand.footer:
    st.sidebar.caption(brand.footer)
navigation.run()
