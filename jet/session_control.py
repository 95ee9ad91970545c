"""What account changes ask of the customers' sessions on the network: a Disconnect
(an account suspended or closed, a prepaid one with no credit left) or a CoA with the
new plan's reply attributes (a plan change), announced as events (`jet.accounts`,
`jet.prepaid`, through `jet.outbox`).

The core decides what is asked, as the account is when the event is acted on: a
suspended account that is active again is not disconnected, nor a prepaid one topped
up since; a CoA carries the plan in
force that day. The RADIUS side (`ingest.radius.dispatcher`, a subscriber of these
topics) finds the open sessions, sends the requests and records the answers.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from jet.network_access import reply_attributes
from jet.prepaid import EXHAUSTED, credit_left
from jet.realms import catalog_on
from jet.store.models import Account, Event, Subscription

# The events whose RADIUS side is a Disconnect of the account's sessions, and a CoA.
DISCONNECT_TOPICS = ("account.suspended", "account.closed", EXHAUSTED)
COA_TOPICS = ("plan.changed",)


def asked(s: Session, event: Event, today: date) -> list[tuple[str, Any]] | str:
    """What a Disconnect or CoA event asks of the account's sessions as the account is
    `today`: the attributes the request carries besides the session's own (none for a
    Disconnect), or why nothing is to be sent."""
    account_id = event.payload["account"]
    account = s.get(Account, account_id)
    if event.topic == EXHAUSTED:
        if credit_left(s, [account_id]).get(account_id, Decimal(0)) > 0:
            return f"{account_id} was topped up: not disconnected"
        return []
    if event.topic in DISCONNECT_TOPICS:
        if account is not None and account.status == "active":
            return f"{account_id} is active again: not disconnected"
        return []
    subscription = s.scalar(
        select(Subscription)
        .where(
            Subscription.account_id == account_id,
            Subscription.start_date <= today,
            or_(Subscription.end_date.is_(None), Subscription.end_date > today),
        )
        .order_by(Subscription.start_date.desc(), Subscription.id.desc())
        .limit(1)
    )
    if account is None or subscription is None:
        return f"{account_id} has no plan in force today: no CoA sent"
    catalog = catalog_on(s, account.realm_id, subscription.start_date)
    plan = catalog.plans.get(subscription.plan_id) if catalog is not None else None
    reply = reply_attributes(plan.radius if plan is not None else None)
    if not reply:
        return (
            f"plan {subscription.plan_id} of {account_id} has no RADIUS attributes to change "
            "a session by: no CoA sent"
        )
    return list(reply)
