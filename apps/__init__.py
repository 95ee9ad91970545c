"""Jet's web apps: the staff console and (later) the customer portal, on Streamlit."""
