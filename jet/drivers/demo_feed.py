"""The demo's usage sent through Jet's own collectors on loopback, as a network would.

RADIUS: every generated record becomes the Accounting-Request a NAS would send, to
`jet radius serve` on 127.0.0.1, which answers each once it is landed. The records
carry their Event-Timestamp, so they land in the days they happened.

Four routers export the demo's flows, one protocol each as real networks mix them
(NetFlow v5, v9 twice, IPFIX), from their own loopback addresses (127.0.0.250-253, so
the collector keeps their templates and sequence numbers apart). Each day of flows is
sent, then landed as the batch `demo-netflow-<day>`: a run that is interrupted and
started again lands each day once.
"""

from __future__ import annotations

import os
import signal
import socket
import struct
import subprocess
import sys
import threading
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ingest.landing import landed_batches
from ingest.netflow.collector import Collector, open_socket
from ingest.netflow.decode import Flows
from ingest.netflow.export import encode_ipfix, encode_v5, encode_v9
from ingest.radius.load import run_load
from jet.config import Settings
from jet.nas import add_nas_client, nas_clients
from jet.ports import free_udp_port
from jet.store.db import session

ROUTERS = ("127.0.0.250", "127.0.0.251", "127.0.0.252", "127.0.0.253")
_DAY_MS = 86_400_000


def feed_netflow(flows: Flows, raw_root: Path) -> int:
    """Export `flows` (their `exporter` indexes ROUTERS) to a collector; the flows landed."""
    collector = Collector(
        open_socket("127.0.0.1", 0), raw_root, batch_flows=1 << 40, batch_seconds=1e9
    )
    port = collector.sock.getsockname()[1]
    serving = threading.Thread(target=collector.serve, name="demo-netflow")
    serving.start()
    routers = [
        _Router(address, version) for address, version in zip(ROUTERS, (5, 9, 9, 10), strict=False)
    ]
    try:
        days = flows.last_ms // _DAY_MS
        for day in np.unique(days):
            end_ms = (int(day) + 1) * _DAY_MS
            for index, router in enumerate(routers):
                rows = np.flatnonzero((days == day) & (flows.exporter == index))
                router.send(flows.take(rows), end_ms, port)
            today = date(1970, 1, 1) + timedelta(days=int(day))
            collector.land_batch(f"demo-netflow-{today}")
    finally:
        collector.stop()
        serving.join()
        for router in routers:
            router.sock.close()
    return collector.counters.landed


class _Router:
    """One exporter: its socket, protocol, boot time and sequence numbers."""

    def __init__(self, address: str, version: int) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((address, 0))
        self.version = version
        self.boot_ms: int | None = None
        self.sequence = 0

    def send(self, flows: Flows, export_ms: int, port: int) -> None:
        if not len(flows):
            return
        self.boot_ms = self.boot_ms or int(flows.first_ms.min()) - 60_000
        if self.version == 5:
            packets = encode_v5(
                flows, boot_ms=self.boot_ms, export_ms=export_ms, sequence=self.sequence
            )
            self.sequence += len(flows)
        elif self.version == 9:
            packets = encode_v9(
                flows, boot_ms=self.boot_ms, export_ms=export_ms, sequence=self.sequence
            )
            self.sequence += len(packets)
        else:
            packets = encode_ipfix(flows, export_ms=export_ms, sequence=self.sequence)
            self.sequence += len(flows)
        for packet in packets:
            self.sock.sendto(packet, ("127.0.0.1", port))


_STATUS = {"Start": 1, "Stop": 2, "Interim-Update": 3}
_CAUSES = {"User-Request": 1, "Idle-Timeout": 4, "Session-Timeout": 5}
_U32 = struct.Struct("!BBI")


def accounting_attributes(records: pa.Table) -> list[bytes]:
    """The attributes a NAS would send for each demo RADIUS record (rows of the landed
    schema), as the bytes after an Accounting-Request's 20-octet header."""
    columns = records.select(
        ["status_type", "user_name", "acct_session_id", "nas_ip", "nas_identifier",
         "framed_ip", "input_octets", "output_octets", "session_time", "event_time",
         "terminate_cause"]
    ).to_pydict()  # fmt: skip
    columns["event_time"] = pc.divide(
        records.column("event_time").cast(pa.int64()), 1_000_000
    ).to_pylist()
    out = []
    for status, user, session_id, nas_ip, nas_id, framed, up, down, elapsed, at, cause in zip(
        *columns.values(), strict=True
    ):
        attributes = [
            _U32.pack(40, 6, _STATUS[status]),
            _text(1, user),
            _text(44, session_id),
            _U32.pack(4, 6, nas_ip),
            _text(32, nas_id),
            _U32.pack(42, 6, up & 0xFFFFFFFF),
            _U32.pack(52, 6, up >> 32),
            _U32.pack(43, 6, down & 0xFFFFFFFF),
            _U32.pack(53, 6, down >> 32),
            _U32.pack(46, 6, elapsed),
            _U32.pack(55, 6, at),
        ]
        if framed is not None:
            attributes.append(_U32.pack(8, 6, framed))
        if cause is not None:
            attributes.append(_U32.pack(49, 6, _CAUSES[cause]))
        out.append(b"".join(attributes))
    return out


def _text(kind: int, value: str) -> bytes:
    data = value.encode()
    return bytes((kind, len(data) + 2)) + data


DEMO_NAS = "127.0.0.1"
DEMO_SECRET = b"demo-nas-secret"


def feed_radius(records: pa.Table, settings: Settings) -> int:
    """Send the demo's RADIUS records as Accounting-Requests to `jet radius serve` on
    loopback, from the NAS client 127.0.0.1 (added to the store if missing); return how
    many were answered, each one landed before its answer."""
    if landed_batches("radius", settings.raw):
        return 0  # fed by an earlier run: sending again would land every record twice
    with session(settings.db_url) as s:
        if DEMO_NAS not in {c.address for c in nas_clients(s)}:
            add_nas_client(s, DEMO_NAS, DEMO_SECRET.decode(), "acme", "demo loopback NAS")
    attributes = accounting_attributes(records)
    port = free_udp_port(DEMO_NAS)
    server = subprocess.Popen(
        [sys.executable, "-m", "jet.cli", "radius", "serve", "--host", DEMO_NAS,
         "--acct-port", str(port), "--auth-port", "0"],
        env={**os.environ, "JET_HOME": str(settings.root)},
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        for line in server.stderr:
            if "accounting listening" in line:
                break
        else:
            raise RuntimeError(f"jet radius serve exited with {server.wait()}")
        result = run_load(attributes, DEMO_SECRET, (DEMO_NAS, port), in_flight=256)
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=120)
    if result.lost:
        raise RuntimeError(f"{result.lost} of {len(attributes)} RADIUS requests got no answer")
    return result.answered
