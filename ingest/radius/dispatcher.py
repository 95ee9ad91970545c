"""Disconnect and CoA (RFC 5176) of customers' sessions: the RADIUS subscriber of the
outbox events that account changes write (`jet.session_control` decides what each asks).

`dispatch` sends what is due. It claims an event (`jet.outbox.claim`); an account's event
it splits into one event per open session of the account at that moment (two devices,
or two NAS), naming the session, in the transaction that marks the account's event
delivered; then, for each session's event, it finds the session and its NAS as they
are at that moment, sends, and settles the event with the outcome, so an answered
session is never sent again, whatever became of the others. The CLI dispatches its own
events right after its commit; `jet radius serve` dispatches every few seconds, which
also retries timeouts and takes over events whose dispatcher died; `jet radius dispatch`
does one pass on demand.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ingest.radius.dynauth import COA, DISCONNECT, TIMEOUT, TRIES, Answer, send
from ingest.radius.open_sessions import OpenSession, open_sessions
from jet import outbox
from jet.config import Settings
from jet.session_control import COA_TOPIC, DISCONNECT_TOPIC, asked
from jet.store.db import session
from jet.store.models import Event, NasClient

log = logging.getLogger("jet.radius")

KINDS = {DISCONNECT_TOPIC: DISCONNECT, COA_TOPIC: COA}  # the request each topic sends
# A dispatcher that dies mid-send leaves its event to the next one after CLAIM.
CLAIM = timedelta(seconds=TRIES * TIMEOUT + 30)
RETRY_AFTER = timedelta(minutes=1)  # after a timeout
GIVE_UP_AFTER = timedelta(days=1)  # of timeouts since the event was written


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
    outcomes = []
    for event_id, payload in outbox.due(settings.db_url, KINDS, datetime.now(UTC)):
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


def _deliver(settings: Settings, event_id: int, tries: int, timeout: float) -> list[Outcome]:
    """Claim the event and do what it asks: an account's event is split into its
    sessions' events, which are delivered in turn; a session's event is sent and its
    outcome recorded. Nothing if another dispatcher has it."""
    if not outbox.claim(settings.db_url, event_id, CLAIM):
        return []
    with session(settings.db_url) as s:
        event = s.get(Event, event_id)
        created = outbox.created_at(event)
        kind, extra = KINDS[event.topic], asked(s, event, datetime.now(UTC).date())
        if isinstance(extra, str):
            request: _Request | Outcome | list[int] = Outcome(event.payload["account"], extra)
        elif "session" in event.payload:
            request = _session_request(s, settings, event, kind, extra)
        else:
            request = _split(s, settings, event, kind)
    if isinstance(request, list):  # committed: each session's event is now on its own
        return [o for part in request for o in _deliver(settings, part, tries, timeout)]
    outcome = request if isinstance(request, Outcome) else request.send(tries, timeout)
    answered = outcome.answer is None or outcome.answer.acked is not None
    give_up = not answered and datetime.now(UTC) - created > GIVE_UP_AFTER
    if not answered:
        later = "gave up" if give_up else f"trying again in {RETRY_AFTER.seconds} s"
        outcome = Outcome(
            outcome.account_id, f"{outcome.text}; {later}", outcome.answer, True, outcome.held
        )
    retry_at = None if answered or give_up else datetime.now(UTC) + RETRY_AFTER
    outbox.settle(settings.db_url, event_id, outcome.text, retry_at)
    return [outcome]


def _split(s: Session, settings: Settings, event: Event, kind: str) -> list[int] | Outcome:
    """An event for each open session of an account's event, the account's marked
    delivered, in one transaction; the new events' ids, or the Outcome of having no
    session to send to."""
    account_id = event.payload["account"]
    held = open_sessions(settings.raw / "radius", account_id)
    if not held:
        return _no_session(account_id)
    return outbox.split(
        s,
        event,
        [{**event.payload, "session": _identity(one)} for one in held],
        f"a {kind}-Request for each of the {len(held)} open sessions of {account_id}",
    )


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
