"""Where a user is online now: the open sessions that the landed RADIUS accounting shows,
and the NAS that holds each.

A Disconnect or CoA must name a session the NAS holds at this moment, so this reads the
raw lake itself, on every call, rather than int_radius_sessions, which is only as fresh
as its last dbt run. It applies that model's rule, with the wall clock (UTC) as as_of:

- A session is one User-Name's Acct-Session-Id on one NAS (its NAS-IP-Address, else the
  packets' source); its account is User-Name before the first '@'. A resent packet
  counts once, as landed first.
- It started at the earliest of its records' times less their Acct-Session-Time (so a
  lost Start is recovered), and was last seen at its latest record.
- It ended at its Stop; at the first Accounting-On or -Off from its NAS after it
  started, unless that came more than the timeout after it was last seen (it had timed
  out first); or once nothing was heard of it for the timeout: dbt_project.yml's
  `radius_session_timeout_hours`.

The user's open sessions are those not ended, the one seen last first: a user may be
online at once from two devices, or through two NAS, and a Disconnect or CoA must reach
each. An open session was seen within the timeout, so the lookup reads only the date
partitions (the UTC date of event_time) from now less the timeout onward, then those
from the earliest start of what it found there onward, for the NAS restarts and Stops
that came before.
"""

from __future__ import annotations

import functools
import ipaddress
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import yaml

from jet.warehouse import DBT_DIR

# int_radius_sessions over `$files`, for one account, left with the sessions not ended.
_OPEN_SESSIONS = """
with records as (
    select
        event_time,
        received_at,
        status_type,
        user_name,
        acct_session_id,
        framed_ip,
        session_time,
        input_octets,
        output_octets,
        coalesce(nas_ip, source_ip) as nas,
        coalesce(source_ip, nas_ip) as client
    from read_parquet($files, hive_partitioning = false, union_by_name = true)
    where status_type in ('Accounting-On', 'Accounting-Off')
        or (status_type in ('Start', 'Interim-Update', 'Stop')
            and split_part(user_name, '@', 1) = $account)
    -- copies of one packet share its attributes, so deduping after the filter is the same
    qualify authenticator is null or row_number() over (
        partition by source_ip, packet_id, authenticator
        order by _landed_at, received_at, _batch_id
    ) = 1
),

nas_events as (
    select nas, event_time
    from records
    where status_type in ('Accounting-On', 'Accounting-Off')
),

sessions as (
    select
        nas,
        acct_session_id,
        user_name,
        min(event_time - to_seconds(coalesce(session_time, 0)::bigint)) as started_at,
        max(event_time) as last_seen_at,
        min(event_time) filter (where status_type = 'Stop') as stopped_at,
        max(received_at) as received_at,
        -- what the latest record says
        arg_max_null(client, (event_time, received_at)) as client,
        arg_max_null(framed_ip, (event_time, received_at)) as framed_ip,
        -- the counters are the session's totals so far (RFC 2866)
        arg_max_null(input_octets, (event_time, received_at)) as bytes_in,
        arg_max_null(output_octets, (event_time, received_at)) as bytes_out
    from records
    where status_type in ('Start', 'Interim-Update', 'Stop')
        and nas is not null
        and acct_session_id is not null
    group by nas, acct_session_id, user_name
),

with_nas_event as (
    select
        sessions.*,
        nas_events.event_time as nas_event_at
    from sessions
    asof left join nas_events
        on sessions.nas = nas_events.nas
        and sessions.started_at < nas_events.event_time
),

closed as (
    select
        *,
        case
            when stopped_at <= coalesce(nas_event_at, stopped_at) then 'stop'
            when nas_event_at <= last_seen_at + to_hours($timeout_hours) then 'nas'
            when last_seen_at < $now - to_hours($timeout_hours) then 'timeout'
        end as end_reason
    from with_nas_event
)

select user_name, acct_session_id, nas, client, framed_ip, bytes_in, bytes_out, last_seen_at,
    started_at
from closed
where end_reason is null
order by last_seen_at desc, received_at desc, nas, acct_session_id
"""


@dataclass(frozen=True, slots=True)
class OpenSession:
    """A session as its accounting shows it: `nas_address` is where its NAS takes
    Disconnect and CoA requests, `client_address` the NAS client its accounting came
    from (whose secret signs them), `last_seen` the time of its latest record, the
    bytes its latest record counts, and when it started."""

    user_name: str
    acct_session_id: str
    nas_address: str
    client_address: str
    framed_ip: str | None
    last_seen: datetime
    started: datetime
    bytes_in: int | None
    bytes_out: int | None

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


def open_sessions(
    radius_root: Path, account_id: str, *, now: datetime | None = None
) -> list[OpenSession]:
    """The open sessions of `account_id` (sent as `account_id` or `account_id@realm`) in
    the landed RADIUS accounting under `radius_root`, as of `now` (the wall clock by
    default), the one seen last first; none if it is not online."""
    if not account_id:  # the model has no account '' (User-Name '@realm')
        return []
    now = datetime.now(UTC) if now is None else now
    timeout = session_timeout()
    days = _date_partitions(radius_root)
    since = (now - timeout).astimezone(UTC).date()
    files: list[str] = []
    rows: list[tuple[Any, ...]] = []
    with duckdb.connect() as con:
        # widened until the files reach back to the start of every session still open
        while (wider := _files(days, since)) != files:
            files = wider
            rows = con.execute(
                _OPEN_SESSIONS,
                {
                    "files": files,
                    "account": account_id,
                    "now": now,
                    "timeout_hours": timeout // timedelta(hours=1),
                },
            ).fetchall()
            since = min([since, *(row[-1].astimezone(UTC).date() for row in rows)])
    return [
        OpenSession(
            user_name=user_name,
            acct_session_id=session_id,
            nas_address=_dotted(nas),
            client_address=_dotted(client),
            framed_ip=None if framed_ip is None else _dotted(framed_ip),
            last_seen=seen,
            started=started,
            bytes_in=bytes_in,
            bytes_out=bytes_out,
        )
        for (
            user_name,
            session_id,
            nas,
            client,
            framed_ip,
            bytes_in,
            bytes_out,
            seen,
            started,
        ) in rows
    ]


@functools.cache
def session_timeout() -> timedelta:
    """How long a session with no Stop stays open with nothing heard of it: the dbt var
    `radius_session_timeout_hours`, whole hours, which int_radius_sessions reads too."""
    path = DBT_DIR / "dbt_project.yml"
    dbt_vars = yaml.safe_load(path.read_text()).get("vars") or {}
    hours = dbt_vars.get("radius_session_timeout_hours")
    if not isinstance(hours, int) or isinstance(hours, bool) or hours <= 0:
        raise ValueError(
            f"{path}: vars.radius_session_timeout_hours must be a whole number of hours "
            f"above 0, got {hours!r}; set it there (int_radius_sessions reads it too)"
        )
    return timedelta(hours=hours)


def _date_partitions(radius_root: Path) -> list[tuple[date, Path]]:
    """The `date=YYYY-MM-DD` folders under `radius_root`, by date; nothing else there."""
    days = []
    for folder in radius_root.glob("date=*"):
        try:
            day = date.fromisoformat(folder.name.removeprefix("date="))
        except ValueError:
            continue
        if folder.is_dir():
            days.append((day, folder))
    return sorted(days)


def _files(days: list[tuple[date, Path]], since: date) -> list[str]:
    """The Parquet files of the partitions from `since` onward."""
    recent = [folder for day, folder in days if day >= since]
    return [str(file) for folder in recent for file in sorted(folder.glob("*.parquet"))]


def _dotted(address: int) -> str:
    return str(ipaddress.IPv4Address(address))
