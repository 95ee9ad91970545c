"""A realm's look in Jet's web apps: its name, logo, colours and footer, read as its
invoices read them (the catalog's `branding` under the realm brand file,
reports.invoice_contents.brand_of). The staff console wears it for staff of one realm,
the customer portal always for the realm it serves; otherwise Jet's own."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import streamlit as st

from jet.config import Settings
from jet.realms import catalog_on
from jet.store.db import session
from reports.invoice_contents import brand_of


@dataclass(frozen=True, slots=True)
class Brand:
    name: str
    logo: bytes | None  # PNG or JPEG
    primary: str | None  # #RRGGBB
    accent: str | None
    footer: str = ""  # the branding's footer line, when it is plain text (no template)


JET = Brand("Jet", None, None, None)


@st.cache_data(ttl=300, show_spinner=False)
def _realm_brand(db_url: str, home: str, realm_id: str) -> Brand:
    with session(db_url) as s:
        catalog = catalog_on(s, realm_id, date.today())
    if catalog is None:
        return Brand(realm_id, None, None, None)
    brand = brand_of(catalog, Path(home))
    logo = None
    if brand.logo and brand.logo.startswith("data:"):
        logo = base64.b64decode(brand.logo.split(",", 1)[1])
    footer = "" if "{" in brand.footer else brand.footer
    return Brand(
        catalog.realm.name or realm_id, logo, brand.primary_colour, brand.accent_colour, footer
    )


def realm_brand(settings: Settings, realm_id: str) -> Brand:
    """The brand of `realm_id` today (cached five minutes); its id alone without a catalog."""
    return _realm_brand(settings.db_url, str(settings.root), realm_id)


def apply(brand: Brand) -> None:
    """The logo in the corner, the realm's name in the sidebar, its colours on the
    headings, primary buttons and the sidebar's edge."""
    if brand.logo:
        st.logo(brand.logo, size="large")
    st.sidebar.markdown(f"**{brand.name}**")
    css = []
    if brand.primary:
        css.append(
            f"h1, h2, h3 {{ color: {brand.primary}; }}"
            f' button[kind="primary"], button[kind="primaryFormSubmit"] '
            f"{{ background-color: {brand.primary}; border-color: {brand.primary}; }}"
        )
    if brand.accent:
        css.append(
            f'section[data-testid="stSidebar"] {{ border-right: 4px solid {brand.accent}; }}'
        )
    if css:
        st.html(f"<style>{' '.join(css)}</style>")
