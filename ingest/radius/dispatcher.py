"""Disconnect and CoA (RFC 5176) of customers' sessions: the RADIUS subscriber of the
account events (`jet.session_control` decides what each asks; `jet.deliveries` brings
them here, in order per account, and retries).

A delivery finds the account's open sessions at that moment (two devices, or two NAS)
and sends each its request; a session whose NAS answered (ACK or NAK: asking again gets
the same answer) is kept in the delivery's progress, so a retry after a timeout is sent
only to the sessions still without an answer, and one that has ended meanwhile is not
sent at all. `jet radius disconnect` sends at once, outside the outbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ingest.radius.dynauth import COA, DISCONNECT, TIMEOUT, TRIES, Answer, send
from ingest.radius.open_sessions import OpenSession, open_sessions
from jet.config import Settings
from jet.deliveries import Delivered, Failed, Result, Subscriber
from jet.session_control import COA_TOPICS, DISCONNECT_TOPICS, asked
from jet.store.db import session
from jet.store.models import Event, NasClient


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


def subscriber(tries: int = TRIES, timeout: float = TIMEOUT) -> Subscriber:
    """The RADIUS subscriber: a delivery may take every try of every session's request."""
    return Subscriber(
        name="radius",
        topics=frozenset(DISCONNECT_TOPICS + COA_TOPICS),
        deliver=lambda settings, event, progress: deliver(
            settings, event, progress, tries=tries, timeout=timeout
        ),
        claim=timedelta(seconds=tries * timeout * 4 + 30),
    )


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


def deliver(
    settings: Settings,
    event: Event,
    progress: dict[str, Any],
    *,
    tries: int = TRIES,
    timeout: float = TIMEOUT,
) -> Result:
    """Send what the event asks to each open session of its account not answered yet."""
    account_id = event.payload["account"]
    with session(settings.db_url) as s:
        extra = asked(s, event, datetime.now(UTC).date())
        if isinstance(extra, str):
            return Delivered(extra)
        kind = DISCONNECT if event.topic in DISCONNECT_TOPICS else COA
        held = open_sessions(settings.raw / "radius", account_id)
        answered = set(progress.get("answered", []))
        waiting = [one for one in held if _identity(one) not in answered]
        requests = [_request(s, kind, account_id, one, extra) for one in waiting]
    if not held:
        return Delivered(_no_session(account_id).text)
    outcomes = [r if isinstance(r, Outcome) else r.send(tries, timeout) for r in requests]
    for one, outcome in zip(waiting, outcomes, strict=True):
        if outcome.answer is None or outcome.answer.acked is not None:
            answered.add(_identity(one))  # answered, or nothing to send it to: done
    text = "; ".join(o.text for o in outcomes) or f"every session of {account_id} answered"
    if all(_identity(one) in answered for one in held):
        # a NAK, or a NAS that is no client: final, and told
        return Delivered(text, refused=any(o.failed for o in outcomes))
    return Failed(text, {"answered": sorted(answered)})


def _identity(held: OpenSession) -> str:
    """What tells a session from any other (int_radius_sessions' key)."""
    return f"{held.nas_address}/{held.acct_session_id}/{held.user_name}"


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
