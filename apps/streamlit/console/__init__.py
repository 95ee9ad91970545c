"""The staff console: a multipage Streamlit app (`jet console serve`, docs/console.md)."""
