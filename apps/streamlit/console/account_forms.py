"""The account page's actions, each offered to the roles that may take it in the account's
realm; each calls apps.streamlit.data.actions, which checks the role again (the guard)
and takes the action through the same core function as the `jet` command."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import streamlit as st

from apps.streamlit.console.context import shown_refusals
from apps.streamlit.data import actions
from jet.config import Settings
from jet.roles import Staff, allowed


def _done(message: str) -> None:
    st.success(message, icon=":material/check_circle:")


def create_account(settings: Settings, staff: Staff) -> None:
    realms = sorted(staff.realms) if staff.realms is not None else None
    with st.form("create_account", clear_on_submit=False):
        if realms:
            realm = st.selectbox("Realm", realms)
        else:
            realm = st.text_input("Realm", placeholder="acme")
        login = st.text_input("Login")
        name = st.text_input("Name")
        email = st.text_input("E-mail")
        submitted = st.form_submit_button("Create account", type="primary")
    if submitted:
        with shown_refusals(stop=False):
            account = actions.create_account(
                settings,
                staff,
                realm_id=realm,
                login=login.strip(),
                name=name.strip(),
                email=email.strip() or None,
            )
            _done(f"Account {account} created.")
            st.query_params["account"] = str(account)


def profile_actions(settings: Settings, staff: Staff, account_id: str, realm: str) -> None:
    if allowed(staff, "account.suspend", realm):
        left, right = st.columns(2)
        if left.button("Suspend", icon=":material/pause_circle:"):
            with shown_refusals(stop=False):
                actions.suspend(settings, staff, account_id)
                _done("Suspended: it may not log in, and its sessions are disconnected.")
        if right.button("Reactivate", icon=":material/play_circle:"):
            with shown_refusals(stop=False):
                actions.reactivate(settings, staff, account_id)
                _done("Reactivated.")
    if allowed(staff, "account.password", realm) and st.button(
        "Reset password", icon=":material/key:"
    ):
        with shown_refusals(stop=False):
            password = actions.reset_password(settings, staff, account_id)
            _done(f"New password: `{password}` (shown once; give it to the customer).")


def subscription_actions(settings: Settings, staff: Staff, account_id: str, realm: str) -> None:
    if not allowed(staff, "subscription.change", realm):
        return
    with st.form("subscribe"):
        st.markdown("**Subscribe**")
        plan = st.text_input("Plan", key="subscribe_plan")
        start = st.date_input("From", value=date.today(), key="subscribe_from")
        if st.form_submit_button("Subscribe"):
            with shown_refusals(stop=False):
                actions.subscribe(settings, staff, account_id, plan.strip(), start)
                _done(f"Subscribed to {plan} from {start}.")
    st.markdown("**Change plan**")
    new_plan = st.text_input("New plan", key="change_plan")
    on = st.date_input("On", value=date.today(), key="change_on")
    if new_plan.strip():
        with shown_refusals(stop=False):
            preview = actions.plan_change_preview(settings, staff, account_id, new_plan.strip(), on)
            st.caption("Pro-rata preview: the next invoice with the new plan")
            st.write(preview if preview is not None else "no invoice would be issued")
            if st.button("Change plan", type="primary"):
                actions.change_plan(settings, staff, account_id, new_plan.strip(), on)
                _done(f"Plan changed to {new_plan} on {on}.")


def disconnect(
    settings: Settings, staff: Staff, account_id: str, realm: str, open_sessions: int
) -> None:
    if (
        open_sessions
        and allowed(staff, "session.disconnect", realm)
        and st.button("Disconnect", icon=":material/link_off:")
    ):
        with shown_refusals(stop=False):
            outcomes = actions.disconnect(settings, staff, account_id)
            for outcome in outcomes:
                st.write(outcome.text)


def invoices(frame: pl.DataFrame) -> None:
    """The invoices, and a download button for each one's PDF (read when clicked)."""
    st.dataframe(frame.drop("pdf_path", strict=False), hide_index=True)
    if "pdf_path" not in frame.columns:
        return
    for row in frame.head(24).iter_rows(named=True):
        path = Path(row["pdf_path"]) if row["pdf_path"] else None
        if path is None or not path.is_file():
            continue
        st.download_button(
            f"{row.get('number', path.stem)} (PDF)",
            data=path.read_bytes,
            file_name=path.name,
            mime="application/pdf",
            on_click="ignore",
            key=f"pdf_{path.name}",
        )
