"""Accounts: search by login, name, e-mail, IP address or MAC, then the account page.

The open account is the `account` query parameter, so a page can be bookmarked or sent;
an id of a realm the staff member is not given reads as "not found" (the data layer
refuses it, and the attempt is audited)."""

import streamlit as st

from apps.streamlit import data
from apps.streamlit.console import account_forms
from apps.streamlit.console.charts import chart
from apps.streamlit.console.context import page, shown_refusals
from jet.roles import allowed

settings, staff = page("account.read")
st.title("Accounts")
account_forms.said()

text = st.text_input(
    "Find an account", placeholder="login, name, e-mail, IP address or MAC", key="account_search"
)
if text.strip():
    with shown_refusals():
        found = data.search_accounts(settings, staff, text.strip())
    if found.is_empty():
        st.info(f"No account matches {text.strip()!r}.")
    else:
        picked = st.dataframe(
            found, hide_index=True, on_select="rerun", selection_mode="single-row", key="found"
        )
        rows = picked.selection.rows
        if rows:
            st.query_params["account"] = found["account_id"][rows[0]]

if any(allowed(staff, "account.create", r) for r in (staff.realms or [None])):
    with st.expander("New account", icon=":material/person_add:"):
        account_forms.create_account(settings, staff)

account_id = st.query_params.get("account")
if not account_id:
    st.stop()

with shown_refusals():
    acct = data.account_page(settings, staff, account_id)
profile = acct["profile"]
realm = profile.get("realm_id")
st.header(f"{profile.get('name') or account_id} · {account_id}")
st.caption(f"realm {realm} · {profile.get('status', '')}")

tabs = st.tabs(["Profile", "Subscriptions", "Usage", "Sessions", "Invoices", "Payments", "Audit"])
with tabs[0]:
    st.json({k: str(v) for k, v in profile.items()}, expanded=True)
    if acct.get("hierarchy") is not None:
        st.subheader("Hierarchy")
        st.dataframe(acct["hierarchy"], hide_index=True)
    account_forms.profile_actions(settings, staff, account_id, realm)
with tabs[1]:
    st.dataframe(acct["subscriptions"], hide_index=True)
    account_forms.subscription_actions(settings, staff, account_id, realm)
with tabs[2]:
    chart("Daily usage", acct["usage"], kind="bar")
with tabs[3]:
    sessions = acct["sessions"]
    st.dataframe(sessions, hide_index=True)
    account_forms.disconnect(settings, staff, account_id, realm, open_sessions=len(sessions))
with tabs[4]:
    account_forms.invoices(acct["invoices"])
with tabs[5]:
    st.metric("Balance", str(acct["balance"]))
    st.dataframe(acct["payments"], hide_index=True)
with tabs[6]:
    st.dataframe(acct["audit"], hide_index=True)
