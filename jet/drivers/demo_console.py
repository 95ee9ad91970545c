"""The demo's staff console: a self-signed certificate for https://localhost:8501 and three
logins, one per role, with fixed passwords that the demo prints (docs/console.md)."""

from __future__ import annotations

from dataclasses import dataclass

from jet.audit import Actor
from jet.config import Settings
from jet.drivers.self_signed import console_dir, write_self_signed
from jet.staff import add_staff, list_staff, set_staff_password
from jet.store.db import session

ME = Actor("demo", "demo")
URL = "https://localhost:8501"


@dataclass(frozen=True, slots=True)
class DemoLogin:
    email: str
    name: str
    role: str
    realms: list[str] | None  # None: every realm
    password: str


LOGINS = (
    DemoLogin("admin@jet.example", "Ada Admin", "admin", None, "admin-demo-password"),
    DemoLogin("sales@acme.example", "Sam Sales", "sales", ["acme"], "sales-demo-password"),
    DemoLogin(
        "helpdesk@acme.example", "Hal Helpdesk", "helpdesk", ["acme"], "helpdesk-demo-password"
    ),
)


def prepare_console(settings: Settings) -> tuple[DemoLogin, ...]:
    """Write the certificate under $JET_HOME/console and add the demo logins; a demo run
    again over the same store sets their passwords back to the printed ones."""
    write_self_signed(console_dir(settings.root))
    with session(settings.db_url) as s:
        known = {row["email"] for row in list_staff(s)}
        for login in LOGINS:
            if login.email in known:
                set_staff_password(s, ME, login.email, login.password)
            else:
                add_staff(
                    s,
                    ME,
                    login.email,
                    login.role,
                    realms=login.realms,
                    password=login.password,
                    name=login.name,
                )
    return LOGINS
