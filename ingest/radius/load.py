"""A NAS-like load on a RADIUS accounting server: many Accounting-Requests in flight.

`accounting_requests` encodes the attributes of N distinct requests once, with pyrad and
Jet's dictionary: sessions of Start, Interim-Updates and Stop, interleaved as a BRAS sends
them. `run_load` keeps `in_flight` of them outstanding over several UDP sockets (an
Identifier is one octet, so one source port holds at most 256), resends an unanswered
request with the same octets, at most `retries` times, after `timeout` seconds, then twice
as long each time, +-10 % at random (RFC 5080 section 2.2.1), and counts a request lost
when its last try goes unanswered (with 1 s and 3 resends: 15 s after it was first sent).
Each answer is checked against its request's authenticator (RFC 2866 section 4.2), so a
late answer to an earlier use of the same Identifier is not taken for the answer to the
current one.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import heapq
import random
import socket
import time
from collections import deque
from dataclasses import dataclass

from pyrad.packet import AcctPacket

from ingest.radius.accounting import DICTIONARY

ACCOUNTING_REQUEST = 4
ACCOUNTING_RESPONSE = 5
_ZERO = bytes(16)
_INTERIMS = 3  # per session: Start, 3 Interim-Updates, Stop
_BASE_TIME = 1_795_564_800  # 2026-11-25T00:00:00Z: every event falls on one UTC day
_GIGA = 2**32
_ID_REST = 2.0  # seconds before a source port reuses an Identifier (see `_Load`)
_RAMP_STEP = 64  # requests the window opens by ...
_RAMP_EVERY = 0.005  # ... every this many seconds, up to `in_flight`


def accounting_requests(n: int, secret: bytes) -> list[bytes]:
    """The attributes (everything after the 20-octet header) of `n` distinct requests.

    Request i belongs to session i % sessions, in phase i // sessions: every session
    starts, then every session sends an Interim-Update, and so on, so the requests in
    flight at any time are of many sessions. Counters past 4 GiB use the Gigawords."""
    phases = _INTERIMS + 2
    sessions = max(1, -(-n // phases))
    out = []
    for i in range(n):
        s, phase = i % sessions, i // sessions
        pkt = AcctPacket(dict=DICTIONARY, secret=secret, id=0)
        status = "Start" if phase == 0 else "Stop" if phase == phases - 1 else "Interim-Update"
        pkt.AddAttribute("Acct-Status-Type", status)
        pkt.AddAttribute("User-Name", f"acme-{s % 50_000:05d}@acme")
        pkt.AddAttribute("Acct-Session-Id", f"{s:08x}-bench")
        pkt.AddAttribute("NAS-IP-Address", f"10.{s % 4}.0.1")
        pkt.AddAttribute("NAS-Identifier", f"bras-{s % 4}")
        pkt.AddAttribute("NAS-Port", s % 65_536)
        framed = f"100.{64 + s // 65_536 % 64}.{s // 256 % 256}.{s % 256}"
        pkt.AddAttribute("Framed-IP-Address", framed)
        pkt.AddAttribute("Called-Station-Id", f"00-11-22-33-44-{s % 4:02X}:acme-wifi")
        mac = "-".join(f"{(s >> k) & 255:02X}" for k in range(0, 48, 8))
        pkt.AddAttribute("Calling-Station-Id", mac)
        pkt.AddAttribute("Event-Timestamp", _BASE_TIME + 3600 + s % 3600 + phase * 300)
        if phase > 0:
            seconds = phase * 300
            down = seconds * (1 + s % 7) * 3_000_000  # up to ~30 Mbit/s: Gigawords in use
            up = down // 10
            pkt.AddAttribute("Acct-Session-Time", seconds)
            pkt.AddAttribute("Acct-Input-Octets", up % _GIGA)
            pkt.AddAttribute("Acct-Input-Gigawords", up // _GIGA)
            pkt.AddAttribute("Acct-Output-Octets", down % _GIGA)
            pkt.AddAttribute("Acct-Output-Gigawords", down // _GIGA)
            pkt.AddAttribute("Acct-Input-Packets", up // 800)
            pkt.AddAttribute("Acct-Output-Packets", down // 1200)
        if phase == phases - 1:
            pkt.AddAttribute("Acct-Terminate-Cause", "User-Request")
        out.append(pkt.RequestPacket()[20:])
    return out


def request_key(attributes: bytes) -> tuple[str, str, int | None]:
    """(Acct-Session-Id, Acct-Status-Type, Acct-Session-Time) of encoded attributes:
    what tells the requests of `accounting_requests` apart in a FreeRADIUS detail file."""
    header = bytes((ACCOUNTING_REQUEST, 0)) + (20 + len(attributes)).to_bytes(2, "big")
    pkt = AcctPacket(dict=DICTIONARY, packet=header + _ZERO + attributes)
    times = pkt.get("Acct-Session-Time")
    return pkt["Acct-Session-Id"][0], pkt["Acct-Status-Type"][0], times[0] if times else None


@dataclass
class LoadResult:
    requests: int
    source_ports: int
    answered: int
    lost: int
    seconds: float  # first send to the last answer (or loss)
    seconds_to_99pct: float  # first send to the answer of 99 % of the requests
    latencies_ms: list[float]  # of the answered requests, first send to answer
    resends: int
    stray_answers: int  # answers to no outstanding request: duplicates, or very late
    cpu_seconds: float  # of this process while it ran the load
    answered_authenticators: set[bytes]

    @property
    def rps(self) -> float:
        """Answered requests per second of the whole run, the resends' tail included."""
        return self.answered / self.seconds if self.seconds else 0.0

    @property
    def rps_99pct(self) -> float:
        """Requests per second until 99 % were answered: the rate without the tail of
        resends that a few dropped packets add at the end."""
        if not self.seconds_to_99pct:
            return 0.0
        return max(1, int(0.99 * self.requests)) / self.seconds_to_99pct

    def percentile_ms(self, p: float) -> float | None:
        if not self.latencies_ms:
            return None
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


class _Load:
    """The state of one run. An Identifier is reused, on the same source port, only
    after it has rested `_ID_REST` seconds, and a new source port is opened whenever none
    has, so that no server takes a new request for a conflicting copy of an old one
    (FreeRADIUS discards a request reusing the Identifier of one it is still processing
    that it received less than a second before)."""

    def __init__(
        self,
        attributes: list[bytes],
        secret: bytes,
        server: tuple[str, int],
        in_flight: int,
        timeout: float,
        retries: int,
    ) -> None:
        self.attributes = attributes
        self.secret = secret
        self.server = server
        self.full_window = in_flight
        self.window = min(in_flight, _RAMP_STEP)  # opened by `ramp()`
        self.timeout = timeout
        self.random = random.Random(1813)
        self.retries = retries
        n = len(attributes)
        self.first_sent = [0.0] * n
        self.latency = [-1.0] * n
        self.tries = bytearray(n)
        self.packets: list[bytes | None] = [None] * n
        self.loop = asyncio.get_running_loop()
        self.socks: list[socket.socket] = []
        self.outstanding: list[dict[int, int]] = []  # per socket: Identifier -> request
        # (released at, socket, Identifier), least recently used first
        self.free_ids: deque[tuple[float, int, int]] = deque()
        self.where: dict[int, tuple[int, int]] = {}  # request -> (socket, id)
        # (resend at, request, its tries then); stale once answered or resent
        self.deadlines: list[tuple[float, int, int]] = []
        self.next = 0
        self.answered = 0
        self.lost = 0
        self.resends = 0
        self.stray = 0
        self.done = self.loop.create_future()
        for _ in range(-(-in_flight // 256)):
            self._open_socket()

    def _open_socket(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
        sock.bind(("127.0.0.1", 0))
        sock.setblocking(False)
        k = len(self.socks)
        self.socks.append(sock)
        self.outstanding.append({})
        self.free_ids.extendleft((0.0, k, ident) for ident in range(256))
        self.loop.add_reader(sock.fileno(), self.readable, k)

    def close(self) -> None:
        for sock in self.socks:
            self.loop.remove_reader(sock.fileno())
            sock.close()

    def fill(self) -> None:
        """Send new requests while fewer than the window are outstanding."""
        n = len(self.attributes)
        while len(self.where) < self.window and self.next < n:
            if self.free_ids[0][0] > time.perf_counter() - _ID_REST:
                self._open_socket()
            _, k, ident = self.free_ids.popleft()
            i = self.next
            self.next += 1
            attrs = self.attributes[i]
            header = bytes((ACCOUNTING_REQUEST, ident)) + (20 + len(attrs)).to_bytes(2, "big")
            auth = hashlib.md5(header + _ZERO + attrs + self.secret).digest()
            packet = header + auth + attrs
            self.packets[i] = packet
            self.outstanding[k][ident] = i
            self.where[i] = (k, ident)
            now = time.perf_counter()
            self.first_sent[i] = now
            self._send(i, now)

    def _send(self, i: int, now: float) -> None:
        k, _ = self.where[i]
        self.tries[i] += 1
        # RFC 5080 section 2.2.1: the wait doubles at each try, each time +-10 % at random,
        # so that requests lost together in a burst are not resent in one burst again
        wait = self.timeout * 2 ** (self.tries[i] - 1) * self.random.uniform(0.9, 1.1)
        heapq.heappush(self.deadlines, (now + wait, i, self.tries[i]))
        with contextlib.suppress(BlockingIOError, InterruptedError):  # as if lost on the way
            self.socks[k].sendto(self.packets[i], self.server)  # type: ignore[arg-type]

    def readable(self, k: int) -> None:
        sock, outstanding = self.socks[k], self.outstanding[k]
        secret = self.secret
        while True:
            try:
                data = sock.recv(4096)
            except (BlockingIOError, InterruptedError):
                break
            now = time.perf_counter()
            i = outstanding.get(data[1]) if len(data) >= 20 else None
            if i is None or data[0] != ACCOUNTING_RESPONSE:
                self.stray += 1
                continue
            request_auth = self.packets[i][4:20]  # type: ignore[index]
            if hashlib.md5(data[:4] + request_auth + data[20:] + secret).digest() != data[4:20]:
                self.stray += 1  # a late answer to an earlier use of this Identifier
                continue
            self.latency[i] = now - self.first_sent[i]
            self.answered += 1
            self._release(i)
        self.fill()
        self._check_done()

    def _release(self, i: int) -> None:
        k, ident = self.where.pop(i)
        del self.outstanding[k][ident]
        self.free_ids.append((time.perf_counter(), k, ident))

    async def ramp(self) -> None:
        """Open the window a step at a time rather than sending it in one burst, which
        overflows a receive buffer of the default size (208 KiB, as FreeRADIUS's: a few
        hundred requests) and then shows as 1 s resends of the first requests."""
        while self.window < self.full_window:
            await asyncio.sleep(_RAMP_EVERY)
            self.window = min(self.full_window, self.window + _RAMP_STEP)
            self.fill()

    async def resend(self) -> None:
        while not self.done.done():
            await asyncio.sleep(0.02)
            now = time.perf_counter()
            due = []
            while self.deadlines and self.deadlines[0][0] <= now:
                _, i, tries = heapq.heappop(self.deadlines)
                if i in self.where and self.tries[i] == tries:
                    due.append(i)
            for i in due:
                if self.tries[i] > self.retries:
                    self.lost += 1
                    self._release(i)
                else:
                    self.resends += 1
                    self._send(i, now)
            if due:
                self.fill()
                self._check_done()

    def _check_done(self) -> None:
        if self.answered + self.lost == len(self.attributes) and not self.done.done():
            self.done.set_result(time.perf_counter())


async def _run(
    attributes: list[bytes],
    secret: bytes,
    server: tuple[str, int],
    in_flight: int,
    timeout: float,
    retries: int,
) -> LoadResult:
    loop = asyncio.get_running_loop()
    load = _Load(attributes, secret, server, in_flight, timeout, retries)
    resender = loop.create_task(load.resend())
    ramp = loop.create_task(load.ramp())
    began, cpu = time.perf_counter(), time.process_time()
    load.fill()
    try:
        ended = await load.done
        cpu = time.process_time() - cpu
    finally:
        resender.cancel()
        ramp.cancel()
        load.close()
    answered = [i for i, lat in enumerate(load.latency) if lat >= 0]
    answered_at = sorted(load.first_sent[i] + load.latency[i] - began for i in answered)
    nearly_all = max(1, int(0.99 * len(attributes)))
    return LoadResult(
        requests=len(attributes),
        source_ports=len(load.socks),
        answered=load.answered,
        lost=load.lost,
        seconds=ended - began,
        seconds_to_99pct=answered_at[nearly_all - 1] if len(answered_at) >= nearly_all else 0.0,
        latencies_ms=[load.latency[i] * 1000 for i in answered],
        resends=load.resends,
        stray_answers=load.stray,
        cpu_seconds=cpu,
        answered_authenticators={load.packets[i][4:20] for i in answered},  # type: ignore[index]
    )


def run_load(
    attributes: list[bytes],
    secret: bytes,
    server: tuple[str, int],
    *,
    in_flight: int = 512,
    timeout: float = 1.0,
    retries: int = 3,
) -> LoadResult:
    """Send every request to `server` with `in_flight` outstanding; see the module doc."""
    return asyncio.run(_run(attributes, secret, server, in_flight, timeout, retries))
