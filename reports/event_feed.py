"""The event feed: every event, as one JSON line in `$JET_HOME/events/YYYY-MM-DD.jsonl`
(the UTC day it was written), for integrations that read files rather than the store
(a CRM, a data lake, `tail -f`).

A subscriber of every topic (`jet.deliveries`), writing files as the other reports do.
Delivery is at least once, so an event delivered again (a dispatcher died after writing
it and before recording that) is not written again: each line starts with its event's
id, and the feed reads which ids a day's file holds once, then only what was appended
since. A line is written whole (one `write` under `O_APPEND`), and a batch's files are
fsynced before its deliveries count as done. The files hold customers' details (e-mail,
phone, address), so only their owner and group may read them."""

from __future__ import annotations

import json
import os
import re
from datetime import UTC
from pathlib import Path
from typing import Any

from jet.config import Settings
from jet.deliveries import Delivered, Result, Subscriber
from jet.outbox import TOPICS
from jet.store.models import Event

# json.dumps of a dict whose first key is "id", as `Feed.deliver` writes it.
_ID = re.compile(rb'^\{"id": (\d+),', re.MULTILINE)
_FILES_KEPT = 2  # the ids of today's file and yesterday's (events written just before 0:00)


def subscriber() -> Subscriber:
    feed = Feed()
    return Subscriber("feed", frozenset(TOPICS), feed.deliver, batch=500, flush=feed.flush)


class Feed:
    """Appends events to the day's file, remembering which ids each file holds."""

    def __init__(self) -> None:
        self._ids: dict[Path, tuple[int, set[int]]] = {}  # bytes read, ids in them
        self._unsynced: set[Path] = set()

    def deliver(self, settings: Settings, event: Event, progress: dict[str, Any]) -> Result:
        created = event.created_at
        created = created if created.tzinfo else created.replace(tzinfo=UTC)
        path = settings.root / "events" / f"{created.date().isoformat()}.jsonl"
        if event.id in self._held(path):
            return Delivered(f"already in {path.name}")
        record = {
            "id": event.id,
            "topic": event.topic,
            "account": event.account_id,
            "at": created.isoformat(),
            "payload": event.payload,
        }
        data = (json.dumps(record) + "\n").encode()
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            if os.write(fd, data) != len(data):
                raise OSError(f"{path} took part of a line: is the disk full?")
        finally:
            os.close(fd)
        self._unsynced.add(path)
        self._ids[path][1].add(event.id)
        return Delivered(f"written to {path.name}")

    def flush(self) -> None:
        """fsync the files written since the last flush."""
        for path in sorted(self._unsynced):
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        self._unsynced.clear()

    def _held(self, path: Path) -> set[int]:
        """The ids of the events in the file: those read before, and the whole lines
        appended since (by this feed or another process's)."""
        read, ids = self._ids.pop(path, (0, set()))
        if path.exists():
            with path.open("rb") as feed:
                feed.seek(read)
                appended = feed.read()
            whole = appended.rfind(b"\n") + 1
            ids.update(int(found) for found in _ID.findall(appended, 0, whole))
            read += whole
        self._ids[path] = (read, ids)  # the latest used last, so the oldest goes first
        while len(self._ids) > _FILES_KEPT:
            del self._ids[next(iter(self._ids))]
        return ids
