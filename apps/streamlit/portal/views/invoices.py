"""Invoices and statements: the list, each PDF and Factur-X e-invoice to download, and
what is due."""

import streamlit as st

from apps.streamlit.data import portal
from apps.streamlit.portal.context import page
from apps.streamlit.refusals import shown_refusals

settings, customer, account = page("Invoices")
with shown_refusals():
    issued = portal.invoices(settings, customer, account)
    owed = portal.dues(settings, customer, account)

if owed["billed_elsewhere"]:
    st.info("This account's charges are billed to the company it belongs to.")
else:
    st.metric("Balance due", f"{owed['currency']} {owed['balance']}")
with shown_refusals():
    months = portal.statements(settings, customer, account)
if months:
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    month = left.selectbox("Statement of the month", months)
    with shown_refusals(stop=False):
        kept = portal.statement_file(settings, customer, account, month)
        right.download_button("Statement PDF", kept.read_bytes(), kept.name, "application/pdf")
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
