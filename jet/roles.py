"""What each staff role may do, in one table, and the check every read and change makes.

The console (and anything else staff use) asks `check` before it reads or changes data
of a realm; hiding a button is never the guard. A refusal raises `Forbidden` and is
written to the audit log with the staff member's name, in a transaction of its own, so
that it stays recorded whatever the caller does next."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from jet.audit import Actor, record
from jet.errors import JetError

ROLES = ("admin", "sales", "helpdesk")

_READ = frozenset(
    {
        "overview.read",  # revenue, MRR, receivables, the quality gate, collectors
        "account.read",  # search, profile, hierarchy, subscriptions, audit trail
        "usage.read",  # daily usage, open RADIUS sessions
        "invoice.read",  # invoices, their PDFs, payments and balances
    }
)
# role -> the actions it may take in the realms it is given.
ALLOWED: dict[str, frozenset[str]] = {
    "admin": _READ
    | {
        "account.create",
        "account.update",
        "account.suspend",
        "account.password",
        "session.disconnect",
        "subscription.change",  # subscribe, change plan (with its pro-rata preview), end
        "catalog.read",
        "catalog.load",
        "billing.run",
        "billing.waive",
        "quality.read",
        "collectors.read",
        "reports.read",
        "staff.manage",
    },
    "sales": _READ | {"account.create", "subscription.change", "catalog.read", "reports.read"},
    "helpdesk": _READ
    | {"account.update", "account.suspend", "account.password", "session.disconnect"},
}
ACTIONS = frozenset().union(*ALLOWED.values())


class Forbidden(JetError):
    """A staff member asked for something their role or realms do not allow."""


@dataclass(frozen=True, slots=True)
class Staff:
    """A signed-in staff member: `realms` None means every realm, present and future."""

    email: str
    name: str
    role: str
    realms: frozenset[str] | None

    @property
    def actor(self) -> Actor:
        return Actor(self.email, "console")

    def sees(self, realm_id: str) -> bool:
        return self.realms is None or realm_id in self.realms


def allowed(staff: Staff, action: str, realm_id: str | None = None) -> bool:
    """Whether `staff` may take `action` in `realm_id` (None: an action of no one realm,
    such as managing staff, which needs every realm)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}; one of {', '.join(sorted(ACTIONS))}")
    if action not in ALLOWED.get(staff.role, ()):
        return False
    return staff.realms is None if realm_id is None else staff.sees(realm_id)


def check(s: Session, staff: Staff, action: str, realm_id: str | None, about: str = "") -> None:
    """Raise `Forbidden` unless `allowed`; a refusal is audited (action `access.refused`,
    what was asked and of what) and committed at once, in `s`'s own transaction."""
    if allowed(staff, action, realm_id):
        return
    record(
        s,
        staff.actor,
        "access.refused",
        "staff",
        staff.email,
        after={"action": action, "realm": realm_id, "about": about, "role": staff.role},
    )
    s.commit()
    where = f" in realm {realm_id}" if realm_id else " across every realm"
    raise Forbidden(
        f"{staff.email} ({staff.role}) may not {action}{where}"
        + (f" ({about})" if about else "")
        + "; ask an admin of that realm"
    )
