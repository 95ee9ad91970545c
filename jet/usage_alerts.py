"""Usage warnings: a customer hears when usage reaches 80 % and 100 % of the plan's
included allowance in a cycle (the `fct_usage_allowances` mart), once per account,
product, cycle and threshold, however many rating runs see it.

Each rating run calls `announce_thresholds` after publishing the marts; it writes a
`usage.threshold_crossed` event for each crossing not announced before. The event's
`key` makes it one of a kind, so two runs at once cannot announce the same crossing
twice. Subscribers (an e-mail, a provisioning hook) act on the event."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from jet.config import Settings
from jet.outbox import event_row
from jet.store.db import session
from jet.store.models import Event
from jet.warehouse import marts

THRESHOLDS = (80, 100)  # per cent of the included usage

_CROSSED = """
    select account_id, billing_account_id, realm_id, subscription_id, product_id,
           period_start, period_end, used, included, threshold
    from fct_usage_allowances where threshold is not null
    order by period_end, account_id, product_id
"""


def announce_thresholds(settings: Settings) -> int:
    """Write an event for each threshold crossing in the published marts that has none
    yet; how many were written."""
    con = marts(settings)
    try:
        tables = {name for (name,) in con.execute("show tables").fetchall()}
        rows = con.execute(_CROSSED).fetchall() if "fct_usage_allowances" in tables else []
    finally:
        con.close()
    now = datetime.now(UTC)
    events = {}
    for account, billing, realm, sub, product, start, end, used, included, reached in rows:
        for threshold in THRESHOLDS:
            if threshold <= reached:
                key = f"usage:{sub}:{product}:{end}:{threshold}"
                payload = {
                    "account": account,
                    "billing_account": billing,
                    "realm": realm,
                    "subscription": sub,
                    "product": product,
                    "period_start": start.isoformat(),
                    "period_end": end.isoformat(),
                    "threshold": threshold,
                    "used": f"{used.normalize():f}",
                    "included": f"{included.normalize():f}",
                }
                events[key] = event_row(
                    "usage.threshold_crossed", account, payload, at=now, key=key
                )
    if not events:
        return 0
    for _ in range(3):  # another run may announce some of them meanwhile: look again
        try:
            with session(settings.db_url) as s:
                known = set()
                keys = list(events)
                for i in range(0, len(keys), 5000):
                    chunk = keys[i : i + 5000]
                    known.update(s.scalars(select(Event.key).where(Event.key.in_(chunk))))
                new = [row for key, row in events.items() if key not in known]
                if new:
                    s.execute(insert(Event), new)
                return len(new)
        except IntegrityError:
            continue
    raise RuntimeError("usage warnings: another run kept announcing the same crossings")
