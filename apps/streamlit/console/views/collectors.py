"""Collectors: each NAS's and NetFlow exporter's last packet, so a silent one stands out."""

import streamlit as st

from apps.streamlit import data
from apps.streamlit.console.context import page
from apps.streamlit.refusals import shown_refusals

settings, staff = page("collectors.read")
st.title("Collectors")
with shown_refusals():
    frame = data.collectors(settings, staff)
st.dataframe(frame, hide_index=True)
