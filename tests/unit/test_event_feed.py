"""The event feed: one JSON line per event in the day's file, written once however often
the event is delivered, by this feed or by one started afresh after a crash."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from jet.deliveries import Delivered
from jet.store.models import Event
from reports import event_feed


def event(event_id: int, at: datetime, account: str = "alice") -> Event:
    return Event(id=event_id, topic="account.suspended", account_id=account,
                 payload={"account": account, "status": "suspended"}, created_at=at)  # fmt: skip


def lines(settings, day: str) -> list[dict]:
    path = settings.root / "events" / f"{day}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_each_event_is_written_once_to_the_day_it_was_written(settings) -> None:
    feed = event_feed.subscriber()
    noon = datetime(2026, 3, 1, 12, tzinfo=UTC)
    first, second = event(1, noon), event(2, noon + timedelta(days=1), "bob")
    results = [feed.deliver(settings, e, {}) for e in (first, second, first)]
    assert [r.outcome for r in results] == [
        "written to 2026-03-01.jsonl", "written to 2026-03-02.jsonl",
        "already in 2026-03-01.jsonl",
    ]  # fmt: skip
    assert all(isinstance(r, Delivered) for r in results)
    feed.flush()
    assert lines(settings, "2026-03-01") == [
        {"id": 1, "topic": "account.suspended", "account": "alice",
         "at": "2026-03-01T12:00:00+00:00",
         "payload": {"account": "alice", "status": "suspended"}},
    ]  # fmt: skip
    assert [line["id"] for line in lines(settings, "2026-03-02")] == [2]


def test_a_feed_started_afresh_finds_what_was_written_before(settings) -> None:
    """After a crash the next dispatcher's feed reads the file it would write to; lines
    another process appends meanwhile are read too, a line cut short is not."""
    noon = datetime(2026, 3, 1, 12, tzinfo=UTC)
    before = event_feed.subscriber()
    for event_id in range(1, 1001):
        before.deliver(settings, event(event_id, noon), {})
    path = settings.root / "events" / "2026-03-01.jsonl"
    with path.open("ab") as feed:
        feed.write(b'{"id": 2000, "topic"')  # being written by another process
    after = event_feed.subscriber()
    assert after.deliver(settings, event(500, noon), {}).outcome.startswith("already in")
    with path.open("ab") as feed:
        feed.write(b': "account.updated"}\n')
    assert after.deliver(settings, event(2000, noon), {}).outcome.startswith("already in")
    assert after.deliver(settings, event(1001, noon), {}).outcome.startswith("written to")
    assert [line["id"] for line in lines(settings, "2026-03-01")] == [*range(1, 1001), 2000, 1001]
