"""Every subscriber of the outbox's events, in one place: what `jet events dispatch`,
`jet radius serve` and the commands that change accounts deliver to: the built-in ones,
then each realm's provisioning hooks ($JET_HOME/hooks, jet.provisioning)."""

from __future__ import annotations

from ingest.radius import dispatcher as radius
from jet import card_charges
from jet.config import Settings
from jet.deliveries import Subscriber
from jet.provisioning.hook_subscribers import hook_subscribers
from reports import contact_mail, event_feed, notices, report_mail


def subscribers(settings: Settings) -> list[Subscriber]:
    return [
        radius.subscriber(),
        event_feed.subscriber(),
        card_charges.subscriber(),
        notices.subscriber(),
        contact_mail.subscriber(),
        report_mail.subscriber(),
        *hook_subscribers(settings),
    ]
