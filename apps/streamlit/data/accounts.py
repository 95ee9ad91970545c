"""Finding an account, and everything its page shows, within the staff member's realms.

What people and payments change is read through the core's own functions
(`jet.account_views`); usage and sessions come from the marts and the landed RADIUS
accounting. An account of a realm the staff member is not given reads as not found, and
the attempt is audited (`jet.roles.check`)."""

from __future__ import annotations

import ipaddress
import re
from contextlib import suppress
from datetime import UTC, date, datetime, timedelta
from typing import Any

import duckdb
import polars as pl

from apps.streamlit.data.guard import AccountNotFound, account_realm, may
from apps.streamlit.data.marts import SCOPED, frame, has, in_scope
from ingest.radius.open_sessions import open_sessions
from jet.account_views import account_detail, find_accounts, payments
from jet.config import Settings
from jet.roles import Staff, check
from jet.store.db import session
from reports.issued_invoices import pdf_path

SEARCH_LIMIT = 50
RECENT_DAYS = 7  # how far back an address or a MAC is looked for in the sessions
USAGE_DAYS = 92  # the usage chart's days


def search_accounts(
    settings: Settings, staff: Staff, text: str, limit: int = SEARCH_LIMIT
) -> pl.DataFrame:
    """Accounts whose login, name, e-mail, parent, static address or assigned network holds
    `text`; with an IP address, also those whose RADIUS session had it in the last
    `RECENT_DAYS` days; with a MAC address, those whose sessions came from it (Calling-
    Station-Id). At most `limit`, in the staff member's realms; the exact id of another
    realm's account finds nothing, like any other text, and is audited as an attempt."""
    may(settings, staff, "account.read")
    online = _by_session_address(settings, staff, text)
    with session(settings.db_url) as s:
        rows = find_accounts(s, search=text, realms=staff.realms, limit=limit)
        known = {r["id"] for r in rows}
        if text not in known:
            with suppress(AccountNotFound):
                account_realm(s, staff, "account.read", text)  # audits another realm's id
        for login in online:
            if login not in known and len(rows) < limit:
                found = find_accounts(s, search=login, realms=staff.realms, limit=1)
                rows += [r for r in found if r["id"] == login]
    return pl.DataFrame(
        [
            {
                "account_id": r["id"],
                "realm": r["realm"],
                "name": r["name"],
                "email": r["email"],
                "status": r["status"],
                "framed_ip": r["framed_ip"],
                "online_as": online.get(r["id"], ""),
            }
            for r in rows
        ],
        schema=["account_id", "realm", "name", "email", "status", "framed_ip", "online_as"],
    )


def account_page(settings: Settings, staff: Staff, account_id: str) -> dict[str, Any]:
    """The account page: profile (with its static address and assigned networks, as `jet
    account show` has them), hierarchy, subscriptions, daily usage, open sessions,
    invoices (with their PDF's path), payments and balance, audit trail."""
    today = date.today()
    with session(settings.db_url) as s:
        realm = account_realm(s, staff, "account.read", account_id)
        for shown in ("usage.read", "invoice.read"):  # its usage and sessions, its invoices
            check(s, staff, shown, realm, about=account_id)
        detail = account_detail(s, account_id, today, invoices=24, audit=50)
        paid = payments(s, account_id)
    invoices = [
        {**i, "pdf_path": str(pdf_path(settings, realm, i["number"]))} for i in detail["invoices"]
    ]
    return {
        "profile": {
            **detail["account"],
            "realm_id": realm,
            "billing_account": detail["billing_account"],
            "static_ip": detail["addresses"]["framed_ip"] or "",
            "networks": ", ".join(detail["addresses"]["assigned"]),
        },
        "hierarchy": pl.DataFrame(detail["children"], schema=["id", "name", "status"]),
        "subscriptions": pl.DataFrame(
            detail["subscriptions"], schema=["id", "plan", "start", "end", "state"]
        ),
        "usage": _usage(settings, account_id),
        "sessions": _sessions(settings, account_id),
        "invoices": pl.DataFrame(
            invoices,
            schema=["number", "kind", "account", "bill_date", "currency", "total", "pdf_path"],
        ),
        "payments": pl.DataFrame(
            paid,
            schema=["id", "kind", "date", "amount", "method", "reference", "of_payment", "reason"],
        ),
        "balance": f"{detail['balance']['amount']} ({detail['balance']['kind']})",
        "audit": pl.DataFrame(detail["audit"]),
    }


def _usage(settings: Settings, account_id: str) -> pl.DataFrame:
    if not has(settings, "fct_usage_daily"):
        return pl.DataFrame()
    return frame(
        settings,
        """select usage_date as day, source,
                  round((sum(bytes_in) + sum(bytes_out)) / 1e9, 3) as gigabytes
           from fct_usage_daily where account_id = $account and usage_date >= $since
           group by all order by day, source""",
        {"account": account_id, "since": date.today() - timedelta(days=USAGE_DAYS)},
    )


def _sessions(settings: Settings, account_id: str) -> pl.DataFrame:
    held = open_sessions(settings.raw / "radius", account_id)
    return pl.DataFrame(
        [
            {
                "user_name": h.user_name,
                "session": h.acct_session_id,
                "nas": h.nas_address,
                "framed_ip": h.framed_ip or "",
                "last_seen": h.last_seen,
            }
            for h in held
        ],
        schema={
            "user_name": pl.String, "session": pl.String, "nas": pl.String,
            "framed_ip": pl.String, "last_seen": pl.Datetime(time_zone="UTC"),
        },
    )  # fmt: skip


_MAC = re.compile(r"^[0-9a-f]{12}$")
# A condition on the landed RADIUS accounting per kind of address (values by parameter).
_LANDED_BY = {
    "ip": "framed_ip = $value",
    "mac": "regexp_replace(lower(calling_station_id), '[^0-9a-f]', '', 'g') = $value",
}


def _by_session_address(settings: Settings, staff: Staff, text: str) -> dict[str, str]:
    """The accounts (in the staff member's realms) whose RADIUS sessions of the last
    `RECENT_DAYS` days had `text` as their IP address or came from it as a MAC, with it.
    An address is looked for in `fct_radius_sessions` and, for a session that started
    after the last publish (a customer online now), in the accounting landed since; a MAC
    only in the landed accounting (the mart does not keep Calling-Station-Id)."""
    text = text.strip()
    try:
        address = int(ipaddress.IPv4Address(text))
    except ValueError:
        address = None
    mac = re.sub(r"[^0-9a-f]", "", text.lower())
    since = datetime.now(UTC) - timedelta(days=RECENT_DAYS)
    found: dict[str, str] = {}
    if address is not None:
        published = has(settings, "fct_radius_sessions")
        if published:
            hits = frame(
                settings,
                f"""select distinct account_id from fct_radius_sessions
                    where {SCOPED} and framed_ip = $address
                      and (ended_at is null or ended_at >= $since)""",
                in_scope(staff.realms) | {"address": address, "since": since},
            )
            found |= dict.fromkeys(hits["account_id"].to_list(), text)
        landed_from = max(since.date(), _published_on(settings)) if published else since.date()
        found |= dict.fromkeys(_landed(settings, "ip", address, landed_from), text)
    if _MAC.match(mac) and len(text) >= 12:
        found |= dict.fromkeys(_landed(settings, "mac", mac, since.date()), text)
    return found


def _published_on(settings: Settings) -> date:
    """The UTC day before fct_radius_sessions was last published: what landed from then
    on may be missing from it (a day's margin for accounting that arrives late)."""
    path = settings.marts / "fct_radius_sessions.parquet"
    return datetime.fromtimestamp(path.stat().st_mtime, UTC).date() - timedelta(days=1)


def _landed(settings: Settings, kind: str, value: int | str, since: date) -> list[str]:
    """Accounts (the User-Name's login) whose accounting landed in the date partitions from
    `since` on has `value` as its `kind` of address (`_LANDED_BY`). The staff member's
    realms are applied by the caller's lookup in the store."""
    root = settings.raw / "radius"
    files = [
        str(f)
        for d in sorted(root.glob("date=*"))
        if d.name[5:] >= since.isoformat()
        for f in d.glob("*.parquet")
    ]
    if not files:
        return []
    with duckdb.connect() as con:
        rows = con.execute(
            f"""select distinct split_part(user_name, '@', 1)
                from read_parquet($files, hive_partitioning = false, union_by_name = true)
                where {_LANDED_BY[kind]}""",
            {"files": files, "value": value},
        ).fetchall()
    return [r[0] for r in rows]
