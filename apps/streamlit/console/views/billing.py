"""Billing: run a cycle for chosen bill dates (the Dagster job), held invoices with their
reasons, and waiving a hold with a reason."""

from datetime import date

import streamlit as st

from apps.streamlit import data
from apps.streamlit.console.context import page, shown_refusals
from apps.streamlit.data import actions

settings, staff = page("billing.run")
st.title("Billing")

with st.form("run_billing"):
    left, right = st.columns(2)
    first = left.date_input("First bill date", value=date.today())
    last = right.date_input("Last bill date", value=date.today())
    run = st.form_submit_button("Run billing", type="primary")
if run:
    with shown_refusals(stop=False):
        with st.status(f"Billing {first} to {last}…", expanded=True) as progress:
            result = actions.run_billing(
                settings, staff, first, last, on_step=lambda step: progress.write(f"{step} done")
            )
            progress.update(label=f"Billing {first} to {last}: done", expanded=False)
        st.success(f"Billing run done: {result}", icon=":material/check_circle:")

st.subheader("Held invoices")
with shown_refusals():
    held = data.held_invoices(settings, staff)
st.dataframe(held, hide_index=True)
if not held.is_empty():
    with st.form("waive"):
        check = st.selectbox("Check", held["check"].unique(maintain_order=True).to_list())
        reason = st.text_input("Reason")
        waive = st.form_submit_button("Waive the hold")
    if waive:
        with shown_refusals(stop=False):
            dates = actions.waive(settings, staff, check, reason.strip())
            st.success(
                f"Waived {check}: its invoices go out at the next run of "
                + (", ".join(map(str, dates)) or "their bill dates"),
                icon=":material/check_circle:",
            )
