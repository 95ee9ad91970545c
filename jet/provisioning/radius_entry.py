"""What a RADIUS server outside Jet must know of an account to answer as Jet's own would
(jet.network_access): its password and plan's reply attributes, or why it is refused.
The freeradius_sql and radius_users_file actions write it in FreeRADIUS's forms."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

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


def radius_entry(s: Session, account: Account, today: date) -> RadiusEntry:
    """`account`'s entry as of `today`: refused when closed, suspended (for non-payment
    too), expired or on no plan; else its plan's reply attributes."""
    sub = s.scalars(
        select(Subscription)
        .where(
            Subscription.account_id == account.id,
            Subscription.start_date <= today,
            (Subscription.end_date.is_(None)) | (Subscription.end_date > today),
        )
        .order_by(Subscription.start_date.desc())
        .limit(1)
    ).first()
    refused = None
    if account.status == "closed":
        refused = CLOSED
    elif _held(s, account):
        refused = UNPAID
    elif account.status != "active":
        refused = SUSPENDED
    elif account.expires_at is not None and account.expires_at <= today:
        refused = EXPIRED.format(day=account.expires_at)
    elif sub is None:
        refused = NO_PLAN
    reply: Reply = ()
    if sub is not None and refused is None:
        catalog = catalog_on(s, account.realm_id, sub.start_date)
        plan = catalog.plans.get(sub.plan_id) if catalog else None
        reply = reply_attributes(plan.radius if plan else None)
    return RadiusEntry(
        account.id, account.radius_password, refused, sub.plan_id if sub else None, reply
    )


def _held(s: Session, account: Account) -> bool:
    """On hold itself or under a cost-centre on hold (as jet.network_access holds it)."""
    while account is not None:
        if account.hold:
            return True
        account = s.get(Account, account.parent_id) if account.parent_id else None
    return False
