"""Invoices and statements: the list, each PDF and Factur-X e-invoice to download, and
what is due."""

import streamlit as st

from apps.streamlit.console.context import shown_refusals
from apps.streamlit.data import portal
from apps.streamlit.portal.context import page

settings, customer, account = page("Invoices")
with shown_refusals():
    issued = portal.invoices(settings, customer, account)
    owed = portal.dues(settings, customer, account)

if owed["billed_elsewhere"]:
    st.info("This account's charges are billed to the company it belongs to.")
else:
    st.metric("Balance due", f"{owed['currency']} {owed['balance']}")
if issued.is_empty():
    st.caption("No invoices yet.")
    st.stop()
st.dataframe(issued.drop("pdf_path"), hide_index=True)
number = st.selectbox("Invoice", issued["number"].to_list())
left, right = st.columns(2)
with shown_refusals(stop=False):
    pdf = portal.invoice_file(settings, customer, number)
    left.download_button("PDF", pdf.read_bytes(), pdf.name, "application/pdf")
with shown_refusals(stop=False):
    xml = portal.invoice_file(settings, customer, number, kind="facturx")
    right.download_button("Factur-X XML", xml.read_bytes(), xml.name, "application/xml")
