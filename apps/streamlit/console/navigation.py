"""Which pages the console offers a staff member: those their role may use.

This only spares people links that would refuse them; what they may read and do is
decided by `roles.check` in the data layer, whichever way a page is reached."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from jet.config import Settings
from jet.roles import ALLOWED, Staff

HERE = Path(__file__).parent
# The page files are in views/, not pages/: Streamlit takes a pages/ folder beside the
# entry point for its older multipage mode, in which each file there is a page of its own
# for anyone (and AppTest runs them without the entry point).


@dataclass(frozen=True, slots=True)
class ConsolePage:
    path: str  # relative to this folder
    title: str
    icon: str
    action: str  # the roles action the page is for


PAGES = (
    ConsolePage("views/overview.py", "Overview", ":material/dashboard:", "overview.read"),
    ConsolePage("views/accounts.py", "Accounts", ":material/group:", "account.read"),
    ConsolePage("views/catalog.py", "Catalog", ":material/menu_book:", "catalog.read"),
    ConsolePage("views/billing.py", "Billing", ":material/receipt_long:", "billing.run"),
    ConsolePage("views/collectors.py", "Collectors", ":material/sensors:", "collectors.read"),
    ConsolePage("views/quality.py", "Quality", ":material/verified:", "quality.read"),
    ConsolePage("views/reports.py", "Reports", ":material/download:", "reports.read"),
)
SIGN_IN = ConsolePage("views/sign_in.py", "Sign in", ":material/login:", "")


def exports(settings: Settings) -> list[Path]:
    """The report exports under $JET_HOME/exports (`jet invoice export`, `jet invoice
    journal`), newest first. They span every realm."""
    folder = settings.root / "exports"
    if not folder.is_dir():
        return []
    files = [p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")]
    return sorted(files, key=lambda p: p.stat().st_mtime, reverse=True)


def pages_for(settings: Settings, staff: Staff) -> list[ConsolePage]:
    """The pages of `staff`'s role, in menu order."""
    return [p for p in PAGES if p.action in ALLOWED.get(staff.role, ())]
