"""What account changes queue for the NAS (the outbox events of suspensions and plan
changes), the plan change itself, and how answers read; the wire is tested against
FreeRADIUS in tests/integration/test_radius_dynauth.py."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from ingest.landing import land
from ingest.radius.dispatcher import dispatch
from ingest.radius.dynauth import Answer
from jet.accounts import AccountError, add_accounts, change_plan, subscribe, update_account
from jet.catalog import load_catalog_file
from jet.cli import main
from jet.config import PROJECT_ROOT
from jet.nas import add_nas_client
from jet.realms import store_catalog
from jet.store.db import session
from jet.store.models import Event, NasClient, Subscription
from schemas.raw import RADIUS

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


def events(settings) -> list[tuple[str, dict, datetime | None]]:
    with session(settings.db_url) as s:
        rows = s.scalars(select(Event).order_by(Event.id))
        return [(e.topic, e.payload, e.next_attempt_at) for e in rows]


def test_suspending_or_closing_an_active_account_queues_a_disconnect(store) -> None:
    with session(store.db_url) as s:
        update_account(s, "alice", status="suspended")
        update_account(s, "alice", status="closed")  # was not active: nothing more
        update_account(s, "bob", status="active")
        update_account(s, "bob", expires="2030-01-01")
    assert events(store) == [
        ("radius.disconnect", {"account": "alice", "status": "suspended"}, None)
    ]


def test_a_plan_change_ends_one_subscription_starts_another_and_queues_a_coa(store) -> None:
    with session(store.db_url) as s:
        change_plan(s, "alice", "home", TODAY)
        subs = s.scalars(select(Subscription).order_by(Subscription.id)).all()
        assert [(x.plan_id, x.start_date, x.end_date) for x in subs] == [
            ("business", MONTH_AGO, TODAY),
            ("home", TODAY, None),
        ]
    assert events(store) == [
        ("radius.coa", {"account": "alice", "plan": "home", "from": TODAY.isoformat()}, None)
    ]


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


def online(settings, user: str, session_id: str, nas: str, minutes_ago: int) -> None:
    """Land a Start of `user`'s session `session_id` at `nas`."""
    address = int(ipaddress.IPv4Address(nas))
    row = {
        "status_type": "Start",
        "event_time": datetime.now(UTC) - timedelta(minutes=minutes_ago),
        "received_at": datetime.now(UTC),
        "user_name": user,
        "acct_session_id": session_id,
        "nas_ip": address,
        "source_ip": address,
    }
    land("radius", pa.Table.from_pylist([row], schema=RADIUS), session_id, settings.raw)


@pytest.fixture
def two_sessions(store, monkeypatch):
    """alice online from two devices on two NAS; the requests `send` got, which each
    NAS answers as `answers` says (ACK by default)."""
    with session(store.db_url) as s:
        add_nas_client(s, "10.0.0.1", "s", "acme")
        add_nas_client(s, "10.0.0.2", "s", "acme")
    online(store, "alice@acme", "laptop", "10.0.0.1", minutes_ago=30)
    online(store, "alice@acme", "phone", "10.0.0.2", minutes_ago=10)
    sent: list[tuple[str, str, str]] = []
    answers: dict[str, bool | None] = {}

    def send(kind, address, port, secret, attributes, *, tries, timeout):
        session_id = dict(attributes)["Acct-Session-Id"]
        sent.append((kind, address, session_id))
        return Answer(kind, address, port, answers.get(session_id, True))

    monkeypatch.setattr("ingest.radius.dispatcher.send", send)
    return sent, answers


def test_suspension_disconnects_every_open_session_once(store, two_sessions) -> None:
    sent, _ = two_sessions
    with session(store.db_url) as s:
        update_account(s, "alice", status="suspended")
    outcomes = dispatch(store)
    assert sent == [("Disconnect", "10.0.0.2", "phone"), ("Disconnect", "10.0.0.1", "laptop")]
    assert [o.text for o in outcomes] == [
        "Disconnect-Request for alice@acme (session phone on NAS 10.0.0.2): "
        "Disconnect-ACK from 10.0.0.2:3799",
        "Disconnect-Request for alice@acme (session laptop on NAS 10.0.0.1): "
        "Disconnect-ACK from 10.0.0.1:3799",
    ]
    phone = {"nas": "10.0.0.2", "id": "phone", "user": "alice@acme"}
    laptop = {"nas": "10.0.0.1", "id": "laptop", "user": "alice@acme"}
    # the account's event, then one for each session, which holds its identity
    assert [p.get("session") for _, p, _ in events(store)] == [None, phone, laptop]
    with session(store.db_url) as s:
        assert all(e.delivered_at is not None for e in s.scalars(select(Event)))
    assert dispatch(store) == [] and len(sent) == 2


def test_a_session_without_an_answer_is_tried_again_alone(store, two_sessions) -> None:
    sent, answers = two_sessions
    answers["laptop"] = None
    with session(store.db_url) as s:
        change_plan(s, "alice", "home", TODAY)
    first = dispatch(store)
    assert [o.failed for o in first] == [False, True]
    assert first[1].text.endswith("trying again in 60 s")
    answers["laptop"] = True
    with session(store.db_url) as s:
        s.execute(update(Event).values(next_attempt_at=datetime.now(UTC)))
    [again] = dispatch(store)
    assert "session laptop on NAS 10.0.0.1" in again.text and "CoA-ACK" in again.text
    assert [session_id for kind, _, session_id in sent] == ["phone", "laptop", "laptop"]
    assert {kind for kind, _, _ in sent} == {"CoA"}
    assert dispatch(store) == []


def test_nothing_due_without_a_session(store) -> None:
    """An event whose account has no open session is done with, and says so."""
    with session(store.db_url) as s:
        update_account(s, "alice", status="suspended")
    [outcome] = dispatch(store)
    assert not outcome.failed and "no open session" in outcome.text
    assert dispatch(store) == []


def test_a_reactivated_account_is_not_disconnected(store) -> None:
    with session(store.db_url) as s:
        update_account(s, "alice", status="suspended")
        update_account(s, "alice", status="active")
    [outcome] = dispatch(store)
    assert outcome.text == "alice is active again: not disconnected"


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
