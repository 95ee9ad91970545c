"""What a signed-in customer of the portal may reach: its own account and, for a company,
the accounts under it (cost-centres and their users, the whole subtree by `parent_id`).

The portal's data layer calls `own` for every account id it is given, before it reads or
changes anything; an account outside the customer's tree is refused with the same message
as one that does not exist, so that trying ids tells a guesser nothing. Each refusal is
audited (`access.refused`, the customer as the actor) and committed at once, as
`jet.roles.check` does for staff, so it stays recorded whatever the caller does next."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from jet.audit import Actor, record
from jet.errors import JetError
from jet.store.models import Account

CHUNK = 500  # parent ids an IN (...) list holds when the tree is walked a level at a time


class NotYours(JetError):
    """An account the customer does not own, worded as if it did not exist."""


@dataclass(frozen=True, slots=True)
class Customer:
    """A signed-in customer: its account, realm and every account it may see (itself and
    its subtree)."""

    account_id: str
    realm_id: str
    accounts: frozenset[str]

    @property
    def actor(self) -> Actor:
        return Actor(self.account_id, "portal")

    def sees(self, account_id: str) -> bool:
        return account_id in self.accounts


def customer(s: Session, account_id: str) -> Customer:
    """The customer `account_id` signs in as, with the accounts under it now."""
    account = s.get(Account, account_id)
    if account is None:
        raise NotYours(_no_account(account_id))
    return Customer(account.id, account.realm_id, frozenset(_subtree(s, account.id)))


def own(s: Session, customer: Customer, account_id: str, about: str = "") -> None:
    """Raise `NotYours` unless `account_id` is one of `customer`'s accounts; a refusal is
    audited (what was asked, about what) and committed in `s`'s transaction."""
    if customer.sees(account_id):
        return
    record(
        s,
        customer.actor,
        "access.refused",
        "account",
        customer.account_id,
        account_id=customer.account_id,
        after={"asked": str(account_id)[:200], "about": about},
    )
    s.commit()
    raise NotYours(_no_account(account_id))


def _subtree(s: Session, root: str) -> set[str]:
    """`root` and every account below it, a level of the tree at a time."""
    found, level = {root}, [root]
    while level:
        below: list[str] = []
        for first in range(0, len(level), CHUNK):
            parents = level[first : first + CHUNK]
            below += s.scalars(select(Account.id).where(Account.parent_id.in_(parents)))
        level = [a for a in below if a not in found]  # a loop in bad data stops here
        found.update(level)
    return found


def _no_account(account_id: str) -> str:
    return f"no account {account_id!r}: give one of your own accounts' logins"
