"""Sign up to one of the realm's public plans; the account opens once the e-mailed link
is followed (views/verify.py)."""

import streamlit as st

from apps.streamlit.console.context import shown_refusals
from apps.streamlit.portal.context import base_url, client_address, realm_page
from jet.portal_realms import portal_of
from jet.signup import start_signup
from jet.store.db import session

HONEYPOT = "website"  # a field people never see (hidden below); bots fill it in

settings, realm = realm_page("Sign up")
with session(settings.db_url) as s:
    portal = portal_of(s, realm)
if portal is None or not portal.signup:
    st.info("Sign-up is not open here: ask the provider's support to open an account.")
    st.stop()
if portal.first_top_up is not None:
    st.caption(
        f"Accounts here are prepaid: a first top-up of {portal.first_top_up} is due "
        "before the first connection (the Pay page, once signed in)."
    )
st.html(f"<style>.st-key-{HONEYPOT} {{ display: none; }}</style>")
with st.form("sign_up"):
    plan = st.selectbox("Plan", portal.plans)
    login = st.text_input("Login", help="What you will sign in with, here and on your router.")
    name = st.text_input("Name")
    email = st.text_input("E-mail", help="We send a link there to open the account.")
    phone = st.text_input("Phone")
    address = st.text_area("Address")
    country = st.text_input("Country", max_chars=2, help="Two letters, e.g. AU.")
    delivery = st.radio("Invoices by", ["email", "paper"], horizontal=True)
    radius_password = st.text_input(
        "Connection password", type="password", help="The one your router uses to connect."
    )
    portal_password = st.text_input(
        "Portal password", type="password", help="For this portal; at least 10 characters."
    )
    honeypot = st.text_input("Website", key=HONEYPOT)
    submitted = st.form_submit_button("Sign up", type="primary")
if submitted:
    details = {"login": login.strip(), "name": name.strip(), "email": email.strip(),
               "phone": phone.strip(), "address": address.strip(),
               "country": country.strip().upper(), "delivery": delivery}  # fmt: skip
    with shown_refusals(stop=False), session(settings.db_url) as s:
        start_signup(
            s, settings, realm, plan, details, radius_password, portal_password,
            client_address(), base_url(settings, realm), honeypot=honeypot,
        )  # fmt: skip
        st.success(
            f"Nearly there: open the link we sent to {details['email']} within a day to "
            "open your account, then sign in."
        )
