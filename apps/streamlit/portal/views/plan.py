"""Plan: the realm's public plans, the pro-rata effect of a change shown before it is
confirmed (the rating of `jet invoice preview`), and the change (CoA to the session)."""

from decimal import Decimal

import streamlit as st

from apps.streamlit.data import portal, portal_actions
from apps.streamlit.portal.context import page
from apps.streamlit.refusals import shown_refusals

PREVIEW = "jet_portal_plan_preview"  # (account, plan) of the preview shown


_EVERY = {"monthly": "a month", "quarterly": "a quarter", "yearly": "a year"}


def _priced(product: dict, currency: str) -> str:
    """ "Home access: AUD 69.00 a month", "Data: first 500 GB included, then from AUD 0.5
    per GB" (tiered), "Setup: AUD 99.00 once"."""
    unit = product["unit"]
    if product["price"] is not None:
        every = f"per {unit}" if unit else _EVERY.get(product["period"], "once")
        return f"{product['name']}: {currency} {product['price']} {every}"
    tiers = product["tiers"]
    if not tiers:
        return f"{product['name']}: included"
    free = tiers[0]["upto"] if tiers[0]["price"] == "0" and len(tiers) > 1 else None
    paid = min(
        (t["price"] for t in tiers if t["price"] != "0"),
        key=lambda p: Decimal(p.replace(",", "")),
        default="0",
    )
    head = f"first {free:g} {unit} included, then " if free is not None else ""
    return f"{product['name']}: {head}from {currency} {paid} per {unit}"


settings, customer, account = page("Plan")
with shown_refusals():
    offered = portal.plans(settings, customer)
    current = portal.details(settings, customer, account)["plan"]

st.caption(f"Account {account} · plan now: {current or 'none'}")
for plan in offered:
    with st.container(border=True):
        st.markdown(f"**{plan['plan']}**" + (" (yours)" if plan["plan"] == current else ""))
        for product in plan["products"]:
            st.caption(_priced(product, plan["currency"]))
others = [p["plan"] for p in offered if p["plan"] != current]
if not others:
    st.stop()
choice = st.selectbox("Change to", others)
if st.button("Show what it changes"):
    with shown_refusals(stop=False), st.spinner("Rating the change"):
        st.session_state[PREVIEW] = (
            account,
            choice,
            portal_actions.plan_change_preview(settings, customer, account, choice),
        )
shown = st.session_state.get(PREVIEW)
if shown and shown[:2] == (account, choice):
    preview = shown[2]
    if preview is None:
        st.info("No invoice would come of the change.")
    else:
        st.markdown(f"From today, before tax: **{preview['currency']} {preview['effect_total']}**")
        st.dataframe(preview["effect"], hide_index=True)
    if st.button(f"Change to {choice}", type="primary"):
        with shown_refusals(stop=False):
            portal_actions.change_plan(settings, customer, account, choice)
            st.session_state.pop(PREVIEW, None)
            st.success(f"Your plan is {choice} from today.")
