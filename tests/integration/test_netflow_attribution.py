"""Flows reach the accounts that own their addresses, through dbt over the landed lake:
the longest prefix wins, IPv6 like IPv4, download is traffic to the customer, what
nobody owns shows in fct_unattributed_flows, and a plan bills from its one source."""

from __future__ import annotations

import ipaddress
from datetime import UTC, date, datetime
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pytest

from ingest.landing import land
from ingest.netflow.collector import flows_table
from ingest.netflow.decode import Flows
from jet.accounts import add_accounts, subscribe
from jet.addresses import assign, network_range
from jet.catalog import load_catalog_file
from jet.config import PROJECT_ROOT, Settings
from jet.drafts import draft_invoices
from jet.realms import store_catalog
from jet.store.db import session
from jet.warehouse import marts, rate
from schemas.raw import RADIUS, UPSTREAM_CSV

pytestmark = pytest.mark.integration
GB = 10**9
DAY = datetime(2026, 3, 10, 12, tzinfo=UTC)
SERVER = "203.0.113.80"


def flow_rows(rows: list[tuple[str, str, int]], at: datetime = DAY) -> pa.Table:
    """(src, dst, bytes) flows ending at `at`, as the collector lands them."""
    n = len(rows)
    ms = int(at.timestamp() * 1000)
    return flows_table(
        Flows(
            first_ms=np.full(n, ms - 60_000),
            last_ms=np.full(n, ms),
            src_addr=np.array([list(network_range(s)[0]) for s, _, _ in rows], np.uint8),
            dst_addr=np.array([list(network_range(d)[0]) for _, d, _ in rows], np.uint8),
            src_port=np.full(n, 443, np.uint16),
            dst_port=np.full(n, 50000, np.uint16),
            protocol=np.full(n, 6, np.uint8),
            packets=np.array([max(1, b // 1500) for _, _, b in rows], np.uint64),
            bytes=np.array([b for _, _, b in rows], np.uint64),
            sampling_interval=np.ones(n, np.uint32),
            exporter=np.zeros(n, np.int32),
        ),
        ["192.0.2.1"],
    )


def radius_record(status: str, at: datetime) -> dict:
    """roamer's session on a NAS, holding 100.64.1.77; no traffic counters."""
    record = dict.fromkeys(RADIUS.names)
    record.update(
        event_time=at,
        status_type=status,
        user_name="roamer@acme",
        acct_session_id="roam-1",
        nas_ip=int(ipaddress.IPv4Address("10.0.0.1")),
        framed_ip=int(ipaddress.IPv4Address("100.64.1.77")),
        input_octets=0,
        output_octets=0,
        session_time=int((at - datetime(2026, 3, 10, 8, tzinfo=UTC)).total_seconds()),
    )
    return record


@pytest.fixture(scope="module")
def billed(tmp_path_factory):
    settings = Settings(home=tmp_path_factory.mktemp("attribution"), database_url=None)
    settings.export()
    catalog = PROJECT_ROOT / "examples" / "catalogs" / "acme.yaml"
    with session(settings.db_url) as s:
        store_catalog(s, load_catalog_file(catalog), str(catalog))
        accounts = ("wide", "narrow", "six", "roamer")
        add_accounts(s, "acme", [{"id": a, "name": a.title()} for a in accounts])
        for account in accounts:
            subscribe(s, account, "business", date(2026, 2, 1), None)
        assign(s, "wide", "100.64.1.0/24")
        assign(s, "narrow", "100.64.1.8/29")
        assign(s, "six", "2001:db8:64::/48")
    flows = flow_rows(
        [
            (SERVER, "100.64.1.1", 3 * GB),  # wide's download
            ("100.64.1.1", SERVER, 1 * GB),  # wide's upload
            (SERVER, "100.64.1.9", 2 * GB),  # inside both: the /29 is narrower
            ("2001:db8:ff::1", "2001:db8:64::5", 4 * GB),  # six's download, over IPv6
            (SERVER, "198.51.100.7", 12_345),  # nobody's
            (SERVER, "100.64.1.77", 5 * GB),  # in wide's /24, but roamer's session holds it
        ]
    )
    land("netflow", flows, "flows-1", settings.raw)
    # The day after, roamer's session has ended: the address is wide's again.
    later = flow_rows([(SERVER, "100.64.1.77", 6 * GB)], at=datetime(2026, 3, 11, 9, tzinfo=UTC))
    land("netflow", later, "flows-2", settings.raw)
    session_records = [
        radius_record("Start", datetime(2026, 3, 10, 8, tzinfo=UTC)),
        radius_record("Stop", datetime(2026, 3, 10, 18, tzinfo=UTC)),
    ]
    land("radius", pa.Table.from_pylist(session_records, schema=RADIUS), "nas-1", settings.raw)
    # The wholesale partner's file also reports wide's usage: its plan meters from
    # NetFlow, so this must not be billed as well.
    partner = pa.table(
        {
            "account_id": ["wide"],
            "ts": pa.array([DAY], pa.timestamp("us", tz="UTC")),
            "bytes_in": pa.array([50 * GB], pa.uint64()),
            "bytes_out": pa.array([0], pa.uint64()),
            "seconds": pa.array([0], pa.uint64()),
            "source_file": ["partner.csv"],
            "source_line": pa.array([1], pa.uint32()),
        },
        schema=UPSTREAM_CSV,
    )
    land("upstream_csv", partner, "partner-1", settings.raw)
    rate(settings, "2026-04-01", "run")
    return settings


def test_each_flow_goes_to_the_longest_prefix_that_holds_its_customer_side(billed):
    con = marts(billed)
    usage = {
        (account, source): (int(down), int(up))
        for account, source, down, up in con.execute(
            "select account_id, source, sum(bytes_in), sum(bytes_out) "
            "from fct_usage_daily group by all"
        ).fetchall()
    }
    assert usage[("wide", "netflow")] == (3 * GB + 6 * GB, 1 * GB)
    assert usage[("narrow", "netflow")] == (2 * GB, 0)
    assert usage[("six", "netflow")] == (4 * GB, 0)


def test_a_radius_session_owns_its_address_while_it_holds_it(billed):
    usage = (
        marts(billed)
        .execute(
            "select usage_date, sum(bytes_in) from fct_usage_daily "
            "where account_id = 'roamer' and source = 'netflow' group by all"
        )
        .fetchall()
    )
    assert usage == [(date(2026, 3, 10), 5 * GB)]


def test_traffic_nobody_owns_shows_in_its_own_mart(billed):
    rows = (
        marts(billed)
        .execute(
            "select flow_date, exporter, src_address, dst_address, bytes, packets, flows "
            "from fct_unattributed_flows"
        )
        .fetchall()
    )
    assert rows == [(date(2026, 3, 10), "192.0.2.1", SERVER, "198.51.100.7", 12_345, 8, 1)]


def test_a_plan_bills_usage_from_its_own_source_only(billed):
    march = {
        inv["account"]: inv
        for inv in draft_invoices(billed, date(2026, 4, 1))
        if inv["bill_date"] == "2026-04-01"
    }
    usage = [line for line in march["wide"]["lines"] if line["kind"] == "usage"]
    assert [Decimal(line["quantity"]) for line in usage] == [Decimal(10)]  # NetFlow's, not +50
