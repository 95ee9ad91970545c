"""Every subscriber of the outbox's events, in one place: what `jet events dispatch`,
`jet radius serve` and the commands that change accounts deliver to. The provisioning
hooks and the card gateway's charges join this list."""

from __future__ import annotations

from ingest.radius import dispatcher as radius
from jet import card_charges
from jet.deliveries import Subscriber
from reports import contact_mail, event_feed, notices, report_mail


def subscribers() -> list[Subscriber]:
    return [
        radius.subscriber(),
        event_feed.subscriber(),
        card_charges.subscriber(),
        notices.subscriber(),
        contact_mail.subscriber(),
        report_mail.subscriber(),
    ]
