"""The NetFlow/IPFIX collector: UDP in, flows landed as Parquet in batches.

One thread receives: it reads every waiting datagram and feeds it to the
:class:`~ingest.netflow.decode.Decoder`, which only buffers raw records. A batch is cut
when it holds ``batch_flows`` flows or is ``batch_seconds`` old, and a second thread
decodes it in bulk and lands it with :func:`ingest.landing.land` while receiving goes
on. NetFlow has no acknowledgements: a flow is safe once its batch is landed, and
stopping (SIGTERM, Ctrl-C) lands what is buffered first, within 4 s (`ingest.stopping`:
what is still buffered then is lost, as in a crash); a second SIGTERM ends it at once.
What the network loses shows as sequence gaps per exporter; what the kernel drops (a
receive buffer overrun) is read from the socket's `drops` in /proc/net/udp, so loss is
reported either way.
"""

from __future__ import annotations

import logging
import os
import queue
import select
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from ingest.landing import land, recover
from ingest.netflow.decode import Decoder, Flows, Malformed
from ingest.stopping import exit_after
from schemas.raw import NETFLOW

log = logging.getLogger("jet.netflow")

_RECEIVE_BUFFER = 32 * 1024 * 1024  # bursts wait here while a batch is cut
_FINAL_DRAIN = 1.0  # seconds a stop reads what still arrives, within ingest.stopping's bound


@dataclass
class Counters:
    """What the collector did since it started; `summary()` is the line it logs."""

    packets: int = 0
    flows: int = 0
    landed: int = 0
    batches: int = 0
    land_failures: int = 0
    kernel_drops: int = 0
    cpu_seconds: float = 0.0  # used by the collector while serving (both threads)
    dropped: Counter[str] = field(default_factory=Counter)

    def summary(self, decoder: Decoder) -> str:
        dropped = self.dropped + decoder.dropped
        counts = [
            f"packets={self.packets}",
            f"flows={self.flows}",
            f"landed={self.landed}",
            f"batches={self.batches}",
            f"sequence_lost={decoder.lost()}",
            f"kernel_drops={self.kernel_drops}",
            f"held={decoder.held()}",
            f"land_failures={self.land_failures}",
            f"cpu_seconds={self.cpu_seconds:.2f}",
            f"dropped={sum(dropped.values())}",
        ]
        return " ".join(counts + [f"dropped_{k}={n}" for k, n in sorted(dropped.items())])


def flows_table(flows: Flows, exporters: list[str]) -> pa.Table:
    """Decoded flows in the landed NETFLOW schema."""
    n = len(flows)
    names = pa.array(exporters, pa.string())
    return pa.table(
        {
            "exporter": names.take(pa.array(flows.exporter, pa.int32())),
            "first_ts": pa.array(flows.first_ms * 1000, pa.timestamp("us", tz="UTC")),
            "last_ts": pa.array(flows.last_ms * 1000, pa.timestamp("us", tz="UTC")),
            "src_addr": _addresses(flows.src_addr, n),
            "dst_addr": _addresses(flows.dst_addr, n),
            "src_port": flows.src_port,
            "dst_port": flows.dst_port,
            "protocol": flows.protocol,
            "packets": flows.packets,
            "bytes": flows.bytes,
            "sampling_interval": flows.sampling_interval,
        },
        schema=NETFLOW,
    )


def _addresses(addresses: np.ndarray, n: int) -> pa.Array:
    data = pa.py_buffer(np.ascontiguousarray(addresses, dtype=np.uint8).tobytes())
    return pa.Array.from_buffers(pa.binary(16), n, [None, data])


class Collector:
    """Receives on a bound UDP socket until `stop()`; lands through a worker thread."""

    def __init__(
        self,
        sock: socket.socket,
        raw_root: Path,
        *,
        batch_flows: int = 100_000,
        batch_seconds: float = 1.0,
        stats_every: float = 60.0,
    ) -> None:
        self.sock = sock
        self.raw_root = raw_root
        self.batch_flows = batch_flows
        self.batch_seconds = batch_seconds
        self.stats_every = stats_every
        self.decoder = Decoder()
        self.counters = Counters()
        self._stop = threading.Event()
        self._batches: queue.Queue = queue.Queue(maxsize=4)
        self._requests: queue.SimpleQueue = queue.SimpleQueue()  # (batch id, landed event)
        self._lander = threading.Thread(target=self._land_batches, name="netflow-land")
        self._run = f"netflow-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{os.getpid()}"
        self._seq = 0
        self._logged: set[tuple[str, str]] = set()

    def stop(self) -> None:
        self._stop.set()

    def land_batch(self, batch_id: str, timeout: float = 60.0) -> None:
        """Land everything received so far as one batch named `batch_id`, and return once
        it is landed: a replay that names its batches (the demo's, by day) lands once."""
        done = threading.Event()
        self._requests.put((batch_id, done))
        if not done.wait(timeout):
            raise TimeoutError(f"batch {batch_id} was not landed within {timeout} s")

    def serve(self) -> Counters:
        """Receive, batch and land until stopped; land what is buffered, then return."""
        cpu = time.process_time()
        self._lander.start()
        self.sock.setblocking(False)
        opened = stats_at = expire_at = time.monotonic()
        try:
            while not self._stop.is_set():
                self._receive(0.05)
                while not self._requests.empty():
                    self._drain()
                    self._cut(*self._requests.get())
                now = time.monotonic()
                if self.decoder.pending and (
                    self.decoder.pending >= self.batch_flows or now - opened >= self.batch_seconds
                ):
                    self._cut()
                    opened = now
                elif not self.decoder.pending:
                    opened = now
                if now >= expire_at:
                    self.decoder.expire()
                    expire_at = now + 5
                if now - stats_at >= self.stats_every:
                    self.counters.kernel_drops = socket_drops(self.sock)
                    self.counters.cpu_seconds = time.process_time() - cpu
                    log.info("netflow: %s", self.counters.summary(self.decoder))
                    self._logged.clear()
                    stats_at = now
        finally:
            self._drain(time.monotonic() + _FINAL_DRAIN)  # what waits in the socket too
            self._cut()
            self._batches.put(None)
            self._lander.join()
            self.counters.kernel_drops = socket_drops(self.sock)
            self.counters.cpu_seconds = time.process_time() - cpu
        return self.counters

    def _drain(self, until: float = float("inf")) -> None:
        """Take every datagram waiting in the socket, cutting full batches on the way;
        at a stop, only until `until` (exporters that keep sending never let it empty)."""
        while not self._receive(0) and time.monotonic() < until:
            if self.decoder.pending >= self.batch_flows:
                self._cut()

    def _receive(self, wait: float) -> bool:
        """Read waiting datagrams, blocking up to `wait` for the first; True once the
        socket is empty."""
        if wait and not select.select([self.sock], [], [], wait)[0]:
            return True
        recvfrom, feed, counters = self.sock.recvfrom, self.decoder.feed, self.counters
        for _ in range(4096):  # then let the loop cut batches and check for stop
            try:
                data, addr = recvfrom(65535)
            except BlockingIOError:
                return True
            counters.packets += 1
            try:
                counters.flows += feed(data, addr[0])
            except Malformed as bad:
                counters.dropped[bad.reason] += 1
                if (bad.reason, addr[0]) not in self._logged:
                    self._logged.add((bad.reason, addr[0]))
                    log.warning("dropped a packet from %s:%d: %s", addr[0], addr[1], bad)
            except Exception:  # a bug, not the input: keep collecting, and say so
                counters.dropped["internal_error"] += 1
                log.exception("could not decode a packet from %s:%d", *addr)
            if self.decoder.pending >= self.batch_flows:
                return False
        return False

    def _cut(self, batch_id: str | None = None, landed: threading.Event | None = None) -> None:
        if not self.decoder.pending:
            if landed is not None:
                landed.set()
            return
        if batch_id is None:
            self._seq += 1
            batch_id = f"{self._run}-{self._seq:06d}"
        self._batches.put((batch_id, self.decoder.flush(), landed))

    def _land_batches(self) -> None:
        while (item := self._batches.get()) is not None:
            batch_id, flows, landed = item
            self._land(batch_id, flows)
            if landed is not None:
                landed.set()

    def _land(self, batch_id: str, flows: Flows) -> None:
        """Land one batch, retrying while landing fails; after a stop, three tries only."""
        table = flows_table(flows, list(self.decoder.exporter_names))
        tries_left = 3
        while True:
            try:
                result = land("netflow", table, batch_id, self.raw_root)
            except Exception:
                self.counters.land_failures += 1
                log.exception("could not land batch %s; retrying in 1 s", batch_id)
                tries_left -= self._stop.is_set()
                if not tries_left:
                    log.error("gave up on batch %s: %d flows are lost", batch_id, len(flows))
                    self.counters.dropped["land_failed"] += len(flows)
                    return
                time.sleep(1.0)
            else:
                if result.already_landed:
                    self.counters.dropped["already_landed"] += len(flows)
                else:
                    self.counters.landed += len(flows)
                    self.counters.batches += 1
                return


def socket_drops(sock: socket.socket) -> int:
    """Datagrams the kernel dropped for this socket (its receive buffer was full)."""
    inode = str(os.fstat(sock.fileno()).st_ino)
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            columns = line.split()
            if columns[9] == inode:
                return int(columns[-1])
    return 0


def open_socket(host: str, port: int) -> socket.socket:
    """A UDP socket on host:port (IPv6 too) with a receive buffer for bursts."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUFFORCE, _RECEIVE_BUFFER)
    except (OSError, AttributeError):  # not root: as much as rmem_max allows
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _RECEIVE_BUFFER)
    sock.bind((host, port))
    return sock


def serve(raw_root: Path, host: str = "0.0.0.0", port: int = 2055, **options) -> Counters:
    """`jet netflow serve`: collect until SIGTERM or SIGINT."""
    import signal

    removed = recover(raw_root)
    if removed:
        log.info("removed %d files of batches that were never acknowledged", len(removed))
    flows_table(Decoder().flush(), [])  # imports pyarrow.compute now, not in the first batch
    sock = open_socket(host, port)
    collector = Collector(sock, raw_root, **options)

    def stopping(*_) -> None:
        """The first SIGTERM or SIGINT: land what is buffered within ingest.stopping's
        bound; a second one ends the process at once."""
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, signal.SIG_DFL)
        collector.stop()
        exit_after("the NetFlow collector")

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, stopping)
    bound = sock.getsockname()
    log.info("NetFlow v5/v9/IPFIX collector listening on UDP %s:%d", bound[0], bound[1])
    counters = collector.serve()
    log.info("stopped: %s", counters.summary(collector.decoder))
    sock.close()
    return counters
