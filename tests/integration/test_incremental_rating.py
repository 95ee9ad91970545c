"""Incremental rating gives exactly what a full rebuild gives (issue #14).

One home rates incrementally, run after run; after each run a second home over the same
lake and store rates from nothing, and every published mart and both incremental
aggregates must match row for row. The first test takes each rule of
int_usage_changes in turn, in a case built to break without it (a late record that
moves a session's start and address back a day, a session timed out by a later as_of,
a plan change, a backdated subscription, new usage in a cycle already rated). The
second lands a seeded random sequence: sessions (some late, some holding addresses
NetFlow attributes by, a NAS's Accounting-On), flows, partner rows for months already
rated, plan changes, ended and backdated subscriptions, new address assignments, and
a bill date that now and then goes back.
"""

from __future__ import annotations

import ipaddress
import random
import shutil
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from ingest.landing import land
from ingest.netflow.collector import flows_table
from ingest.netflow.decode import Flows
from jet.accounts import add_accounts, change_plan, end_plan, subscribe
from jet.addresses import assign, network_range
from jet.audit import Actor
from jet.catalog import load_catalog_file
from jet.config import PROJECT_ROOT, Settings
from jet.errors import JetError
from jet.realms import store_catalog
from jet.store.db import session
from jet.warehouse import DRAFTS_ONLY, rate
from schemas.raw import RADIUS, UPSTREAM_CSV

pytestmark = pytest.mark.integration

START = datetime(2026, 2, 1, tzinfo=UTC)
PLANS = ("home", "home-wholesale", "business", "hotspot")
ACCOUNTS = {
    "h1": "home",
    "h2": "home",
    "w1": "home-wholesale",
    "b1": "business",
    "b2": "business",
    "s1": "hotspot",
    "late": None,
}
# b1 and b2 own a /28 each; sessions may hold an address inside b1's or outside both
ADDRESSES = ["100.64.0.3", "100.64.0.5", "100.64.0.20", "100.64.9.9"]
NAS = int(ipaddress.IPv4Address("10.0.0.1"))
SERVER = "203.0.113.80"
GB = 10**9
MARTS = (
    "fct_invoice_lines",
    "fct_invoice_drafts",
    "fct_usage_daily",
    "fct_usage_allowances",
    "fct_radius_sessions",
    "fct_unattributed_flows",
)
TABLES = ("int_usage_daily", "int_usage_by_cycle")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@dataclass
class Session:
    """A RADIUS session: its user and id, its first record, the moment the NAS counts
    its time from (before the first record when the Start was lost), its address."""

    user: str
    sid: str
    start: datetime
    counted_from: datetime
    framed: str | None

    def records(self, statuses: list[tuple[datetime, str]], quiet: bool = False) -> list[dict]:
        """Its records at those times; a `quiet` one has neither address nor session
        time, as some NAS send them only in later records."""
        return [
            {
                "event_time": when,
                "status_type": status,
                "user_name": self.user,
                "acct_session_id": self.sid,
                "nas_ip": NAS,
                "framed_ip": None
                if quiet or not self.framed
                else int(ipaddress.IPv4Address(self.framed)),
                "input_octets": int((when - self.start).total_seconds()) * 1000,
                "output_octets": int((when - self.start).total_seconds()) * 9000,
                "session_time": None if quiet else int((when - self.counted_from).total_seconds()),
                "source_ip": NAS,
            }
            for when, status in statuses
        ]


def flow_table(flows: list[tuple[datetime, str, int, bool]]) -> pa.Table:
    """(end, customer address, bytes, download?) flows with a server, as landed."""
    n = len(flows)
    ours = [list(network_range(address)[0]) for _, address, _, _ in flows]
    theirs = list(network_range(SERVER)[0])
    down = [d for _, _, _, d in flows]
    return flows_table(
        Flows(
            first_ms=np.array([int(t.timestamp() * 1000) - 60_000 for t, *_ in flows], np.int64),
            last_ms=np.array([int(t.timestamp() * 1000) for t, *_ in flows], np.int64),
            src_addr=np.array(
                [theirs if d else o for o, d in zip(ours, down, strict=True)], np.uint8
            ),
            dst_addr=np.array(
                [o if d else theirs for o, d in zip(ours, down, strict=True)], np.uint8
            ),
            src_port=np.full(n, 443, np.uint16),
            dst_port=np.full(n, 50000, np.uint16),
            protocol=np.full(n, 6, np.uint8),
            packets=np.full(n, 10, np.uint64),
            bytes=np.array([b for _, _, b, _ in flows], np.uint64),
            sampling_interval=np.ones(n, np.uint32),
            exporter=np.zeros(n, np.int32),
        ),
        ["192.0.2.1"],
    )


def partner_table(rows: list[tuple[str, datetime, int]]) -> pa.Table:
    """(account, ts, bytes down) rows of the wholesale partner's file."""
    n = len(rows)
    return pa.table(
        {
            "account_id": [a for a, _, _ in rows],
            "ts": pa.array([t for _, t, _ in rows], pa.timestamp("us", tz="UTC")),
            "bytes_in": pa.array([b for _, _, b in rows], pa.uint64()),
            "bytes_out": pa.array([b // 10 for _, _, b in rows], pa.uint64()),
            "seconds": pa.array([600] * n, pa.uint64()),
            "source_file": ["partner.csv"] * n,
            "source_line": pa.array(range(1, n + 1), pa.uint32()),
        },
        schema=UPSTREAM_CSV,
    )


class Homes:
    """The incremental home and the one rated from nothing over the same lake and store."""

    def __init__(self, tmp_path) -> None:
        self.incremental = Settings(home=tmp_path / "incremental", database_url=None)
        self.full = Settings(home=tmp_path / "full", database_url=None)
        self.batches = 0
        catalog = PROJECT_ROOT / "examples" / "catalogs" / "acme.yaml"
        with session(self.incremental.db_url) as s:
            store_catalog(s, load_catalog_file(catalog), str(catalog))
            add_accounts(s, "acme", [{"id": a, "name": a.title()} for a in ACCOUNTS])
            for account, plan in ACCOUNTS.items():
                if plan:
                    subscribe(s, account, plan, START.date(), None)
            assign(s, "b1", "100.64.0.0/28")
            assign(s, "b2", "100.64.0.16/28")
        self.incremental.raw.mkdir(parents=True, exist_ok=True)
        (self.full.root / "lake").mkdir(parents=True)
        (self.full.root / "lake" / "raw").symlink_to(self.incremental.raw.resolve())

    def land(self, source: str, table: pa.Table) -> None:
        self.batches += 1
        land(source, table, f"{source}-{self.batches}", self.incremental.raw)

    def store(self):
        return session(self.incremental.db_url)

    def rate(self, as_of: str) -> date | None:
        """Rate both homes up to `as_of`, check they agree, and return the first day the
        incremental run aggregated again (None: it kept everything)."""
        rate(self.incremental, as_of, "run")
        self.full.warehouse.unlink(missing_ok=True)
        shutil.rmtree(self.full.marts, ignore_errors=True)
        rate(self.full, as_of, "run", store=self.incremental)
        got, expected = rows(self.incremental), rows(self.full)
        for name in (*MARTS, *TABLES):
            assert got[name] == expected[name], f"as_of {as_of}: {name} differs"
        with duckdb.connect(str(self.incremental.warehouse), read_only=True) as con:
            return con.execute("select min(changed_from) from int_usage_changes").fetchone()[0]


def rows(settings: Settings) -> dict[str, list[tuple]]:
    """Every mart and incremental table of a home, sorted, to compare as wholes."""
    queries = {name: f"read_parquet('{settings.marts}/{name}.parquet')" for name in MARTS}
    queries |= {name: name for name in TABLES}
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        return {
            name: sorted(con.execute(f"select * from {source}").fetchall(), key=repr)
            for name, source in queries.items()
        }


def test_each_change_reaches_what_it_changes(tmp_path):
    homes = Homes(tmp_path)
    s = Session("h1@acme", "lost-start", at("2026-03-09 23:00"), at("2026-03-09 22:00"), None)
    t = Session("h2@acme", "open", at("2026-03-11 08:00"), at("2026-03-11 08:00"), "100.64.0.5")
    homes.land(
        "radius",
        pa.Table.from_pylist(
            s.records([(s.start, "Start")])
            + t.records([(t.start, "Start"), (at("2026-03-11 10:00"), "Interim-Update")]),
            schema=RADIUS,
        ),
    )
    homes.land(
        "netflow",
        flow_table(
            [
                (at("2026-03-09 22:30"), "100.64.0.3", 5 * GB, True),  # before s's first record
                (at("2026-03-12 20:00"), "100.64.0.5", 7 * GB, True),  # after t was last heard of
            ]
        ),
    )
    homes.land(
        "upstream_csv",
        partner_table(
            [("w1", at(f"2026-03-{day:02d} 12:00"), day * GB) for day in range(1, 12)]
            + [("w1", at("2026-02-20 12:00"), 20 * GB)]  # a cycle before, kept as it was
            + [("late", at("2026-03-03 12:00"), 3 * GB)]
        ),
    )
    assert homes.rate("2026-03-12") is not None  # the first run: everything

    # s's next record comes a day late, with the address and the time counted since
    # 22:00: the 22:30 flow was s's (h1's), not b1's, a day before that record
    s.framed = "100.64.0.3"
    homes.land(
        "radius",
        pa.Table.from_pylist(
            s.records([(at("2026-03-10 01:00"), "Interim-Update")]), schema=RADIUS
        ),
    )
    assert homes.rate("2026-03-12") == date(2026, 3, 9)

    # nothing new, but by this as_of t has timed out: its 03-12 flow is b1's again
    assert homes.rate("2026-03-15") == date(2026, 3, 11)

    # h1 moves to hotspot on 03-05; `late` is subscribed from 03-01, over rated usage
    with homes.store() as st:
        change_plan(st, "h1", "hotspot", date(2026, 3, 5))
        subscribe(st, "late", "home-wholesale", date(2026, 3, 1), None)
    assert homes.rate("2026-03-15") is None  # no usage changed: the meters did

    # w1's usage of 03-14 goes into its March cycle, which has earlier days rated
    homes.land("upstream_csv", partner_table([("w1", at("2026-03-14 09:00"), 40 * GB)]))
    assert homes.rate("2026-03-15") == date(2026, 3, 14)

    # a run that builds the cycles and not the days (as `jet simulate` selects) counts
    # the batch for the cycles only: the next run still adds it to the days
    homes.land("upstream_csv", partner_table([("w1", at("2026-03-15 09:00"), 2 * GB)]))
    rate(homes.incremental, "2026-03-15", DRAFTS_ONLY)
    assert homes.rate("2026-03-15") == date(2026, 3, 15)


class Changes:
    """Random changes between two runs, mostly of the last two days as a network
    reports them, now and then of any day since the start."""

    def __init__(self, homes: Homes, rng: random.Random) -> None:
        self.homes, self.rng = homes, rng
        self.sessions: list[Session] = []
        self.now = START

    def moment(self) -> datetime:
        if self.rng.random() < 0.15:
            return START + (self.now - START) * self.rng.random()
        return self.now - timedelta(seconds=self.rng.randrange(2 * 86400))

    def radius(self) -> None:
        """A new session (some counted from before their first record), or records that
        arrive late into one already landed; some without address or session time."""
        rng = self.rng
        if self.sessions and rng.random() < 0.4:
            session_ = rng.choice(self.sessions)
            statuses = [
                (session_.start + timedelta(minutes=rng.randrange(1, 3000)), status)
                for status in ["Interim-Update", rng.choice(["Interim-Update", "Stop"])]
            ]
        else:
            start = self.moment()
            session_ = Session(
                rng.choice(["h1", "h2", "s1", "late"]) + "@acme",
                f"s{len(self.sessions)}",
                start,
                start - timedelta(minutes=rng.choice([0, 0, rng.randrange(1, 600)])),
                rng.choice([*ADDRESSES, None]),
            )
            self.sessions.append(session_)
            statuses = [(start, "Start")] + [
                (start + timedelta(minutes=30 * k), "Interim-Update")
                for k in range(1, rng.randrange(1, 5))
            ]
        rows = session_.records(statuses, quiet=rng.random() < 0.4)
        if rng.random() < 0.15:  # the NAS restarted: its open sessions end
            rows.append(
                {
                    "event_time": self.moment(),
                    "status_type": "Accounting-On",
                    "nas_ip": NAS,
                    "source_ip": NAS,
                }
            )
        self.homes.land("radius", pa.Table.from_pylist(rows, schema=RADIUS))

    def flows(self) -> None:
        """Flows to and from the addresses, half of them while a session held one."""
        rng, flows = self.rng, []
        for _ in range(rng.randrange(1, 6)):
            held = [x for x in self.sessions if x.framed]
            if held and rng.random() < 0.5:
                x = rng.choice(held)
                span = x.start - x.counted_from + timedelta(days=1)
                when, address = x.counted_from + span * rng.random(), x.framed
            else:
                when, address = self.moment(), rng.choice(ADDRESSES)
            flows.append((when, address, rng.randrange(10**6, 10**11), rng.random() < 0.7))
        self.homes.land("netflow", flow_table(flows))

    def partner_rows(self) -> None:
        rows = [
            (self.rng.choice(["w1", "late", "h1"]), self.moment(), self.rng.randrange(10**12))
            for _ in range(self.rng.randrange(1, 6))
        ]
        self.homes.land("upstream_csv", partner_table(rows))

    def plans(self) -> None:
        """A plan change, an ended plan or a subscription backdated over landed usage; a
        change the store refuses (a day before the plan started, say) changes nothing."""
        rng = self.rng
        account, plan, day = rng.choice(list(ACCOUNTS)), rng.choice(PLANS), self.moment().date()
        with self.homes.store() as s:
            try:
                action = rng.random()
                if action < 0.6:
                    change_plan(s, account, plan, day)
                elif action < 0.8:
                    subscribe(s, account, plan, day, None)
                else:
                    end_plan(s, Actor.here(), account, plan, day)
            except JetError:
                s.rollback()

    def address(self) -> None:
        with self.homes.store() as s:
            try:
                assign(s, self.rng.choice(["h2", "b2"]), f"100.64.9.{self.rng.randrange(256)}/32")
            except JetError:
                s.rollback()


@pytest.mark.parametrize("seed", [14])
def test_random_changes_rate_as_a_full_rebuild(tmp_path, seed):
    homes = Homes(tmp_path)
    rng = random.Random(seed)
    changes = Changes(homes, rng)
    kinds = [changes.radius] * 4 + [changes.flows] * 3 + [changes.partner_rows] * 2
    kinds += [changes.plans] * 2 + [changes.address]
    partial = 0
    for run in range(6):
        changes.now += timedelta(days=rng.randrange(1, 15), seconds=rng.randrange(86400))
        for _ in range(rng.randrange(1, 6)):
            rng.choice(kinds)()
        # mostly today's rating run; now and then a bill date already past
        day = changes.now if rng.random() < 0.8 else changes.moment() - timedelta(days=20)
        first = homes.rate(day.date().isoformat())
        partial += run > 0 and (first is None or first > START.date())
    assert partial >= 3, "too few runs kept part of what they had aggregated"
