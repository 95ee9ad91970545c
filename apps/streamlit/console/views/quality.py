"""Quality: the data contracts' latest results, the findings that hold billing back."""

import streamlit as st

from apps.streamlit import data
from apps.streamlit.console.context import page
from apps.streamlit.refusals import shown_refusals

settings, staff = page("quality.read")
st.title("Quality")
with shown_refusals():
    frame = data.quality(settings, staff)
st.dataframe(frame, hide_index=True)
