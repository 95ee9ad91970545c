"""What account changes queue for the NAS (the outbox events of suspensions and plan
changes), the plan change itself, how the RADIUS subscriber reaches every open session
(two NAS on loopback answering as each test says), and how answers read; FreeRADIUS as
the NAS is in tests/integration/test_radius_dynauth.py."""

from __future__ import annotations

import socket
import threading
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from pyrad import packet
from sqlalchemy import select, update

from ingest.radius import dispatcher
from ingest.radius.accounting import DICTIONARY
from ingest.radius.dynauth import Answer
from jet.accounts import AccountError, add_accounts, change_plan, subscribe, update_account
from jet.catalog import load_catalog_file
from jet.cli import main
from jet.config import PROJECT_ROOT
from jet.deliveries import Delivered
from jet.deliveries import dispatch as deliver_due
from jet.nas import add_nas_client
from jet.realms import store_catalog
from jet.store.db import session
from jet.store.models import Event, EventDelivery, NasClient, Subscription
from tests.sessions import online

TODAY = datetime.now(UTC).date()
MONTH_AGO = TODAY - timedelta(days=30)


@pytest.fixture
def store(settings):
    with session(settings.db_url) as s:
        path = PROJECT_ROOT / "examples" / "catalogs" / "acme.yaml"
        store_catalog(s, load_catalog_file(path), str(path))
        add_accounts(s, "acme", [{"id": "alice"}, {"id": "bob"}])
        subscribe(s, "alice", "business", MONTH_AGO)
    return settings


RADIUS_TOPICS = dispatcher.subscriber().topics


def events(settings) -> list[tuple[str, dict, datetime | None]]:
    """The events the RADIUS subscriber takes: topic, payload, due."""
    with session(settings.db_url) as s:
        rows = s.scalars(select(Event).where(Event.topic.in_(RADIUS_TOPICS)).order_by(Event.id))
        return [(e.topic, e.payload, e.due_at) for e in rows]


def dispatch(settings) -> list[tuple[str, bool]]:
    """Deliver what is due to the RADIUS subscriber: each delivery's outcome, and whether
    it is done (False: tried again later)."""
    return [
        (r.result.outcome, isinstance(r.result, Delivered))
        for r in deliver_due(settings, [dispatcher.subscriber(timeout=0.2)])
    ]


def test_suspending_or_closing_an_account_asks_for_a_disconnect(store) -> None:
    with session(store.db_url) as s:
        update_account(s, "alice", status="suspended")
        update_account(s, "alice", status="closed")
        update_account(s, "bob", status="active")  # was active: nothing
        update_account(s, "bob", expires="2030-01-01")
    today = datetime.now(UTC).date()  # the day it closed: not TODAY, a suite may cross midnight
    closed = {"account": "alice", "status": "closed", "on": today.isoformat()}
    assert events(store) == [
        ("account.suspended", {"account": "alice", "status": "suspended"}, None),
        ("account.closed", closed, None),
    ]


def test_a_plan_change_ends_one_subscription_starts_another_and_queues_a_coa(store) -> None:
    with session(store.db_url) as s:
        change_plan(s, "alice", "home", TODAY)
        subs = s.scalars(select(Subscription).order_by(Subscription.id)).all()
        assert [(x.plan_id, x.start_date, x.end_date) for x in subs] == [
            ("business", MONTH_AGO, TODAY),
            ("home", TODAY, None),
        ]
    change = {"account": "alice", "plan": "home", "previous": "business"}
    assert events(store) == [("plan.changed", {**change, "from": TODAY.isoformat()}, None)]


def test_a_plan_change_from_a_later_day_is_due_that_day(store) -> None:
    later = TODAY + timedelta(days=3)
    result = CliRunner().invoke(
        main, ["account", "plan", "alice", "home", "--from", later.isoformat()]
    )
    assert result.exit_code == 0, result.output
    assert f"its sessions get a CoA-Request on {later}" in result.output
    [(topic, _, due)] = events(store)
    assert due is not None and due.date() == later and due.hour == 0
    assert dispatch(store) == []


def test_plan_changes_that_cannot_be_made(store) -> None:
    with session(store.db_url) as s:
        subscribe(s, "bob", "home", MONTH_AGO)
        subscribe(s, "bob", "business", MONTH_AGO)
    cases = [
        ("alice", "gold", TODAY, "realm acme has no plan 'gold'"),
        ("alice", "business", TODAY, "alice is already on business"),
        ("alice", "home", MONTH_AGO, "alice started business on"),
        ("bob", "hotspot", TODAY, "bob has 2 subscriptions in force"),
        ("carol", "home", TODAY, "no account 'carol'"),
        ("alice", "home", MONTH_AGO - timedelta(days=1), "has a subscription to business from"),
    ]
    for account, plan, day, message in cases:
        with pytest.raises(AccountError, match=message), session(store.db_url) as s:
            change_plan(s, account, plan, day)
    assert events(store) == []


class Nas:
    """A NAS's Disconnect and CoA port on a loopback address: it keeps each request it
    gets (kind, its address, Acct-Session-Id; a retransmission once) and answers as
    `answers` says by session: ACK (the default), NAK (False) or nothing (None)."""

    def __init__(self, address: str, got: list, answers: dict[str, bool | None]) -> None:
        self.address, self.got, self.answers = address, got, answers
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind((address, 0))
        self._sock.settimeout(0.1)
        self.port = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        seen: set[tuple[int, bytes]] = set()
        while not self._stop.is_set():
            try:
                data, peer = self._sock.recvfrom(4096)
            except TimeoutError:
                continue
            request = packet.CoAPacket(secret=b"s", dict=DICTIONARY, packet=data)
            disconnect = request.code == packet.DisconnectRequest
            [session_id] = request["Acct-Session-Id"]
            if (request.id, request.authenticator) not in seen:
                seen.add((request.id, request.authenticator))
                self.got.append(("Disconnect" if disconnect else "CoA", self.address, session_id))
            answer = self.answers.get(session_id, True)
            if answer is not None:
                reply = request.CreateReply()
                if not answer:
                    reply.code = packet.DisconnectNAK if disconnect else packet.CoANAK
                self._sock.sendto(reply.ReplyPacket(), peer)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self._sock.close()


@pytest.fixture
def two_sessions(store):
    """alice online from two devices on two NAS (127.0.0.1 and 127.0.0.2); the requests
    they got, in order, how each session is answered (ACK unless told otherwise), and
    each NAS's port."""
    got: list[tuple[str, str, str]] = []
    answers: dict[str, bool | None] = {}
    nas = [Nas("127.0.0.1", got, answers), Nas("127.0.0.2", got, answers)]
    with session(store.db_url) as s:
        for one in nas:
            add_nas_client(s, one.address, "s", "acme", coa_port=one.port)
    online(store, "alice@acme", "127.0.0.1", session_id="laptop", minutes_ago=30)
    online(store, "alice@acme", "127.0.0.2", session_id="phone", minutes_ago=10)
    yield got, answers, {one.address: one.port for one in nas}
    for one in nas:
        one.close()


def test_suspension_disconnects_every_open_session_once(store, two_sessions) -> None:
    got, _, port = two_sessions
    with session(store.db_url) as s:
        update_account(s, "alice", status="suspended")
    [(outcome, done)] = dispatch(store)
    assert got == [("Disconnect", "127.0.0.2", "phone"), ("Disconnect", "127.0.0.1", "laptop")]
    assert done and outcome == (
        "Disconnect-Request for alice@acme (session phone on NAS 127.0.0.2): "
        f"Disconnect-ACK from 127.0.0.2:{port['127.0.0.2']}; "
        "Disconnect-Request for alice@acme (session laptop on NAS 127.0.0.1): "
        f"Disconnect-ACK from 127.0.0.1:{port['127.0.0.1']}"
    )
    assert dispatch(store) == [] and len(got) == 2


def test_a_session_without_an_answer_is_tried_again_alone(store, two_sessions) -> None:
    got, answers, _ = two_sessions
    answers["laptop"] = None
    with session(store.db_url) as s:
        change_plan(s, "alice", "home", TODAY)
    [(outcome, done)] = dispatch(store)
    assert not done
    assert "CoA-ACK from 127.0.0.2" in outcome and "no answer from 127.0.0.1" in outcome
    answers["laptop"] = True
    with session(store.db_url) as s:
        s.execute(update(EventDelivery).values(next_attempt_at=datetime.now(UTC)))
    [(again, done)] = dispatch(store)
    assert done and "session laptop on NAS 127.0.0.1" in again and "CoA-ACK" in again
    assert "phone" not in again
    assert [session_id for _, _, session_id in got] == ["phone", "laptop", "laptop"]
    assert {kind for kind, _, _ in got} == {"CoA"}
    assert dispatch(store) == []


def test_a_nak_is_an_answer_not_sent_again_but_told(store, two_sessions) -> None:
    got, answers, _ = two_sessions
    answers["phone"] = False
    with session(store.db_url) as s:
        update_account(s, "alice", status="closed")
    told = CliRunner().invoke(main, ["radius", "dispatch"])
    assert told.exit_code == 1
    assert "Disconnect-NAK from 127.0.0.2" in told.output and "Disconnect-ACK" in told.output
    assert dispatch(store) == [] and len(got) == 2


def test_nothing_due_without_a_session(store) -> None:
    """An event whose account has no open session is done with, and says so."""
    with session(store.db_url) as s:
        update_account(s, "alice", status="suspended")
    [(outcome, done)] = dispatch(store)
    assert done and "no open session" in outcome
    assert dispatch(store) == []


def test_a_reactivated_account_is_not_disconnected(store) -> None:
    with session(store.db_url) as s:
        update_account(s, "alice", status="suspended")
        update_account(s, "alice", status="active")
    [(outcome, done)] = dispatch(store)
    assert done and outcome == "alice is active again: not disconnected"


def test_nas_coa_port(store) -> None:
    def jet(*args):
        return CliRunner().invoke(main, ["nas", *args])

    assert jet("add", "10.0.0.1", "--secret", "s", "--realm", "acme").exit_code == 0
    added = jet("add", "10.0.0.2", "--secret", "s", "--realm", "acme", "--coa-port", "1700")
    assert added.exit_code == 0
    refused = jet("add", "10.0.0.3", "--secret", "s", "--realm", "acme", "--coa-port", "0")
    assert refused.exit_code == 1 and "CoA port 0 is not a UDP port" in refused.output
    with session(store.db_url) as s:
        ports = dict(s.execute(select(NasClient.address, NasClient.coa_port)).all())
    assert ports == {"10.0.0.1": 3799, "10.0.0.2": 1700}
    assert "CoA port 1700" in jet("list").output


def test_answers_read_plainly() -> None:
    assert str(Answer("CoA", "10.0.0.1", 3799, True)) == "CoA-ACK from 10.0.0.1:3799"
    nak = Answer("Disconnect", "10.0.0.1", 3799, False, ("Session-Context-Not-Found (503)",))
    assert str(nak) == (
        "Disconnect-NAK from 10.0.0.1:3799, Error-Cause: Session-Context-Not-Found (503)"
    )
    refused = str(Answer("Disconnect", "10.0.0.1", 1700, None, refused=True))
    assert refused.startswith("no answer from 10.0.0.1:1700 after 3 tries: nothing listens")
    assert "takes Disconnect-Requests on port 1700" in refused
