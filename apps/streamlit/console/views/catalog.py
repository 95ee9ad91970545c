"""Catalog: the versions of each realm's catalog, and a new version uploaded as YAML,
checked with the same messages as `jet catalog load`."""

import streamlit as st

from apps.streamlit import data
from apps.streamlit.console.context import page
from apps.streamlit.data import actions
from apps.streamlit.refusals import shown_refusals
from jet.roles import ALLOWED

settings, staff = page("catalog.read")
st.title("Catalog")
with shown_refusals():
    versions = data.catalog_versions(settings, staff)
st.dataframe(versions, hide_index=True)

if "catalog.load" in ALLOWED.get(staff.role, ()):
    st.subheader("Load a new version")
    upload = st.file_uploader("Catalog (YAML)", type=["yaml", "yml"])
    if upload is not None and st.button("Load", type="primary", key="load_catalog"):
        with shown_refusals(stop=False):
            result = actions.load_catalog(settings, staff, upload.getvalue().decode(), upload.name)
            st.success(f"Loaded: {result}", icon=":material/check_circle:")
