"""Delivering the outbox's events to their subscribers: each event reaches every
subscriber that wants its topic at least once, in order per account, with retries that
back off and a dead-letter state.

A `Subscriber` is declared in the layer that talks to its system (RADIUS Disconnect and
CoA in `ingest.radius`, the event feed in `reports`), and all of them in one place,
`jet.drivers.subscribers`. For each subscriber an event gets an `EventDelivery` row the
first time a dispatcher looks (one statement for any number of events, and a subscriber
added later receives the events before it too). A dispatcher claims up to a
subscriber's `batch` of deliveries by moving their `next_attempt_at` ahead in a
statement of its own, so two dispatchers never deliver one together and one that dies
mid-delivery leaves it to the next once the claim runs out; it then calls the
subscriber for each and records the batch's `Result`s together, only where its claim
still holds:

- `Delivered`: done (`delivered`).
- `Failed`: tried again after 30 s, then 1, 2, 4 ... minutes (at most an hour apart);
  after `DEAD_AFTER` failed attempts, or once the event is `GIVE_UP_AFTER` past its
  due time, it is `dead` and waits for `jet events retry`.
- `Later`: not yet (the subscriber's own reason); no attempt is counted.

Order: a subscriber gets an account's event only once it is done (delivered or dead)
with every event of that account that took effect before it (its `due_at`, else when
it was written; then by id); an event due later (a plan change from a later day) holds
nothing up until its day. Delivery is at least once, so subscribers are idempotent: a
crash after a subscriber acted and before the batch is recorded repeats that batch.
Each subscriber is served by a thread of its own, so a NAS that does not answer holds
up only the RADIUS deliveries.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, exists, func, insert, literal, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session, aliased

from jet.config import Settings
from jet.store.db import session
from jet.store.models import Event, EventDelivery

FIRST_RETRY = timedelta(seconds=30)
LONGEST_WAIT = timedelta(hours=1)
DEAD_AFTER = 12  # failed attempts: about 5 hours of backing off (30 s, 1, 2 ... 32 min, 1 h x4)
GIVE_UP_AFTER = timedelta(days=1)
# How long a transaction that writes events may stay open: PostgreSQL numbers events as
# they are inserted, so one may commit after a later-numbered one that was seen.
LATE_COMMIT = timedelta(hours=1)

Now = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class Delivered:
    outcome: str
    refused: bool = False  # the system answered no (a NAK): final, nothing to retry, told


@dataclass(frozen=True, slots=True)
class Failed:
    outcome: str
    progress: dict[str, Any] | None = None  # kept for the next attempt


@dataclass(frozen=True, slots=True)
class Later:
    at: datetime
    outcome: str


Result = Delivered | Failed | Later


@dataclass(frozen=True, slots=True)
class Subscriber:
    """What wants events: its `name` (stored with each delivery), the `topics` it takes,
    `deliver(settings, event, progress)`, how many deliveries are claimed and recorded
    together (`batch`: a crash repeats at most that many) and how long they may take
    (`claim`), `prepare`, given a batch's events before they are delivered (to read what
    they need in one go), and `flush`, which makes a batch's deliveries durable before
    they are recorded as done."""

    name: str
    topics: frozenset[str]
    deliver: Callable[[Settings, Event, dict[str, Any]], Result]
    claim: timedelta = timedelta(minutes=2)
    batch: int = 1
    flush: Callable[[], None] | None = None
    prepare: Callable[[Settings, list[Event]], None] | None = None


@dataclass(frozen=True, slots=True)
class Report:
    """What became of one delivery in a dispatch."""

    subscriber: str
    event_id: int
    topic: str
    account_id: str | None
    result: Result
    dead: bool = False

    @property
    def went_wrong(self) -> bool:
        """Whether someone should hear of it: it failed (and died, maybe), or was refused."""
        return isinstance(self.result, Failed) or getattr(self.result, "refused", False)


def dispatch(
    settings: Settings,
    subscribers: Iterable[Subscriber],
    account_id: str | None = None,
    stop: threading.Event | None = None,
    now: Now = lambda: datetime.now(UTC),
) -> list[Report]:
    """Deliver every due event (only `account_id`'s, if given) to each subscriber, each
    in a thread of its own, until nothing more is due or `stop` is set; what became of
    each delivery, by subscriber."""
    stop = stop or threading.Event()
    done = _each_in_a_thread(
        subscribers,
        lambda one: [r for batch in _batches(settings, one, account_id, stop, now) for r in batch],
    )
    return [report for reports in done for report in reports]


def dispatch_forever(
    settings: Settings,
    subscribers: list[Subscriber],
    every: float,
    stop: threading.Event,
    log: logging.Logger,
) -> None:
    """Deliver what is due to each subscriber, in a thread of its own, every `every`
    seconds until `stop` is set (noticed between deliveries), logging what became of each
    delivery as its batch is recorded; `jet events dispatch --forever` and a thread of
    `jet radius serve`."""
    log.info("events: delivering to %s every %g s", ", ".join(s.name for s in subscribers), every)

    def serve(subscriber: Subscriber) -> None:
        while not stop.is_set():
            try:
                for batch in _batches(settings, subscriber, None, stop, lambda: datetime.now(UTC)):
                    for report in batch:
                        level = logging.WARNING if report.went_wrong else logging.INFO
                        log.log(level, describe(report))
            except Exception:  # the store failed: say so, and try again later
                log.exception("events: delivering to %s failed", subscriber.name)
            stop.wait(every)

    _each_in_a_thread(subscribers, serve)


def _each_in_a_thread(subscribers: Iterable[Subscriber], work: Callable[[Subscriber], Any]) -> list:
    """`work` for each subscriber, each in a daemon thread (a process that ends does not
    wait for a NAS's answer); the results in the subscribers' order, or the first error."""
    subscribers = list(subscribers)
    done: dict[str, Any] = {}

    def run(subscriber: Subscriber) -> None:
        try:
            done[subscriber.name] = work(subscriber)
        except BaseException as err:  # raised below, in the caller's thread
            done[subscriber.name] = err

    threads = [
        threading.Thread(target=run, args=(one,), name=f"deliver-{one.name}", daemon=True)
        for one in subscribers
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for got in done.values():
        if isinstance(got, BaseException):
            raise got
    return [done[one.name] for one in subscribers]


def _batches(
    settings: Settings,
    subscriber: Subscriber,
    account_id: str | None,
    stop: threading.Event,
    now: Now,
) -> Iterator[list[Report]]:
    """Open the subscriber's deliveries, then deliver batch after batch until none is
    due (what is left waits for a retry, a claim or its day) or `stop` is set."""
    open_deliveries(settings.db_url, subscriber, now())
    while not stop.is_set():
        batch = _deliver_batch(settings, subscriber, account_id, stop, now)
        if not batch:
            return
        yield batch


def open_deliveries(db_url: str, subscriber: Subscriber, now: datetime | None = None) -> int:
    """A pending delivery for each event of the subscriber's topics that has none, in
    one statement; it looks at the events after the last one it has a delivery for, and
    at those written in the last `LATE_COMMIT`."""
    cutoff = (now or datetime.now(UTC)) - LATE_COMMIT
    with session(db_url) as s:  # read apart from the insert: SQLite locks it from the start
        last = max(
            s.scalar(
                select(func.max(EventDelivery.event_id)).where(
                    EventDelivery.subscriber == subscriber.name, EventDelivery.status == status
                )
            )
            or 0
            for status in ("pending", "delivered", "dead")  # an index seek each
        )
        # `+ 0`: SQLite would walk the whole table by id instead of the created_at index
        recent = s.scalar(select(func.min(Event.id + 0)).where(Event.created_at >= cutoff))
    since = min(last, recent - 1) if recent is not None else last
    missing = select(Event.id, literal(subscriber.name), literal("pending"), literal(0)).where(
        Event.id > since,
        Event.topic.in_(sorted(subscriber.topics)),
        ~exists().where(
            EventDelivery.event_id == Event.id, EventDelivery.subscriber == subscriber.name
        ),
    )
    columns, table = ["event_id", "subscriber", "status", "attempts"], EventDelivery.__table__
    with session(db_url) as s:
        if s.get_bind().dialect.name == "postgresql":  # two dispatchers may open one at once
            statement = pg_insert(table).from_select(columns, missing).on_conflict_do_nothing()
        else:  # SQLite runs one writing statement at a time
            statement = insert(table).from_select(columns, missing)
        return s.execute(statement.execution_options(preserve_rowcount=True)).rowcount


@dataclass(frozen=True, slots=True)
class _Claimed:
    event: Event
    attempts: int
    progress: dict[str, Any]
    outcome: str | None


def _deliver_batch(
    settings: Settings,
    subscriber: Subscriber,
    account_id: str | None,
    stop: threading.Event,
    now: Now,
) -> list[Report]:
    """Claim up to a batch of due deliveries, deliver them and record how they went;
    what became of each (none: nothing was due)."""
    until = now() + subscriber.claim
    with session(settings.db_url) as s:
        claimed = _claim(s, subscriber, account_id, now(), until)
    if subscriber.prepare is not None and claimed:
        subscriber.prepare(settings, [one.event for one in claimed])
    results: list[tuple[_Claimed, Result]] = []
    for one in claimed:
        if stop.is_set():
            break  # the rest is released below, due at once for the next dispatcher
        try:
            result = subscriber.deliver(settings, one.event, one.progress)
        except Exception as err:  # a bug or an outage: say so on the delivery, try again
            result = Failed(f"{type(err).__name__}: {err}")
        results.append((one, result))
    if subscriber.flush is not None and results:
        try:
            subscriber.flush()
        except OSError as err:  # done, perhaps, but not for sure: do it again
            results = [(one, Failed(f"not made durable: {err}")) for one, _ in results]
    settled = [_settled(one, result, now()) for one, result in results]
    released = [_released(one) for one in claimed[len(results) :]]
    with session(settings.db_url) as s:
        _record(s, subscriber.name, until, settled + released)
    return [
        Report(subscriber.name, one.event.id, one.event.topic, one.event.account_id, result,
               row["b_status"] == "dead")
        for (one, result), row in zip(results, settled, strict=True)
    ]  # fmt: skip


def _claim(
    s: Session, subscriber: Subscriber, account_id: str | None, now: datetime, until: datetime
) -> list[_Claimed]:
    """Move the next attempt of up to a batch of due deliveries to `until`, oldest first:
    pending, not claimed or waiting, their event due, and no earlier event of its account
    still pending for this subscriber."""
    due, earlier_d, earlier_e = aliased(EventDelivery), aliased(EventDelivery), aliased(Event)
    took_effect = func.coalesce(Event.due_at, Event.created_at)
    earlier_took_effect = func.coalesce(earlier_e.due_at, earlier_e.created_at)
    blocked = exists().where(  # the account's events first, each then looked up
        earlier_e.account_id == Event.account_id,
        or_(
            earlier_took_effect < took_effect,
            and_(earlier_took_effect == took_effect, earlier_e.id < Event.id),
        ),
        exists().where(
            earlier_d.subscriber == subscriber.name,
            earlier_d.status == "pending",
            earlier_d.event_id == earlier_e.id,
        ),
    )
    ready = select(due.event_id).join(Event, Event.id == due.event_id)
    ready = ready.where(
        due.subscriber == subscriber.name,
        due.status == "pending",
        _ready(due, now),
        or_(Event.due_at.is_(None), Event.due_at <= now),
        ~blocked,
    )
    if account_id is not None:
        ready = ready.where(Event.account_id == account_id)
    rows = s.execute(
        update(EventDelivery)
        .where(
            EventDelivery.subscriber == subscriber.name,
            EventDelivery.event_id.in_(ready.order_by(due.event_id).limit(subscriber.batch)),
            EventDelivery.status == "pending",
            _ready(EventDelivery, now),
        )
        .values(next_attempt_at=until)
        .returning(
            EventDelivery.event_id,
            EventDelivery.attempts,
            EventDelivery.progress,
            EventDelivery.outcome,
        )
        .execution_options(synchronize_session=False)
    ).all()
    events = {e.id: e for e in s.scalars(select(Event).where(Event.id.in_([r[0] for r in rows])))}
    s.expunge_all()
    return [
        _Claimed(events[event_id], attempts, progress or {}, outcome)
        for event_id, attempts, progress, outcome in sorted(rows, key=lambda r: r[0])
    ]


def _settled(one: _Claimed, result: Result, now: datetime) -> dict[str, Any]:
    """The delivery's columns after `result`."""
    row = _released(one) | {"b_outcome": result.outcome[:500]}
    if isinstance(result, Delivered):
        return row | {"b_status": "delivered", "b_attempts": one.attempts + 1, "b_delivered": now}
    if isinstance(result, Later):  # an `at` already past waits a second, not a busy loop
        return row | {"b_next": max(_utc(result.at), now + timedelta(seconds=1))}
    attempts = one.attempts + 1
    took_effect = _utc(one.event.due_at or one.event.created_at)
    dead = attempts >= DEAD_AFTER or now - took_effect > GIVE_UP_AFTER
    return row | {
        "b_status": "dead" if dead else "pending",
        "b_attempts": attempts,
        "b_next": None if dead else now + backoff(attempts),
        "b_progress": result.progress if result.progress is not None else one.progress,
    }


def _released(one: _Claimed) -> dict[str, Any]:
    """The delivery's columns as they were before the claim, due at once."""
    return {
        "b_event": one.event.id,
        "b_status": "pending",
        "b_attempts": one.attempts,
        "b_next": None,
        "b_delivered": None,
        "b_outcome": one.outcome,
        "b_progress": one.progress or None,
    }


def _record(s: Session, subscriber: str, claimed: datetime, rows: Sequence[dict]) -> None:
    """Write the deliveries' new columns where this dispatcher's claim still holds (one
    whose claim ran out and was taken over records nothing: the other one does)."""
    if not rows:
        return
    table = EventDelivery.__table__
    s.execute(
        update(table)
        .where(
            table.c.event_id == bindparam("b_event"),
            table.c.subscriber == subscriber,
            table.c.next_attempt_at == claimed,
        )
        .values(
            status=bindparam("b_status"),
            attempts=bindparam("b_attempts"),
            next_attempt_at=bindparam("b_next", type_=table.c.next_attempt_at.type),
            delivered_at=bindparam("b_delivered", type_=table.c.delivered_at.type),
            outcome=bindparam("b_outcome"),
            progress=bindparam("b_progress", type_=table.c.progress.type),
        ),
        list(rows),
    )


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt: 30 s, doubling, at most an hour."""
    return min(FIRST_RETRY * 2 ** (attempts - 1), LONGEST_WAIT)


def _ready(delivery, now: datetime):
    return or_(delivery.next_attempt_at.is_(None), delivery.next_attempt_at <= now)


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def describe(report: Report) -> str:
    """One line of what became of a delivery."""
    if report.dead:
        state = "dead (`jet events retry` when fixed)"
    elif isinstance(report.result, Failed):
        state = "failed, will retry"
    elif isinstance(report.result, Later):
        state = f"waits until {report.result.at:%Y-%m-%d %H:%M} UTC"
    else:
        state = "refused" if report.result.refused else "delivered"
    return (
        f"event {report.event_id} {report.topic} ({report.account_id or '-'}) to "
        f"{report.subscriber}: {state}: {report.result.outcome}"
    )
