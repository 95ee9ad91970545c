"""Customers online, for the tests of Disconnect and CoA: a session's Start (and its
Stop, if it ended) landed in the raw RADIUS lake as `jet radius serve` lands it, where
the RADIUS subscriber looks for open sessions."""

from __future__ import annotations

import ipaddress
import uuid
from datetime import UTC, datetime, timedelta

import pyarrow as pa

from ingest.landing import land
from jet.config import Settings
from schemas.raw import RADIUS


def online(
    settings: Settings,
    user: str,
    nas: str = "127.0.0.1",
    *,
    session_id: str | None = None,
    minutes_ago: int = 5,
    framed_ip: str | None = None,
    stopped: bool = False,
) -> str:
    """Land a Start of a session of `user` at `nas`, `minutes_ago` (and a Stop now, if
    `stopped`); its Acct-Session-Id."""
    session_id = session_id or uuid.uuid4().hex[:12]
    now, address = datetime.now(UTC), int(ipaddress.IPv4Address(nas))
    row = {
        "user_name": user,
        "acct_session_id": session_id,
        "nas_ip": address,
        "source_ip": address,
        "framed_ip": int(ipaddress.IPv4Address(framed_ip)) if framed_ip else None,
        "received_at": now,
    }
    rows = [{**row, "status_type": "Start", "event_time": now - timedelta(minutes=minutes_ago)}]
    if stopped:
        rows.append({**row, "status_type": "Stop", "event_time": now})
    land("radius", pa.Table.from_pylist(rows, schema=RADIUS), session_id, settings.raw)
    return session_id
