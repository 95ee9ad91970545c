"""Which pages the portal offers: signed out, sign-in and (where the realm allows it)
sign-up; signed in, the customer's pages. A link from an e-mail (`?verify=` to open a
signed-up account, `?reset=` to set a new password) opens its own page first.

This only spares customers links that lead nowhere: each page asks for the signed-in
customer itself (context.page), and the data layer checks each account it reads."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).parent
# The page files are in views/, not pages/ (see apps/streamlit/console/navigation.py).


@dataclass(frozen=True, slots=True)
class PortalPage:
    path: str  # relative to this folder
    title: str
    icon: str


PAGES = (
    PortalPage("views/usage.py", "Usage", ":material/data_usage:"),
    PortalPage("views/invoices.py", "Invoices", ":material/receipt_long:"),
    PortalPage("views/pay.py", "Pay", ":material/credit_card:"),
    PortalPage("views/details.py", "Details", ":material/contact_mail:"),
    PortalPage("views/plan.py", "Plan", ":material/swap_horiz:"),
    PortalPage("views/contact.py", "Contact", ":material/support_agent:"),
)
SIGN_IN = PortalPage("views/sign_in.py", "Sign in", ":material/login:")
SIGN_UP = PortalPage("views/sign_up.py", "Sign up", ":material/person_add:")
VERIFY = PortalPage("views/verify.py", "Open your account", ":material/mark_email_read:")
RESET = PortalPage("views/reset.py", "New password", ":material/key:")
REALMS = PortalPage("views/realms.py", "Portals", ":material/travel_explore:")
LINKS = {"verify": VERIFY, "reset": RESET}  # query parameter: the page its link opens


def pages_for(signed_in: bool, signup: bool, link: str | None) -> list[PortalPage]:
    """The menu, the first page opened first: the page of an e-mailed `link` ("verify" or
    "reset") if any, then the customer's pages when `signed_in`, else sign-in and, when
    the realm has `signup` open, sign-up."""
    out = [LINKS[link]] if link in LINKS else []
    if signed_in:
        return out + list(PAGES)
    return out + [SIGN_IN] + ([SIGN_UP] if signup else [])
