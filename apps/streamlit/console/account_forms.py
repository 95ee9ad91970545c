"""The account page's actions, each offered to the roles that may take it in the account's
realm; each calls apps.streamlit.data.actions, which checks the role again (the guard)
and takes the action through the same core function as the `jet` command."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import streamlit as st

from apps.streamlit.data import actions
from apps.streamlit.refusals import shown_refusals
from jet.config import Settings
from jet.roles import Staff, allowed

_DONE = "jet_console_done"


def _done(message: str) -> None:
    """Read the page again, so that its tables show the change, and say there what was done."""
    st.session_state[_DONE] = message
    st.rerun()


def said() -> None:
    """What the last action did (`_done`), once, at the top of the page."""
    if message := st.session_state.pop(_DONE, None):
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
            # No rerun: the account page below reads the new account in this same run,
            # and the browser's own rerun for the changed URL would lose a kept message.
            st.query_params["account"] = str(account)
            st.success(f"Account {account} created.", icon=":material/check_circle:")


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
    _change_plan(settings, staff, account_id)


_PREVIEW = "jet_plan_change_preview"


def _change_plan(settings: Settings, staff: Staff, account_id: str) -> None:
    """Preview first, then change: the preview rates a copy of the store (seconds), so it
    runs when asked and is kept for that account, plan and day until the change is made."""
    with st.form("plan_change"):
        st.markdown("**Change plan**")
        plan = st.text_input("New plan", key="change_plan").strip()
        on = st.date_input("On", value=date.today(), key="change_on")
        asked = st.form_submit_button("Preview the change")
    request = (account_id, plan, on)
    if asked and plan:
        with shown_refusals(stop=False), st.spinner("Rating the next invoice with the new plan…"):
            draft = actions.plan_change_preview(settings, staff, account_id, plan, on)
            st.session_state[_PREVIEW] = (request, draft)
    kept = st.session_state.get(_PREVIEW)
    if kept is None or kept[0] != request:
        return
    _show_draft(kept[1])
    if st.button("Change plan", type="primary"):
        with shown_refusals(stop=False):
            actions.change_plan(settings, staff, account_id, plan, on)
            del st.session_state[_PREVIEW]
            _done(f"Plan changed to {plan} on {on}.")


def _show_draft(draft: dict | None) -> None:
    """The pro-rata preview: the next invoice's total and lines (`jet invoice preview`)."""
    st.caption("Pro-rata preview: the next invoice with the new plan")
    if draft is None:
        st.write("No invoice would be issued.")
        return
    st.metric(f"Invoice of {draft['bill_date']}", f"{draft['total']} {draft['currency']}")
    st.dataframe(pl.DataFrame(draft["lines"]), hide_index=True)


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
