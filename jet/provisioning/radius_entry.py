"""What a RADIUS server outside Jet must know of an account to answer as Jet's own would
(jet.network_access): its password and plan's reply attributes, or why it is refused.
The freeradius_sql and radius_users_file actions write it in FreeRADIUS's forms."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from jet.catalog import Catalog
from jet.network_access import (
    CLOSED,
    EXPIRED,
    NO_PLAN,
    SUSPENDED,
    UNPAID,
    Reply,
    reply_attributes,
)
from jet.realms import catalog_on
from jet.store.models import Account, Subscription


@dataclass(frozen=True, slots=True)
class RadiusEntry:
    user_name: str
    password: str | None  # None: no RADIUS password, so no entry at all
    refused: str | None  # the Reply-Message of an Access-Reject, else None
    plan: str | None
    reply: Reply


class AccountLookup:
    """What hooks read of the store about some accounts, read together: the accounts, the
    subscription each has in force `today`, and catalogs by realm and day (one batch of
    events costs a few queries, not a few per event)."""

    def __init__(self, s: Session, account_ids: set[str], today: date) -> None:
        self.s, self.today = s, today
        self.accounts = {
            a.id: a for a in s.scalars(select(Account).where(Account.id.in_(account_ids)))
        }
        in_force = s.scalars(
            select(Subscription)
            .where(
                Subscription.account_id.in_(account_ids),
                Subscription.start_date <= today,
                (Subscription.end_date.is_(None)) | (Subscription.end_date > today),
            )
            .order_by(Subscription.start_date)
        )
        self._subscriptions = {sub.account_id: sub for sub in in_force}  # the latest start
        self._catalogs: dict[tuple[str, date], Catalog | None] = {}

    def subscription(self, account_id: str) -> Subscription | None:
        return self._subscriptions.get(account_id)

    def catalog(self, realm_id: str, day: date) -> Catalog | None:
        if (realm_id, day) not in self._catalogs:
            self._catalogs[(realm_id, day)] = catalog_on(self.s, realm_id, day)
        return self._catalogs[(realm_id, day)]


def radius_entry(lookup: AccountLookup, account: Account) -> RadiusEntry:
    """`account`'s entry as of the lookup's day: refused when closed, suspended (for
    non-payment too), expired or on no plan; else its plan's reply attributes."""
    today, sub = lookup.today, lookup.subscription(account.id)
    refused = None
    if account.status == "closed":
        refused = CLOSED
    elif _held(lookup.s, account):
        refused = UNPAID
    elif account.status != "active":
        refused = SUSPENDED
    elif account.expires_at is not None and account.expires_at <= today:
        refused = EXPIRED.format(day=account.expires_at)
    elif sub is None:
        refused = NO_PLAN
    reply: Reply = ()
    if sub is not None and refused is None:
        catalog = lookup.catalog(account.realm_id, sub.start_date)
        plan = catalog.plans.get(sub.plan_id) if catalog else None
        reply = reply_attributes(plan.radius if plan else None)
    return RadiusEntry(
        account.id, account.radius_password, refused, sub.plan_id if sub else None, reply
    )


def _held(s: Session, account: Account | None) -> bool:
    """On hold itself or under a cost-centre on hold (as jet.network_access holds it)."""
    while account is not None:
        if account.hold:
            return True
        account = s.get(Account, account.parent_id) if account.parent_id else None
    return False
