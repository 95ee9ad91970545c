"""Delivering events to subscribers: each once, in order per account, retried with a
backoff, dead after enough failures, retried by hand, never two at once, and a crash
repeats at most a batch."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select, update

from jet.deliveries import (
    DEAD_AFTER,
    GIVE_UP_AFTER,
    LATE_COMMIT,
    Delivered,
    Failed,
    Later,
    Subscriber,
    backoff,
    dispatch,
    open_deliveries,
)
from jet.delivery_states import EventError, deliveries, retry, status_of
from jet.outbox import event_row, publish
from jet.store.db import session
from jet.store.models import Event, EventDelivery


class Crash(BaseException):
    """The dispatcher's process dying mid-batch."""


class Recorder:
    """A subscriber that records what it gets and answers as told (by account)."""

    def __init__(self, name: str = "recorder", topics=("account.updated",), **options) -> None:
        self.got: list[tuple[int, str | None]] = []
        self.answer: dict[str | None, object] = {}
        self.subscriber = Subscriber(name, frozenset(topics), self.deliver, **options)

    def deliver(self, settings, event, progress):
        self.got.append((event.id, event.account_id))
        answer = self.answer.get(event.account_id, "ok")
        if answer == "fail":
            return Failed("the system is down", {"tried": progress.get("tried", 0) + 1})
        if answer == "crash":
            raise Crash
        if isinstance(answer, datetime):
            return Later(answer, "not yet")
        if isinstance(answer, float):
            time.sleep(answer)
        if callable(answer):
            answer()
        return Delivered("done")


def announce(settings, *accounts: str, topic: str = "account.updated", due=None) -> list[int]:
    """Publish one event per account; the ids of all events so far."""
    with session(settings.db_url) as s:
        for account in accounts:
            publish(s, topic, account, {"account": account}, due_at=due)
    with session(settings.db_url) as s:
        return list(s.scalars(select(Event.id).order_by(Event.id)))


def test_each_event_reaches_each_subscriber_once(settings) -> None:
    first, second = Recorder("first"), Recorder("second", ("account.updated", "plan.changed"))
    ids = announce(settings, "a", "b")
    announce(settings, "a", topic="plan.changed")
    reports = dispatch(settings, [first.subscriber, second.subscriber])
    assert first.got == [(ids[0], "a"), (ids[1], "b")]
    assert [e for e, _ in second.got] == [ids[0], ids[1], ids[1] + 1]
    assert all(isinstance(r.result, Delivered) for r in reports) and len(reports) == 5
    assert [r.subscriber for r in reports] == ["first"] * 2 + ["second"] * 3
    assert dispatch(settings, [first.subscriber, second.subscriber]) == []


def test_an_account_waits_for_its_earlier_event_others_do_not(settings) -> None:
    sub = Recorder()
    sub.answer["a"] = "fail"
    ids = announce(settings, "a", "a", "b")
    [failed, delivered] = dispatch(settings, [sub.subscriber])
    assert (failed.event_id, delivered.event_id) == (ids[0], ids[2])
    assert isinstance(failed.result, Failed) and not failed.dead
    assert sub.got == [(ids[0], "a"), (ids[2], "b")]  # a's second waits behind its first
    sub.answer["a"] = "ok"
    _make_due(settings)
    dispatch(settings, [sub.subscriber])
    assert sub.got[2:] == [(ids[0], "a"), (ids[1], "a")]


def test_an_account_s_events_go_in_the_order_they_took_effect(settings) -> None:
    """An event written a week ago but due yesterday goes after one written three days
    ago, though its id is lower, and before one written an hour ago."""
    sub = Recorder()
    now = datetime.now(UTC)
    with session(settings.db_url) as s:
        rows = [
            event_row("account.updated", "a", {}, due_at=now - timedelta(days=1),
                      at=now - timedelta(days=7)),
            event_row("account.updated", "a", {}, at=now - timedelta(days=3)),
            event_row("account.updated", "a", {}, at=now - timedelta(hours=1)),
        ]  # fmt: skip
        s.execute(insert(Event), rows)
    dispatch(settings, [sub.subscriber])
    assert [event_id for event_id, _ in sub.got] == [2, 1, 3]


def test_failures_back_off_keep_progress_then_die_and_can_be_retried(settings) -> None:
    sub = Recorder()
    sub.answer["a"] = "fail"
    [event_id] = announce(settings, "a")
    for attempt in range(1, DEAD_AFTER + 1):
        [report] = dispatch(settings, [sub.subscriber])
        [(delivery, _)] = deliveries(settings.db_url)
        assert delivery.attempts == attempt and delivery.progress == {"tried": attempt}
        if attempt < DEAD_AFTER:
            assert status_of(delivery) == "failed"
            wait = _utc(delivery.next_attempt_at) - datetime.now(UTC)
            assert backoff(attempt) - timedelta(seconds=5) < wait <= backoff(attempt)
            assert dispatch(settings, [sub.subscriber]) == []  # not due yet
            _make_due(settings)
    assert report.dead and delivery.status == "dead"
    assert [d.status for d, _ in deliveries(settings.db_url, "dead")] == ["dead"]
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 7, 8, 20)] == [
        30, 60, 120, 1920, 3600, 3600
    ]  # fmt: skip

    sub.answer["a"] = "ok"
    assert retry(settings.db_url, event_id) == 1
    assert [d.attempts for d, _ in deliveries(settings.db_url, "pending")] == [0]
    [report] = dispatch(settings, [sub.subscriber])
    assert isinstance(report.result, Delivered)
    assert deliveries(settings.db_url, "dead") == []
    assert retry(settings.db_url, event_id) == 0  # nothing dead or failed left
    with pytest.raises(EventError, match="there is no event 99"):
        retry(settings.db_url, 99)


def test_a_day_past_its_due_time_one_failure_is_dead(settings) -> None:
    sub = Recorder()
    sub.answer["a"] = sub.answer["b"] = "fail"
    week_ago = datetime.now(UTC) - timedelta(days=7)
    with session(settings.db_url) as s:
        s.execute(insert(Event), [
            event_row("account.updated", "a", {}, at=week_ago),
            event_row("account.updated", "b", {}, at=week_ago, due_at=datetime.now(UTC)),
        ])  # fmt: skip
    old, due_today = dispatch(settings, [sub.subscriber])
    assert old.dead and not due_today.dead  # GIVE_UP_AFTER counts from when it took effect
    assert timedelta(days=1) == GIVE_UP_AFTER


def test_an_event_due_later_waits_and_holds_nothing_up(settings) -> None:
    sub = Recorder()
    later = datetime.now(UTC) + timedelta(days=2)
    first = announce(settings, "a", due=later)[0]
    second = announce(settings, "a")[1]
    dispatch(settings, [sub.subscriber])
    assert sub.got == [(second, "a")]
    with session(settings.db_url) as s:
        s.get(Event, first).due_at = datetime.now(UTC) - timedelta(seconds=1)
    dispatch(settings, [sub.subscriber])
    assert sub.got == [(second, "a"), (first, "a")]


def test_a_subscriber_may_say_later_without_using_an_attempt(settings) -> None:
    sub = Recorder()
    sub.answer["a"] = datetime.now(UTC) + timedelta(hours=1)
    sub.answer["b"] = datetime.now(UTC) - timedelta(hours=1)  # past: waits, no busy loop
    announce(settings, "a", "a", "b")
    reports = dispatch(settings, [sub.subscriber])
    assert [(r.account_id, type(r.result)) for r in reports] == [("a", Later), ("b", Later)]
    assert {(d.attempts, d.status) for d, _ in deliveries(settings.db_url)} == {(0, "pending")}
    assert dispatch(settings, [sub.subscriber]) == []  # a's second waits behind its first


def test_deliveries_are_opened_once_for_every_event_even_a_late_commit(settings) -> None:
    """One statement for any number of events; a subscriber added later gets the events
    before it; an event numbered before the last one seen, committed late (PostgreSQL
    numbers events at insert), is found if it was written within LATE_COMMIT."""
    sub = Recorder(batch=500)
    with session(settings.db_url) as s:
        s.execute(insert(Event), [event_row("account.updated", f"u{i}", {}) | {"id": 100 + i}
                                  for i in range(1000)])  # fmt: skip
    assert open_deliveries(settings.db_url, sub.subscriber) == 1000
    assert open_deliveries(settings.db_url, sub.subscriber) == 0
    later = Recorder("later", batch=500)
    assert len(dispatch(settings, [later.subscriber])) == 1000
    too_late = datetime.now(UTC) - LATE_COMMIT - timedelta(minutes=1)
    with session(settings.db_url) as s:
        s.execute(update(Event).values(created_at=too_late))
        s.execute(insert(Event).values(**event_row("account.updated", "late", {}) | {"id": 50}))
        s.execute(insert(Event).values(**event_row("account.updated", "lost", {}, at=too_late)
                                       | {"id": 40}))  # fmt: skip
    assert open_deliveries(settings.db_url, sub.subscriber) == 1
    assert [d.event_id for d, _ in deliveries(settings.db_url, account_id="late")] == [50]
    assert deliveries(settings.db_url, account_id="lost") == []


def test_two_dispatchers_never_deliver_one_delivery_together(settings) -> None:
    sub = Recorder(batch=5)
    for account in ("a", "b", "c", "d"):
        sub.answer[account] = 0.002
    ids = announce(settings, *[account for account in "abcd" for _ in range(10)])
    threads = [threading.Thread(target=dispatch, args=(settings, [sub.subscriber]))
               for _ in range(4)]  # fmt: skip
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(event_id for event_id, _ in sub.got) == ids
    for account in "abcd":  # and each account's in order
        mine = [event_id for event_id, who in sub.got if who == account]
        assert mine == sorted(mine)


def test_a_claimed_delivery_waits_for_its_claim_to_run_out(settings) -> None:
    sub = Recorder()
    announce(settings, "a")
    open_deliveries(settings.db_url, sub.subscriber)
    with session(settings.db_url) as s:  # another dispatcher holds it
        s.execute(
            update(EventDelivery).values(next_attempt_at=datetime.now(UTC) + sub.subscriber.claim)
        )
    assert dispatch(settings, [sub.subscriber]) == [] and sub.got == []
    later = datetime.now(UTC) + sub.subscriber.claim + timedelta(seconds=1)
    assert len(dispatch(settings, [sub.subscriber], now=lambda: later)) == 1


def test_a_crash_mid_batch_repeats_that_batch_and_no_more(settings) -> None:
    sub = Recorder(batch=4)
    ids = announce(settings, "a", "b", "c", "d", "e", "f", "g", "h")
    sub.answer["g"] = "crash"
    with pytest.raises(Crash):
        dispatch(settings, [sub.subscriber])
    assert [event_id for event_id, _ in sub.got] == ids[:7]  # the first batch recorded
    assert {status_of(d) for d, _ in deliveries(settings.db_url) if d.event_id <= ids[3]} == {
        "delivered"
    }
    sub.answer["g"] = "ok"
    assert dispatch(settings, [sub.subscriber]) == []  # the second batch is still claimed
    after_claim = datetime.now(UTC) + sub.subscriber.claim + timedelta(seconds=1)
    assert len(dispatch(settings, [sub.subscriber], now=lambda: after_claim)) == 4
    assert [event_id for event_id, _ in sub.got[7:]] == ids[4:]  # e and f twice


def test_a_stop_ends_a_batch_and_frees_the_rest_for_the_next(settings) -> None:
    stop = threading.Event()
    sub = Recorder(batch=10)
    sub.answer["b"] = stop.set
    ids = announce(settings, "a", "b", "c")
    reports = dispatch(settings, [sub.subscriber], stop=stop)
    assert [r.event_id for r in reports] == ids[:2]
    [(c, _)] = deliveries(settings.db_url, "pending")
    assert c.event_id == ids[2] and c.next_attempt_at is None and c.attempts == 0
    assert [r.event_id for r in dispatch(settings, [sub.subscriber])] == [ids[2]]


def test_a_batch_is_flushed_before_it_counts_and_redone_if_that_fails(settings) -> None:
    flushed: list[int] = []

    def flush() -> None:
        flushed.append(len(sub.got))
        if len(flushed) == 1:
            raise OSError("disk full")

    sub = Recorder(batch=3, flush=flush)
    announce(settings, "a", "b")
    reports = dispatch(settings, [sub.subscriber])
    assert [r.result.outcome for r in reports] == ["not made durable: disk full"] * 2
    _make_due(settings)
    assert all(isinstance(r.result, Delivered) for r in dispatch(settings, [sub.subscriber]))
    assert flushed == [2, 4]


def test_listing_by_status(settings) -> None:
    sub = Recorder()
    sub.answer["b"] = "fail"
    announce(settings, "a", "b", "c")
    with session(settings.db_url) as s:
        s.execute(insert(Event).values(**event_row("account.updated", "a", {})))
    sub.answer["a"] = datetime.now(UTC) + timedelta(hours=1)
    dispatch(settings, [sub.subscriber])
    by_status = {st: [e.account_id for _, e in deliveries(settings.db_url, st)]
                 for st in ("pending", "failed", "dead", "delivered")}  # fmt: skip
    assert by_status == {"pending": ["a", "a"], "failed": ["b"], "dead": [], "delivered": ["c"]}
    assert [e.id for _, e in deliveries(settings.db_url, account_id="a")] == [4, 1]


def _make_due(settings) -> None:
    with session(settings.db_url) as s:
        s.execute(
            update(EventDelivery).values(next_attempt_at=datetime.now(UTC) - timedelta(seconds=1))
        )


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
