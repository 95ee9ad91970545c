"""Disconnect and CoA (RFC 5176) of customers' sessions, asked for by account changes.

A change that must reach the NAS (an account suspended or closed: Disconnect; a new plan:
CoA with its reply attributes) writes an outbox `Event` for the account in the change's
own transaction, so a crash never loses the request. `dispatch` sends what is due: it
claims an event by moving its `next_attempt_at` ahead in a transaction of its own (no
other dispatcher takes it meanwhile). An account's event it splits into one event per
open session of the account at that moment (two devices, or two NAS), naming the
session, written in the transaction that marks the account's event delivered; then, for
each session's event, it finds the session and its NAS as they are at that moment, sends,
and records the outcome with `delivered_at`, so an answered session is never sent again,
whatever became of the others. The CLI dispatches its own events right after its commit;
`jet radius serve` dispatches every few seconds, which also retries timeouts and takes
over events whose dispatcher died; `jet radius dispatch` does one pass on demand.
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
from ingest.radius.open_sessions import OpenSession, open_sessions
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
    NAS Jet cannot reach); `held` the session it was for, if there was one."""

    account_id: str
    text: str
    answer: Answer | None = None
    failed: bool = False
    held: OpenSession | None = None


def disconnect(
    settings: Settings, account_id: str, *, tries: int = TRIES, timeout: float = TIMEOUT
) -> list[Outcome]:
    """Send a Disconnect-Request for each open session of `account_id` now, outside the
    outbox: an operator's command, answered on the spot. One Outcome a session, newest
    first, or one saying that there is none."""
    held = open_sessions(settings.raw / "radius", account_id)
    if not held:
        return [_no_session(account_id)]
    with session(settings.db_url) as s:
        requests = [_request(s, DISCONNECT, account_id, one, []) for one in held]
    return [r if isinstance(r, Outcome) else r.send(tries, timeout) for r in requests]


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
            outcomes.extend(_deliver(settings, event_id, tries, timeout))
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


def _deliver(settings: Settings, event_id: int, tries: int, timeout: float) -> list[Outcome]:
    """Claim the event and do what it asks: an account's event is split into its
    sessions' events, which are delivered in turn; a session's event is sent and its
    outcome recorded. Nothing if another dispatcher has it."""
    now = datetime.now(UTC)
    with session(settings.db_url) as s:
        claim = update(Event).where(Event.id == event_id, _due(now))
        if s.execute(claim.values(next_attempt_at=now + CLAIM)).rowcount != 1:
            return []
    with session(settings.db_url) as s:
        event = s.get(Event, event_id)
        created = event.created_at
        asked = _event_asks(s, event, now.date())
        if isinstance(asked, Outcome):
            request: _Request | Outcome | list[int] = asked
        elif "session" in event.payload:
            request = _session_request(s, settings, event, *asked)
        else:
            request = _split(s, settings, event, asked[0])
    if isinstance(request, list):  # committed: each session's event is now on its own
        return [o for child in request for o in _deliver(settings, child, tries, timeout)]
    outcome = request if isinstance(request, Outcome) else request.send(tries, timeout)
    answered = outcome.answer is None or outcome.answer.acked is not None
    if created.tzinfo is None:  # SQLite hands back naive UTC
        created = created.replace(tzinfo=UTC)
    give_up = not answered and datetime.now(UTC) - created > GIVE_UP_AFTER
    if not answered:
        later = "gave up" if give_up else f"trying again in {RETRY_AFTER.seconds} s"
        outcome = Outcome(
            outcome.account_id, f"{outcome.text}; {later}", outcome.answer, True, outcome.held
        )
    with session(settings.db_url) as s:
        event = s.get(Event, event_id)
        event.outcome = outcome.text[:500]
        if answered or give_up:
            event.delivered_at, event.next_attempt_at = datetime.now(UTC), None
        else:
            event.next_attempt_at = datetime.now(UTC) + RETRY_AFTER
    return [outcome]


def _split(s: Session, settings: Settings, event: Event, kind: str) -> list[int] | Outcome:
    """Write an event for each open session of an account's event, and mark that one
    delivered, in one transaction; the new events' ids, or the Outcome of having no
    session to send to."""
    account_id = event.payload["account"]
    held = open_sessions(settings.raw / "radius", account_id)
    if not held:
        return _no_session(account_id)
    children = [
        Event(
            topic=event.topic,
            payload={**event.payload, "session": _identity(one)},
            created_at=event.created_at,  # given up on a day after the change, as it is
        )
        for one in held
    ]
    s.add_all(children)
    s.flush()
    ids = [child.id for child in children]
    event.delivered_at, event.next_attempt_at = datetime.now(UTC), None
    event.outcome = (
        f"a {kind}-Request for each of the {len(held)} open sessions of {account_id}: "
        f"events {', '.join(map(str, ids))}"
    )[:500]
    return ids


def _event_asks(
    s: Session, event: Event, today: date
) -> tuple[str, list[tuple[str, Any]]] | Outcome:
    """What an event asks the NAS for, as the account is now: the request's kind and the
    attributes it carries besides the session's; or the Outcome of not sending one."""
    account_id = event.payload["account"]
    account = s.get(Account, account_id)
    if event.topic == DISCONNECT_TOPIC:
        if account is not None and account.status == "active":
            return Outcome(account_id, f"{account_id} is active again: not disconnected")
        return DISCONNECT, []
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
    return COA, list(reply)


def _session_request(
    s: Session, settings: Settings, event: Event, kind: str, extra: list[tuple[str, Any]]
) -> _Request | Outcome:
    """The request of a session's event, to the session as it is now, or the Outcome of
    not sending one: the session has ended since the event was written."""
    account_id, named = event.payload["account"], event.payload["session"]
    held = open_sessions(settings.raw / "radius", account_id)
    now_held = next((one for one in held if _identity(one) == named), None)
    if now_held is None:
        return Outcome(
            account_id,
            f"the session {named['id']} of {named['user']} on NAS {named['nas']} has ended: "
            "nothing sent",
        )
    return _request(s, kind, account_id, now_held, extra)


def _identity(held: OpenSession) -> dict[str, str]:
    """What tells a session from any other (int_radius_sessions' key), as an event holds it."""
    return {"nas": held.nas_address, "id": held.acct_session_id, "user": held.user_name}


def _no_session(account_id: str) -> Outcome:
    return Outcome(
        account_id,
        f"{account_id} has no open session in the landed RADIUS accounting: nothing sent",
    )


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
            f"{self.kind}-Request for {self.held.user_name} (session "
            f"{self.held.acct_session_id} on NAS {self.held.nas_address}): {answer}"
        )
        return Outcome(self.account_id, text, answer, failed=not answer.acked, held=self.held)


def _request(
    s: Session, kind: str, account_id: str, held: OpenSession, extra: list[tuple[str, Any]]
) -> _Request | Outcome:
    """The `kind` request for the open session `held` of `account_id`, naming it and
    carrying `extra`, or the Outcome of its NAS not being a client Jet can sign for."""
    client = s.scalar(select(NasClient).where(NasClient.address == held.client_address))
    if client is None:
        return Outcome(
            account_id,
            f"the session {held.acct_session_id} of {held.user_name} on NAS "
            f"{held.nas_address} came from {held.client_address}, which is not a NAS "
            f"client (any more): nothing sent; add it with `jet nas add "
            f"{held.client_address} ...` to reach it",
            failed=True,
            held=held,
        )
    return _Request(
        kind,
        account_id,
        held,
        client.coa_port,
        client.secret.encode(),
        [*held.attributes(), *extra],
    )
