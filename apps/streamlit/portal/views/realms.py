"""The page of an address that serves no realm: the realms with a portal, each a link."""

import streamlit as st

from apps.streamlit.portal.context import portal_realms
from jet.config import Settings

st.title("Customer portals")
realms = portal_realms(Settings())
if not realms:
    st.info("No realm has a portal yet: its catalog's `portal` block opens one.")
for realm in realms:
    st.markdown(f"- [{realm}](?realm={realm})")
