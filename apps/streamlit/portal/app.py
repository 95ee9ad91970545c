"""The customer portal's entry point (`jet portal serve`)."""

import streamlit as st

st.title("Jet portal")
