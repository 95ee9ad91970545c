"""What every console page begins with: the settings and the signed-in staff member.

Each page asks for the staff member itself (not trusting that the navigation only offered
it to those allowed): the guard is `roles.check` in the data layer, and a page opened by
any route still goes through it."""

from __future__ import annotations

import streamlit as st

from apps.streamlit.auth.staff_login import sign_in_form, signed_in
from apps.streamlit.refusals import shown_refusals
from jet.config import Settings
from jet.roles import Staff, check
from jet.store.db import session


def page(action: str) -> tuple[Settings, Staff]:
    """The settings and the signed-in staff member, whose role must have `action` (the
    page's, navigation.PAGES); the sign-in form when no one is signed in, the refusal
    (audited by roles.check) when the role may not, and the page stops there."""
    settings = Settings()
    staff = signed_in(settings)
    if staff is None:
        sign_in_form(settings)
        st.stop()
    # Any realm of theirs asks whether the role may; the data layer checks each realm read.
    realm = None if staff.realms is None else min(staff.realms, default=None)
    with shown_refusals(), session(settings.db_url) as s:
        check(s, staff, action, realm, about="console page")
    return settings, staff
