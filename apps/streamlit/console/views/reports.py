"""Reports: the exports written so far (`jet invoice export`, `jet invoice journal`), to
download. They span every realm, so only staff of every realm may read them."""

import streamlit as st

from apps.streamlit.console.context import page
from apps.streamlit.console.navigation import exports
from apps.streamlit.refusals import shown_refusals
from jet.roles import check
from jet.store.db import session

settings, staff = page("reports.read")
st.title("Reports")
with shown_refusals(), session(settings.db_url) as s:
    check(s, staff, "reports.read", None, about="exports of every realm")
files = exports(settings)
if not files:
    st.info("No exports yet: `jet invoice export` and `jet invoice journal` write them.")
for path in files:
    st.download_button(
        f"{path.name} ({path.stat().st_size:,} bytes)",
        data=path.read_bytes,
        file_name=path.name,
        on_click="ignore",
        key=f"export_{path.name}",
    )
