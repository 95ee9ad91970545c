"""Where a user is online now: the open session that the landed RADIUS accounting shows,
and the NAS that holds it.

A Disconnect or CoA must name the session the NAS holds at this moment, so this reads the
raw lake itself, on every call, rather than a dbt sessions model that is only as fresh as
its last run. One user's lookup over three months of a 2,000-account lake takes about
0.15 s of DuckDB.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

# The user's latest Start or Interim-Update whose session (NAS, Acct-Session-Id) has no
# Stop, and after which its NAS sent no Accounting-On or -Off (it restarted: every
# session it held is gone). A NAS is its NAS-IP-Address, else the packets' source.
_OPEN_SESSION = """
with records as (
    select
        event_time,
        received_at,
        status_type,
        user_name,
        acct_session_id,
        framed_ip,
        coalesce(nas_ip, source_ip) as nas,
        coalesce(source_ip, nas_ip) as client
    from read_parquet($files, hive_partitioning = false, union_by_name = true)
),

alive as (
    select * from records
    where status_type in ('Start', 'Interim-Update')
        and nas is not null
        and acct_session_id is not null
        and regexp_replace(user_name, '@[^@]*$', '') = $account
)

select user_name, acct_session_id, nas, client, framed_ip, event_time
from alive
where not exists (
        select 1 from records as stop
        where stop.status_type = 'Stop'
            and stop.nas = alive.nas
            and stop.acct_session_id = alive.acct_session_id
    )
    and not exists (
        select 1 from records as restart
        where restart.status_type in ('Accounting-On', 'Accounting-Off')
            and restart.nas = alive.nas
            and restart.event_time > alive.event_time
    )
order by event_time desc, received_at desc
limit 1
"""


@dataclass(frozen=True, slots=True)
class OpenSession:
    """A session as its accounting shows it: `nas_address` is where its NAS takes
    Disconnect and CoA requests, `client_address` the NAS client its accounting came
    from (whose secret signs them), `last_seen` the time of its latest record."""

    user_name: str
    acct_session_id: str
    nas_address: str
    client_address: str
    framed_ip: str | None
    last_seen: datetime

    def attributes(self) -> list[tuple[str, Any]]:
        """What names the session to its NAS (RFC 5176 section 3): User-Name as the NAS
        sent it, Acct-Session-Id, NAS-IP-Address, and Framed-IP-Address when known."""
        named: list[tuple[str, Any]] = [
            ("User-Name", self.user_name),
            ("Acct-Session-Id", self.acct_session_id),
            ("NAS-IP-Address", self.nas_address),
        ]
        if self.framed_ip is not None:
            named.append(("Framed-IP-Address", self.framed_ip))
        return named


def open_session(radius_root: Path, account_id: str) -> OpenSession | None:
    """The latest open session of `account_id` (sent as `account_id` or
    `account_id@realm`) in the landed RADIUS accounting under `radius_root`, or None."""
    if not any(radius_root.glob("date=*/*.parquet")):
        return None
    with duckdb.connect() as con:
        row = con.execute(
            _OPEN_SESSION,
            {"files": str(radius_root / "date=*" / "*.parquet"), "account": account_id},
        ).fetchone()
    if row is None:
        return None
    user_name, session_id, nas, client, framed_ip, seen = row
    return OpenSession(
        user_name=user_name,
        acct_session_id=session_id,
        nas_address=_dotted(nas),
        client_address=_dotted(client),
        framed_ip=None if framed_ip is None else _dotted(framed_ip),
        last_seen=seen,
    )


def _dotted(address: int) -> str:
    return str(ipaddress.IPv4Address(address))
