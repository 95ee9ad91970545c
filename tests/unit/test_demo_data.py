"""The demo deployment's promises: the realms and hierarchy it claims, whole RADIUS sessions,
one measuring source per account, usage only while subscribed, postal details an invoice
can print (valid tax ids, a few names in Greek or Cyrillic, a few paper customers), and a
second run that changes nothing. The upstream file goes through `jet import usage`'s
importer and profile."""

from __future__ import annotations

from datetime import date

import duckdb
import numpy as np
import pytest
from sqlalchemy import func, select

from ingest.csv.profiles import read_profile
from ingest.csv.usage import import_usage
from ingest.landing import landed_batches
from jet import customer_fields
from jet.addresses import network_range
from jet.config import Settings
from jet.drivers.demo_addresses import eurowave_customers
from jet.drivers.demo_data import (
    UPSTREAM_FILE,
    UPSTREAM_PROFILE,
    _plan_accounts,
    _plan_postal,
    generate,
)
from jet.store.db import session
from jet.store.models import Account, IpAssignment, Subscription

ACCOUNTS = 120


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    settings = Settings(home=tmp_path_factory.mktemp("jet"))
    messages: list[str] = []
    summary = generate(settings, accounts=ACCOUNTS, progress=messages.append)
    return settings, summary, messages


@pytest.fixture(scope="module")
def lake(demo):
    """DuckDB views over the landed usage and the store's subscriptions and addresses."""
    settings, _, _ = demo
    con = duckdb.connect()
    for source in ("radius", "netflow", "upstream_csv"):
        glob = settings.raw / source / "date=*" / "*.parquet"
        con.execute(f"create view {source} as select * from read_parquet('{glob}')")
    with session(settings.db_url) as s:
        subs = [
            (a, p, st, e)
            for a, p, st, e in s.execute(
                select(
                    Subscription.account_id,
                    Subscription.plan_id,
                    Subscription.start_date,
                    Subscription.end_date,
                )
            )
        ]
        ips = [
            (a, *network_range(n)[:2])
            for a, n in s.execute(select(IpAssignment.account_id, IpAssignment.network))
        ]
    con.execute("create table subs (account_id varchar, plan_id varchar, s date, e date)")
    con.executemany("insert into subs values (?, ?, ?, ?)", subs)
    con.execute("create table ips (account_id varchar, lo blob, hi blob)")
    con.executemany("insert into ips values (?, ?, ?)", ips)
    con.execute(
        """
        create view usage as
        select split_part(user_name, '@', 1) as account_id, event_time as ts, 'radius' as source
        from radius
        union all
        select ips.account_id, netflow.last_ts, 'netflow'
        from netflow join ips
            on netflow.dst_addr between ips.lo and ips.hi
            or netflow.src_addr between ips.lo and ips.hi
        union all
        select account_id, ts, 'upstream_csv' from upstream_csv
        """
    )
    return con


def _accounts(settings: Settings) -> list[Account]:
    with session(settings.db_url) as s:
        return list(s.scalars(select(Account)))


def test_accounts_per_realm(demo):
    settings, summary, messages = demo
    assert summary["accounts"] == {"acme": 84, "skyfi": 36}
    accounts = _accounts(settings)
    assert len(accounts) == ACCOUNTS
    assert all(a.id == a.id.lower() for a in accounts)
    assert {a.id.split("-")[0] for a in accounts if a.realm_id == "skyfi"} == {"sky"}
    assert summary["reused"] is False
    assert all(summary["rows"][source] > 0 for source in ("radius", "netflow", "upstream_csv"))
    assert len(messages) >= 5


def test_cost_centres_hold_business_users(demo):
    settings, summary, _ = demo
    accounts = _accounts(settings)
    children: dict[str, list[Account]] = {}
    for a in accounts:
        if a.parent_id:
            children.setdefault(a.parent_id, []).append(a)
    assert len(children) == summary["cost_centres"] >= 1
    by_id = {a.id: a for a in accounts}
    with session(settings.db_url) as s:
        plans = dict(s.execute(select(Subscription.account_id, Subscription.plan_id)).all())
    for centre_id, users in children.items():
        centre = by_id[centre_id]
        assert centre.parent_id is None and centre.realm_id == "acme"
        assert centre.name.endswith("Pty Ltd")
        assert centre_id not in plans  # the company is billed, its users use the service
        assert 3 <= len(users) <= 15
        assert {plans[u.id] for u in users} == {"business"}


def test_subscriptions_start_mid_cycle_end_and_change_plan(lake):
    starts_mid, ended, changed = lake.execute(
        """
        select
            count(*) filter (where s > date '2026-08-01' and day(s) <> 1),
            count(*) filter (where e is not null),
            (select count(*) from subs a join subs b on a.account_id = b.account_id and a.e = b.s)
        from subs
        """
    ).fetchone()
    assert starts_mid > 0 and ended > changed >= 1


def test_every_radius_session_starts_stops_and_counts_up(lake):
    sessions, broken = lake.execute(
        """
        with ordered as (
            select *,
                row_number() over w as n,
                count(*) over (partition by nas_ip, acct_session_id, user_name) as records,
                lag(input_octets) over w as prev_in,
                lag(output_octets) over w as prev_out,
                lag(session_time) over w as prev_time
            from radius
            window w as (partition by nas_ip, acct_session_id, user_name order by event_time)
        )
        select
            count(*) filter (where n = 1),
            count(*) filter (where
                (n = 1) <> (status_type = 'Start')
                or (n = records) <> (status_type = 'Stop')
                or records < 3
                or input_octets < prev_in or output_octets < prev_out
                or session_time < prev_time)
        from ordered
        """
    ).fetchone()
    assert sessions > 100
    assert broken == 0
    spans_midnight = lake.execute(
        """select count(*) from (select acct_session_id from radius group by nas_ip,
           acct_session_id, user_name having min(cast(event_time as date))
           <> max(cast(event_time as date)))"""
    ).fetchone()[0]
    assert spans_midnight > 0


def test_no_account_is_measured_by_two_sources(lake):
    per_source = dict(
        lake.execute("select source, count(distinct account_id) from usage group by 1").fetchall()
    )
    assert set(per_source) == {"radius", "netflow", "upstream_csv"}
    assert lake.execute(
        "select count(*) from (select account_id from usage group by 1 "
        "having count(distinct source) > 1)"
    ).fetchone() == (0,)


def test_usage_only_while_subscribed(lake):
    outside, total = lake.execute(
        """
        select count(*) filter (where not exists (
            select 1 from subs where subs.account_id = usage.account_id
            and cast(usage.ts as date) >= subs.s
            and (subs.e is null or cast(usage.ts as date) < subs.e)
        )), count(*)
        from usage
        """
    ).fetchone()
    assert outside < total * 0.01


def test_some_flows_belong_to_nobody(lake):
    stray, total = lake.execute(
        """select count(*) filter (where not exists (select 1 from ips
           where netflow.dst_addr between ips.lo and ips.hi
              or netflow.src_addr between ips.lo and ips.hi)), count(*) from netflow"""
    ).fetchone()
    assert 0 < stray < total * 0.05


def _lake_files(settings: Settings) -> dict[str, int]:
    return {
        str(p.relative_to(settings.root)): p.stat().st_size
        for p in sorted(settings.raw.rglob("*"))
        if p.is_file() and "_tmp" not in p.parts and p.name != "_landing.lock"
    }


def test_second_run_changes_nothing(demo):
    settings, summary, _ = demo
    files = _lake_files(settings)
    again = generate(settings, accounts=ACCOUNTS)
    assert again == {**summary, "reused": True}
    assert _lake_files(settings) == files
    with session(settings.db_url) as s:
        assert s.scalar(select(func.count()).select_from(Account)) == ACCOUNTS


def test_upstream_file_imports_once(demo):
    settings, summary, _ = demo
    assert not settings.quarantine.exists()  # every row of the demo's file is good
    path = settings.root / "inbox" / UPSTREAM_FILE
    before = landed_batches("upstream_csv", settings.raw)
    with session(settings.db_url) as s:
        result = import_usage(
            path,
            read_profile(UPSTREAM_PROFILE),
            raw_root=settings.raw,
            quarantine_dir=settings.quarantine,
            session=s,
        )
    assert result.landed_at is not None and result.batch_id in before
    assert result.landed == summary["rows"]["upstream_csv"]
    assert landed_batches("upstream_csv", settings.raw) == before


def _non_latin(name: str) -> bool:
    return any(ord(c) >= 0x370 for c in name)


def test_accounts_have_postal_details_an_invoice_prints(demo):
    settings, _, _ = demo
    accounts = _accounts(settings)
    billed = [a for a in accounts if a.parent_id is None]
    assert all(a.address and len(a.address.splitlines()) >= 2 and a.country for a in billed)
    acme = [a for a in accounts if a.realm_id == "acme"]
    assert {a.country for a in acme} == {"AU"}
    companies = [a for a in billed if a.kind == "company"]
    assert {a.realm_id for a in companies} >= {"acme"}
    assert all(a.tax_id for a in companies)  # stored through the ABN/GST checks
    for a in companies:
        assert customer_fields.tax_id(a.tax_id, a.country) == a.tax_id
    by_id = {a.id: a for a in accounts}
    users = [a for a in accounts if a.parent_id]
    assert all(a.address == by_id[a.parent_id].address for a in users)  # at the office
    visitors = [a for a in accounts if _non_latin(a.name)]
    assert visitors and {a.realm_id for a in visitors} == {"skyfi"}
    assert all(a.country in {"GR", "BG", "UA", "RS"} for a in visitors)
    assert all(a.email and a.email.isascii() for a in visitors)
    assert {a.country for a in accounts if a.realm_id == "skyfi" and not _non_latin(a.name)} == {
        "NZ"
    }
    paper = [a for a in billed if a.delivery == "paper"]
    assert 2 <= len(paper) < len(billed) * 0.05


def test_postal_details_are_the_same_every_run():
    def planned():
        rng = np.random.default_rng(7)
        plan = _plan_accounts(rng, ACCOUNTS, date(2026, 8, 1), date(2026, 10, 31))
        _plan_postal(np.random.default_rng(8), plan)
        return plan.names, plan.emails, plan.details

    assert planned() == planned()
    assert eurowave_customers(np.random.default_rng(7), 40) == eurowave_customers(
        np.random.default_rng(7), 40
    )


def test_eurowave_customers_pass_the_account_checks():
    customers = eurowave_customers(np.random.default_rng(7), 40)
    assert {c["country"] for c in customers} == {"DE"}
    assert sum(_non_latin(c["name"]) for c in customers) == 4
    assert all(c["debtor"].isascii() or not _non_latin(c["debtor"]) for c in customers)
    assert sum(c["delivery"] == "paper" for c in customers) == 2
    firms = [c for c in customers if c.get("kind") == "company"]
    assert firms and all(customer_fields.tax_id(c["tax_id"], "DE") == c["tax_id"] for c in firms)
    for c in customers:
        assert customer_fields.email(c["email"]) == c["email"]
