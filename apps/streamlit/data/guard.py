"""The role checks of reads and actions (`jet.roles.check`), and the realm of an account."""

from __future__ import annotations

from sqlalchemy.orm import Session

from jet.accounts import get_account
from jet.config import Settings
from jet.errors import JetError
from jet.roles import Forbidden, Staff, check
from jet.store.db import session


def may(settings: Settings, staff: Staff, action: str, realm_id: str | None = None) -> None:
    """Raise `jet.roles.Forbidden` (audited) unless `staff` may take `action` in
    `realm_id`. Without a realm (a list of what is in their realms), the role must allow
    `action`: it is checked against one of their realms, and the query itself keeps to
    them."""
    if realm_id is None and staff.realms:
        realm_id = min(staff.realms)
    with session(settings.db_url) as s:
        check(s, staff, action, realm_id)


class AccountNotFound(JetError):
    """No account of that id in the staff member's realms."""


def account_realm(s: Session, staff: Staff, action: str, account_id: str) -> str:
    """The realm of `account_id` once `staff` may take `action` on it. An account that is
    not there and one of a realm they are not given read alike, "not found" (the second
    is audited as a refusal), so that ids of other realms cannot be probed."""
    not_found = AccountNotFound(f"no account {account_id!r} in your realms")
    try:
        realm = get_account(s, account_id).realm_id
    except JetError:
        raise not_found from None
    try:
        check(s, staff, action, realm, about=account_id)
    except Forbidden:
        if staff.sees(realm):
            raise  # their realm, not their role: say so
        raise not_found from None
    return realm
