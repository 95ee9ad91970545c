"""The console in a realm's colours: a staff member given one realm sees its name, logo
and colours, read as its invoices read them (the catalog's `branding` under the realm
brand file, reports.invoice_contents.brand_of); staff of several realms see Jet's own."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import streamlit as st

from jet.config import Settings
from jet.realms import catalog_on
from jet.roles import Staff
from jet.store.db import session
from reports.invoice_contents import brand_of


@dataclass(frozen=True, slots=True)
class ConsoleBrand:
    name: str
    logo: bytes | None  # PNG or JPEG
    primary: str | None  # #RRGGBB
    accent: str | None


JET = ConsoleBrand("Jet", None, None, None)


@st.cache_data(ttl=300, show_spinner=False)
def _realm_brand(db_url: str, home: str, realm_id: str) -> ConsoleBrand:
    with session(db_url) as s:
        catalog = catalog_on(s, realm_id, date.today())
    if catalog is None:
        return ConsoleBrand(realm_id, None, None, None)
    brand = brand_of(catalog, Path(home))
    logo = None
    if brand.logo and brand.logo.startswith("data:"):
        logo = base64.b64decode(brand.logo.split(",", 1)[1])
    return ConsoleBrand(
        catalog.realm.name or realm_id, logo, brand.primary_colour, brand.accent_colour
    )


def brand_for(settings: Settings, staff: Staff) -> ConsoleBrand:
    if staff.realms is None or len(staff.realms) != 1:
        return JET
    [realm_id] = staff.realms
    return _realm_brand(settings.db_url, str(settings.root), realm_id)


def apply(brand: ConsoleBrand) -> None:
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
