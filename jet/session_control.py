"""Disconnect and CoA (RFC 5176) of customers' sessions, asked for by account changes.

A change that must reach the NAS (an account suspended or closed: Disconnect; a new plan:
CoA with its reply attributes) writes an outbox `Event` in the change's own transaction,
so a crash never loses the request. `dispatch` sends what is due: it claims an event by
moving its `next_attempt_at` ahead in a transaction of its own (no other dispatcher
takes it meanwhile), finds the account's open session and its NAS as they are at that
moment, sends, and records the outcome with `delivered_at`, so an answered event is
never sent again. The CLI dispatches its own events right after its commit; `jet radius
serve` dispatches every few seconds, which also retries timeouts and takes over events
whose dispatcher died; `jet radius dispatch` does one pass on demand.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from ingest.radius.dynauth import COA, DISCONNECT, TIMEOUT, TRIES, Answer, send
from ingest.radius.open_sessions import OpenSession, open_session
from jet.config import Settings
from jet.network_access import reply_attributes
from jet.realms import catalog_on
from jet.store.db import session
from jet.store.models import Account, Event, NasClient, Subscription

log = logging.getLogger("jet.radius")

DISCONNECT_TOPIC = "radius.disconnect"
COA_TOPIC = "radius.coa"
# A dispatcher that dies mid-send leaves its event to the next one after CLAIM.
CLAIM = timedelta(seconds=TRIES * TIMEOUT + 30)
RETRY_AFTER = timedelta(minutes=1)  # after a timeout
GIVE_UP_AFTER = timedelta(days=1)  # of timeouts since the event was written


def disconnect_event(account_id: str, status: str) -> Event:
    """The outbox event of an account that may no longer be online (`status`)."""
    return Event(
        topic=DISCONNECT_TOPIC,
        payload={"account": account_id, "status": status},
        created_at=datetime.now(UTC),
    )


def coa_event(account_id: str, plan_id: str, day: date) -> Event:
    """The outbox event of a plan change from `day`: due at 00:00 UTC of that day."""
    now = datetime.now(UTC)
    start = datetime.combine(day, time(), UTC)
    return Event(
        topic=COA_TOPIC,
        payload={"account": account_id, "plan": plan_id, "from": day.isoformat()},
        created_at=now,
        next_attempt_at=start if start > now else None,
    )


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one Disconnect or CoA: `answer` is None if nothing was sent (`text`
    says why); `failed` if the session may still be on as it was (NAK, no answer, or a
    NAS Jet cannot reach)."""

    account_id: str
    text: str
    answer: Answer | None = None
    failed: bool = False


def disconnect(
    settings: Settings, account_id: str, *, tries: int = TRIES, timeout: float = TIMEOUT
) -> Outcome:
    """Send a Disconnect-Request for the open session of `account_id` now, outside the
    outbox: an operator's command, answered on the spot."""
    with session(settings.db_url) as s:
        request = _request(s, settings, DISCONNECT, account_id, [])
    if isinstance(request, Outcome):
        return request
    return request.send(tries, timeout)


def dispatch(
    settings: Settings,
    account_id: str | None = None,
    *,
    tries: int = TRIES,
    timeout: float = TIMEOUT,
) -> list[Outcome]:
    """Send every Disconnect and CoA that is due (only `account_id`'s, if given), oldest
    first; return what became of each."""
    now = datetime.now(UTC)
    with session(settings.db_url) as s:
        due = s.execute(
            select(Event.id, Event.payload)
            .where(Event.topic.in_((DISCONNECT_TOPIC, COA_TOPIC)), _due(now))
            .order_by(Event.id)
        ).all()
    outcomes = []
    for event_id, payload in due:
        if account_id is None or payload["account"] == account_id:
            outcome = _deliver(settings, event_id, tries, timeout)
            if outcome is not None:
                outcomes.append(outcome)
    return outcomes


def dispatch_forever(settings: Settings, every: float, stop: threading.Event) -> None:
    """Dispatch every `every` seconds until `stop` is set, logging each outcome; for a
    thread of `jet radius serve`."""
    log.info("dynamic authorization: dispatching Disconnect and CoA every %g s", every)
    while not stop.wait(every):
        try:
            for outcome in dispatch(settings):
                log.log(logging.WARNING if outcome.failed else logging.INFO, outcome.text)
        except Exception:  # the store or the lake failed: say so, and try again later
            log.exception("dynamic authorization: dispatch failed")


# --- one event --------------------------------------------------------------------------


def _due(now: datetime):
    return Event.delivered_at.is_(None) & or_(
        Event.next_attempt_at.is_(None), Event.next_attempt_at <= now
    )


def _deliver(settings: Settings, event_id: int, tries: int, timeout: float) -> Outcome | None:
    """Claim the event, send what it asks for, record the outcome; None if another
    dispatcher has it."""
    now = datetime.now(UTC)
    with session(settings.db_url) as s:
        claim = update(Event).where(Event.id == event_id, _due(now))
        if s.execute(claim.values(next_attempt_at=now + CLAIM)).rowcount != 1:
            return None
    with session(settings.db_url) as s:
        event = s.get(Event, event_id)
        created = event.created_at
        request = _event_request(s, settings, event, now.date())
    outcome = request if isinstance(request, Outcome) else request.send(tries, timeout)
    answered = outcome.answer is None or outcome.answer.acked is not None
    if created.tzinfo is None:  # SQLite hands back naive UTC
        created = created.replace(tzinfo=UTC)
    give_up = not answered and datetime.now(UTC) - created > GIVE_UP_AFTER
    if not answered:
        later = "gave up" if give_up else f"trying again in {RETRY_AFTER.seconds} s"
        outcome = Outcome(outcome.account_id, f"{outcome.text}; {later}", outcome.answer, True)
    with session(settings.db_url) as s:
        event = s.get(Event, event_id)
        event.outcome = outcome.text[:500]
        if answered or give_up:
            event.delivered_at, event.next_attempt_at = datetime.now(UTC), None
        else:
            event.next_attempt_at = datetime.now(UTC) + RETRY_AFTER
    return outcome


def _event_request(s: Session, settings: Settings, event: Event, today: date) -> _Request | Outcome:
    """The request an event asks for, as the account is now, or the Outcome of not
    sending one."""
    account_id = event.payload["account"]
    account = s.get(Account, account_id)
    if event.topic == DISCONNECT_TOPIC:
        if account is not None and account.status == "active":
            return Outcome(account_id, f"{account_id} is active again: not disconnected")
        return _request(s, settings, DISCONNECT, account_id, [])
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
        return Outcome(account_id, f"{account_id} has no plan in force today: no CoA sent")
    catalog = catalog_on(s, account.realm_id, subscription.start_date)
    plan = catalog.plans.get(subscription.plan_id) if catalog is not None else None
    reply = reply_attributes(plan.radius if plan is not None else None)
    if not reply:
        return Outcome(
            account_id,
            f"plan {subscription.plan_id} of {account_id} has no RADIUS attributes to change "
            "a session by: no CoA sent",
        )
    return _request(s, settings, COA, account_id, list(reply))


# --- the request --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Request:
    """A Disconnect or CoA ready to go to the NAS that holds the session."""

    kind: str
    account_id: str
    held: OpenSession
    port: int
    secret: bytes
    attributes: list[tuple[str, Any]]

    def send(self, tries: int, timeout: float) -> Outcome:
        answer = send(
            self.kind,
            self.held.nas_address,
            self.port,
            self.secret,
            self.attributes,
            tries=tries,
            timeout=timeout,
        )
        text = (
            f"{self.kind}-Request for {self.held.user_name} "
            f"(session {self.held.acct_session_id}): {answer}"
        )
        return Outcome(self.account_id, text, answer, failed=not answer.acked)


def _request(
    s: Session, settings: Settings, kind: str, account_id: str, extra: list[tuple[str, Any]]
) -> _Request | Outcome:
    """The `kind` request for the open session of `account_id`, naming it and carrying
    `extra`, or the Outcome of having none to send."""
    found = open_session(settings.raw / "radius", account_id)
    if found is None:
        return Outcome(
            account_id,
            f"{account_id} has no open session in the landed RADIUS accounting: nothing sent",
        )
    client = s.scalar(select(NasClient).where(NasClient.address == found.client_address))
    if client is None:
        return Outcome(
            account_id,
            f"the session {found.acct_session_id} of {found.user_name} came from "
            f"{found.client_address}, which is not a NAS client (any more): nothing sent; "
            f"add it with `jet nas add {found.client_address} ...` to reach it",
            failed=True,
        )
    return _Request(
        kind,
        account_id,
        found,
        client.coa_port,
        client.secret.encode(),
        [*found.attributes(), *extra],
    )
