"""Signing people in to the Streamlit apps: the form, and the session kept per browser tab."""
