"""Overview: revenue and MRR by month and plan, active accounts, ARPU, receivables by age,
collections, held invoices, the quality gate and each collector's last packet."""

import streamlit as st

from apps.streamlit import data
from apps.streamlit.console.charts import chart, metrics
from apps.streamlit.console.context import page
from apps.streamlit.refusals import shown_refusals

settings, staff = page("overview.read")
st.title("Overview")
with shown_refusals():
    frames = data.overview(settings, staff)

left, middle, right = st.columns(3)
with left:
    metrics(frames.get("active_accounts"), "Active accounts")
with middle:
    metrics(frames.get("mrr"), "MRR")
with right:
    metrics(frames.get("arpu"), "ARPU")

left, right = st.columns(2)
with left:
    chart("Revenue by month and plan", frames.get("revenue_by_month_plan"))
    chart("Receivables by age", frames.get("receivables_by_age"))
    chart("Held invoices", frames.get("held_invoices"))
with right:
    chart("MRR by month", frames.get("mrr"), kind="line")
    chart("Collections", frames.get("collections"), kind="line")
    chart("Active accounts by month", frames.get("active_accounts"), kind="line")

for key, title in (
    ("quality", "Quality gate"),
    ("collectors", "Collectors: last packet per NAS and exporter"),
):
    if key in frames:  # the data layer gives them to admins
        st.subheader(title)
        st.dataframe(frames[key], hide_index=True)
