"""What every portal page begins with: the realm it serves, the settings, and the
signed-in customer with the account it looks at.

The realm comes from the host name the browser asked for (each realm's catalog lists its
portal's `hosts`), else, for an install on one host, from `?realm=ID` (kept for the rest
of the browser session). Which account a page reads is the customer's choice in the
sidebar or `?account=ID`; whatever it is, the data layer (`own`) refuses and audits any
account outside the customer's own."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

import streamlit as st

from apps.streamlit.auth.customer_login import sign_in_form, signed_in
from jet.config import Settings
from jet.customer_access import Customer
from jet.portal_realms import portal_of, realm_for_host
from jet.realms import catalog_versions
from jet.store.db import session

REALM = "jet_portal_realm"
ACCOUNT = "jet_portal_account"
NO_REALM = "This address serves no realm's portal: open the portal address your provider gave."


def served_realm(settings: Settings) -> str | None:
    """The realm this request is for: by host name, else by `?realm=` (or the one a
    `?realm=` chose earlier in this session); None when neither names a realm with a
    portal."""
    with session(settings.db_url) as s:
        realm = realm_for_host(s, _host())
        if realm is None:
            for asked in (st.query_params.get("realm"), st.session_state.get(REALM)):
                if asked and portal_of(s, asked) is not None:
                    realm = asked
                    break
    if realm is not None:
        st.session_state[REALM] = realm
    return realm


def portal_realms(settings: Settings) -> list[str]:
    """The realms whose catalog in force has a portal, for the page that lists them."""
    with session(settings.db_url) as s:
        realms = sorted({v["realm"] for v in catalog_versions(s)})
        return [r for r in realms if portal_of(s, r) is not None]


def base_url(settings: Settings, realm_id: str) -> str:
    """The portal's address as the browser asked for it, for links in e-mails: its path
    without the query, plus `?realm=` when the host name does not choose the realm."""
    url = urlsplit(st.context.url or "http://localhost:8502/")
    base = f"{url.scheme}://{url.netloc}/"
    with session(settings.db_url) as s:
        by_host = realm_for_host(s, _host()) == realm_id
    return base if by_host else f"{base}?{urlencode({'realm': realm_id})}"


def client_address() -> str:
    """The browser's address, for sign-up's rate limit: the proxy's when behind one, and
    "local" for a browser on this machine (Streamlit gives none for loopback)."""
    address = st.context.ip_address
    return address if isinstance(address, str) and address else "local"


def realm_page(title: str) -> tuple[Settings, str]:
    """The settings and the realm served, for a page anyone may open (sign-in, sign-up,
    an e-mailed link), with its title shown; with no realm served, a note, and the page
    stops there."""
    settings = Settings()
    realm = served_realm(settings)
    st.title(title)
    if realm is None:
        st.error(NO_REALM)
        st.stop()
    return settings, realm


def page(title: str) -> tuple[Settings, Customer, str]:
    """The settings, the signed-in customer of the realm served and the account the page
    is about, with the page's title shown; the sign-in form when no one is signed in, and
    the page stops there."""
    settings = Settings()
    realm = served_realm(settings)
    customer = signed_in(settings, realm) if realm else None
    if customer is None:
        st.title("Sign in")
        if realm:
            sign_in_form(settings, realm)
        else:
            st.error(NO_REALM)
        st.stop()
    st.title(title)
    return settings, customer, chosen_account(customer)


def chosen_account(customer: Customer) -> str:
    """`?account=ID`, else the account chosen in the sidebar, else the customer's own."""
    return st.query_params.get("account") or st.session_state.get(ACCOUNT) or customer.account_id


def _host() -> str:
    """The host name asked for: the Host header, else the page's URL."""
    host = st.context.headers.get("Host")
    return host if isinstance(host, str) and host else urlsplit(st.context.url or "").netloc
