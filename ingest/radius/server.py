"""The RADIUS accounting server: UDP in, group-committed Parquet out, answers after landing.

Each Accounting-Request from a known NAS that verifies becomes a row and joins the open
batch. A batch is landed with :func:`ingest.landing.land` by the landing process
(`ingest.radius.lander`), so that receiving goes on beside it, as soon as the batch
before it has landed (group commit: one batch lands at a time, and what arrived
meanwhile, up to ``batch_rows`` rows, is the next), or not before its oldest request has
waited ``batch_delay`` seconds if that is set; up to ``max_pending`` rows wait
meanwhile. Only when the batch has landed (the rows are fsynced and the manifest
acknowledges them) are the Accounting-Responses of its requests sent. A NAS resends what
is not answered, so nothing answered is ever lost. A crash between landing and answering
lands those rows again when they are resent (same source, Identifier and authenticator,
later received_at and _batch_id): removing such copies is left to the session models in
dbt.

A resend (same source address and port, Identifier and Request Authenticator) seen in
the last ``dedup_seconds`` is not landed again: it is answered at once if its batch is
durable, else with its batch. A Status-Server (RFC 5997) from a known NAS with a valid
Message-Authenticator is answered at once. Nothing a client sends raises: refused
packets are counted by reason and logged once per reason and source per stats interval.

The accounting socket is read by :class:`ReadAllTransport`, which takes every datagram
waiting at each wakeup rather than one. :func:`serve` runs authentication
(`ingest.radius.auth_server`) in the same event loop.

SIGTERM or SIGINT stops it: new requests are dropped, the pending ones are landed and
answered, then the landing process exits. `ingest.stopping` bounds that to 4 s (a
landing that hangs, a reload on a busy store): then the landing process is killed and
the server exits with code 1, leaving what it did not answer to be resent. A second
SIGTERM ends it at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
import socket
import time
from collections import Counter, OrderedDict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest.landing import recover
from ingest.radius.accounting import (
    Row,
    accounting_row,
    ip_to_int,
    read_accounting,
    warm_up,
)
from ingest.radius.auth_server import AuthServer
from ingest.radius.lander import Lander, LandingProcessError
from ingest.radius.packets import (
    ACCOUNTING_RESPONSE,
    MAX_LENGTH,
    STATUS_SERVER,
    Drop,
    accounting_response,
    check_framing,
    status_reply,
    verify_request,
)
from ingest.radius.relay import user_name
from ingest.stopping import exit_after
from jet.errors import JetError
from jet.network_access import AccessView

log = logging.getLogger("jet.radius")

_RECEIVE_BUFFER = 8 * 1024 * 1024  # absorbs bursts while the loop is busy (capped by rmem_max)
_SEND_BUFFER = 4 * 1024 * 1024  # a batch's answers go out at once
_READS_PER_WAKEUP = 256  # datagrams read before timers and landed batches get their turn
_RETRY_AFTER_FAILURE = 1.0  # seconds between landing attempts while landing fails
# After a batch lands and is answered, the open batch waits up to this share of the time
# that landing took for as many more requests as were answered: the NAS that got the
# answers sends its next requests at once, and they land with those that came meanwhile
# rather than one landing later, and all in flight do not settle into two halves that
# land by turns.
_LINGER = 0.5

Address = tuple[str, int]
Key = tuple[str, int, int, bytes]  # source address, source port, Identifier, authenticator


class ServerError(JetError, RuntimeError):
    """The server cannot start as configured (the port is taken, say)."""


@dataclass
class Counters:
    """What the server did since it started; `summary()` is the line it logs."""

    received: int = 0
    landed: int = 0
    responded: int = 0
    resent: int = 0  # retransmissions recognised and not landed again
    batches: int = 0
    land_failures: int = 0
    status_server: int = 0  # Status-Server requests answered (RFC 5997)
    dropped: Counter[str] = field(default_factory=Counter)

    def summary(self) -> str:
        counts = [
            f"received={self.received}",
            f"landed={self.landed}",
            f"responded={self.responded}",
            f"resent={self.resent}",
            f"batches={self.batches}",
            f"land_failures={self.land_failures}",
            f"status_server={self.status_server}",
            f"dropped={sum(self.dropped.values())}",
        ]
        counts += [f"dropped_{reason}={n}" for reason, n in sorted(self.dropped.items())]
        return " ".join(counts)


# An accepted request, as the resend window keeps it: its answer, its number in the order
# of arrival (it is durable once every request up to it has landed or failed) and
# time.monotonic() when it arrived. Tuples of plain values, which the garbage collector
# stops tracking: a window of 100,000s of objects it scanned cost tens of ms a pause.
Seen = tuple[bytes, int, float]


@dataclass(slots=True)
class _Batch:
    """A batch on its way to the lake: its rows, the requests they answer (where each
    answer goes, and the answer), and the arrival number of its last request."""

    batch_id: str
    rows: list[Row]
    requests: list[tuple[Key, bytes]]
    last: int


class AccountingServer(asyncio.DatagramProtocol):
    """The protocol of the accounting socket; `clients` maps NAS addresses to secrets.

    Await `start` (the landing process) before it receives, and `close` at the end. Any
    datagram transport will do; `serve` gives it a :class:`ReadAllTransport`. The open
    batch is looked at once the datagrams of a wakeup are read, not after each."""

    def __init__(
        self,
        clients: Mapping[str, bytes],
        raw_root: Path,
        *,
        batch_rows: int = 2000,
        batch_delay: float = 0.0,
        dedup_seconds: float = 60.0,
        dedup_max: int = 200_000,
        max_pending: int = 50_000,
    ) -> None:
        self.clients = clients
        self.raw_root = raw_root
        self.batch_rows = batch_rows
        self.batch_delay = batch_delay
        self.dedup_seconds = dedup_seconds
        self.dedup_max = dedup_max
        self.max_pending = max_pending
        self.counters = Counters()
        self._transport: asyncio.DatagramTransport | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._rows: list[Row] = []
        self._requests: list[tuple[Key, bytes]] = []
        self._arrived = 0  # requests accepted: the last one's arrival number
        self._landed_through = 0  # every request up to this arrival number has landed
        self._opened = 0.0  # when the open batch got its first row
        self._sent_at = 0.0  # when the batch that lands was handed over
        self._expect = 0  # rows the open batch lingers for: see _LINGER
        self._linger_until = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._due = False  # a look at the open batch is scheduled
        self._lander: Lander | None = None  # the landing process, once `start`ed
        self._newest: Lander | None = None  # the latest one, even while it starts
        self._landing: _Batch | None = None  # the batch it lands
        self._paused = False  # after a failed landing, or with the landing process gone
        self._restarting: asyncio.Task[None] | None = None  # a new landing process
        self._idle: asyncio.Future[None] | None = None  # set when nothing is landing
        self._recent: OrderedDict[Key, Seen] = OrderedDict()
        self._source_ips: dict[str, int] = {}
        self._logged: set[tuple[str, str]] = set()  # (reason, source) logged this interval
        self._closing = False
        started = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        self._run = f"acct-{started}-{os.getpid()}"
        self._seq = 0

    # --- receiving ---------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]
        self._loop = asyncio.get_running_loop()

    def datagram_received(self, data: bytes, addr: Address) -> None:
        self.counters.received += 1
        try:
            if data[:1] == _STATUS_SERVER:
                self._status(data, addr)
            else:
                self._accept(data, addr)
        except Drop as drop:
            self._drop(drop, addr)
        except Exception:  # a bug, not the input: keep serving, and say so loudly
            log.exception("could not handle a packet from %s:%d", *addr)
            self._drop(Drop("internal_error"), addr)

    def _accept(self, data: bytes, addr: Address) -> None:
        if self._closing:
            raise Drop("shutting_down")
        secret = self.clients.get(addr[0])
        if secret is None:
            raise Drop("unknown_client", "not a NAS client: add it with `jet nas add`")
        read = read_accounting(data)
        packet = read[0]
        verify_request(packet, secret, read[1])
        now = time.monotonic()
        key = (addr[0], addr[1], packet[1], packet[4:20])
        known = self._recent.get(key)
        if known is not None:
            self.counters.resent += 1
            if known[1] <= self._landed_through:
                self._answer(known[0], addr)
            return  # a pending one is answered when its batch lands
        if len(self._rows) >= self.max_pending:
            raise Drop("overloaded", f"{len(self._rows)} rows wait for landing")
        source_ip = self._source_ips.get(addr[0])
        if source_ip is None:
            source_ip = self._source_ips[addr[0]] = ip_to_int(addr[0])
        row = accounting_row(read, source_ip, time.time_ns() // 1000)
        reply = accounting_response(packet, secret, read[2])
        self._arrived += 1
        self._recent[key] = (reply, self._arrived, now)
        if not self._rows:
            self._opened = now
        self._rows.append(row)
        self._requests.append((key, reply))
        if not self._due:
            self._due = True
            self._loop.call_soon(self._look)  # type: ignore[union-attr]

    def _status(self, data: bytes, addr: Address) -> None:
        """Answer a Status-Server (RFC 5997): the server is up and takes accounting."""
        if self._closing:
            raise Drop("shutting_down")
        secret = self.clients.get(addr[0])
        if secret is None:
            raise Drop("unknown_client", "not a NAS client: add it with `jet nas add`")
        self._answer(status_reply(data, secret, ACCOUNTING_RESPONSE), addr)
        self.counters.status_server += 1

    def _look(self) -> None:
        """After a wakeup's datagrams: forget old requests, land the batch if it is time."""
        self._due = False
        self._forget_old(time.monotonic())
        self._schedule()

    def _forget_old(self, now: float) -> None:
        """Drop answered requests older than the resend window, or past its size."""
        recent = self._recent
        while recent:
            _, number, seen = next(iter(recent.values()))
            young = now - seen < self.dedup_seconds and len(recent) <= self.dedup_max
            if young or number > self._landed_through:
                return
            recent.popitem(last=False)

    def _drop(self, drop: Drop, addr: Address) -> None:
        self.counters.dropped[drop.reason] += 1
        if (drop.reason, addr[0]) not in self._logged:
            self._logged.add((drop.reason, addr[0]))
            log.warning(
                "dropped a packet from %s:%d: %s (more like it until the next stats line "
                "are only counted)",
                addr[0],
                addr[1],
                drop,
            )

    def _answer(self, reply: bytes, addr: Address) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.sendto(reply, addr)
            self.counters.responded += 1

    # --- group commit ------------------------------------------------------------------

    def _schedule(self) -> None:
        """Start landing the open batch if nothing is landing and it is due, else arm its
        timer. It is due at once (what arrived while the batch before it landed is the
        next batch: group commit), or once it has lingered (`_LINGER`), unless
        `batch_delay` holds it; it holds at most `batch_rows` rows."""
        if self._landing is not None or self._paused or self._lander is None or not self._rows:
            return
        now = time.monotonic()
        due = self._opened + self.batch_delay
        if len(self._rows) < self._expect:
            due = max(due, self._linger_until)
        wait = due - now
        if self._closing or wait <= 0 or len(self._rows) >= self.batch_rows:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            self._flush()
        else:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = self._loop.call_later(wait, self._on_timer)  # type: ignore[union-attr]

    def _on_timer(self) -> None:
        self._timer = None
        self._schedule()

    def _flush(self) -> None:
        """Hand the first `batch_rows` rows to the landing process."""
        n = self.batch_rows
        self._seq += 1
        rows, requests = self._rows[:n], self._requests[:n]
        self._rows, self._requests = self._rows[n:], self._requests[n:]
        last = self._arrived - len(self._rows)
        batch = _Batch(f"{self._run}-{self._seq:08d}", rows, requests, last)
        if self._requests:  # those beyond the batch's size
            self._opened = self._recent[self._requests[0][0]][2]
        self._landing = batch
        self._sent_at = time.monotonic()
        self._busy()
        with contextlib.suppress(LandingProcessError):  # it just died: `_lander_exited` fails it
            self._lander.land(batch.batch_id, batch.rows)  # type: ignore[union-attr]

    def _landed(self, batch_id: str, error: str | None) -> None:
        batch, self._landing = self._landing, None
        assert batch is not None and batch.batch_id == batch_id
        if error is None:
            self.counters.batches += 1
            self.counters.landed += len(batch.rows)
            self._landed_through = batch.last
            now = time.monotonic()
            self._expect = len(self._rows) + len(batch.rows)
            self._linger_until = now + _LINGER * (now - self._sent_at)
            for key, reply in batch.requests:
                self._answer(reply, key[:2])  # type: ignore[arg-type]
            self._schedule()
        else:
            self._failed(batch, error)
            self._paused = True
            self._busy()
            with contextlib.suppress(LandingProcessError):  # it just died: see `_lander_exited`
                self._lander.recover()  # type: ignore[union-attr]
        self._settle()

    def _failed(self, batch: _Batch, error: str) -> None:
        """Count and log a batch that did not land, and forget its requests so that
        their resends are taken as new."""
        self.counters.land_failures += 1
        log.error(
            "could not land batch %s (%d rows): not answering them, their NAS will resend\n%s",
            batch.batch_id,
            len(batch.rows),
            error.rstrip(),
        )
        for key, _ in batch.requests:
            self._recent.pop(key, None)

    def _recovered(self, error: str | None) -> None:
        """What a failed landing left is removed, so readers never see unanswered rows:
        land the next batch after a pause."""
        if error is not None:
            log.error("could not clean up after a failed landing; restart to recover\n%s", error)
        pause = 0 if self._closing else _RETRY_AFTER_FAILURE
        self._loop.call_later(pause, self._resume)  # type: ignore[union-attr]

    def _resume(self) -> None:
        if self._lander is None:
            return  # a new landing process is on its way; its `_recovered` resumes
        self._paused = False
        self._schedule()
        self._settle()

    def _lander_exited(self) -> None:
        """The landing process died: fail the batch it held, start another, clean up."""
        log.error("the landing process (pid %s) exited; starting another", self._lander.pid)  # type: ignore[union-attr]
        self._lander = None
        self._paused = True
        self._busy()
        if self._landing is not None:
            self._failed(self._landing, "the landing process exited")
            self._landing = None
        self._restarting = self._loop.create_task(self._restart())  # type: ignore[union-attr]

    async def _restart(self) -> None:
        while True:
            try:
                await self.start()
            except LandingProcessError:
                log.exception("could not start the landing process")
                if self._closing:  # nothing will land what waits: its NAS will resend it
                    self._abandon()
                    return
                await asyncio.sleep(_RETRY_AFTER_FAILURE)
            else:
                self._lander.recover()  # type: ignore[union-attr]
                return  # `_recovered` ends the pause

    def _abandon(self) -> None:
        """Give up the rows that wait, unanswered, and let `close` finish."""
        if self._rows:
            batch = _Batch("(not landed)", self._rows, self._requests, self._arrived)
            self._failed(batch, "shutting down")
            self._rows, self._requests = [], []
        self._paused = False
        self._settle()

    def _busy(self) -> None:
        """Have `close` wait until `_settle` finds nothing landing and nothing paused."""
        if self._idle is None or self._idle.done():
            self._idle = self._loop.create_future()  # type: ignore[union-attr]

    def _settle(self) -> None:
        """Tell `close` when nothing lands or waits to be retried."""
        idle = self._idle
        if self._landing is None and not self._paused and idle is not None and not idle.done():
            idle.set_result(None)

    # --- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Start the landing process; requests are landed once it is ready."""
        self._loop = asyncio.get_running_loop()
        lander = Lander(self.raw_root, self._landed, self._recovered, self._lander_exited)
        self._newest = lander
        await lander.start()
        self._lander = lander

    def kill_lander(self) -> None:
        """SIGKILL the landing process, ready or still starting: a stop cut short (see
        ingest.stopping), from the watchdog's thread."""
        if self._newest is not None:
            self._newest.kill_process()

    async def close(self) -> None:
        """Refuse new requests, land and answer the pending ones, then close the socket
        and the landing process."""
        self._closing = True
        while self._rows or self._landing is not None or self._paused:
            self._schedule()
            if self._idle is not None and not self._idle.done():
                await asyncio.shield(self._idle)
        if self._transport is not None:
            self._transport.close()
        if self._lander is not None:
            await self._lander.close()

    async def log_stats(self, every: float) -> None:
        """Log the counters every `every` seconds (and let each drop be logged again)."""
        while True:
            await asyncio.sleep(every)
            log.info("stats: %s", self.counters.summary())
            self._logged.clear()


_STATUS_SERVER = bytes((STATUS_SERVER,))


class ReadAllTransport(asyncio.DatagramTransport):
    """A UDP transport that reads every datagram waiting (up to `_READS_PER_WAKEUP`) each
    time its socket is readable, where asyncio's reads one per event-loop turn; sends go
    straight to the socket and queue only if it would block."""

    def __init__(self, loop: asyncio.AbstractEventLoop, sock: socket.socket, protocol: Any) -> None:
        super().__init__(extra={"socket": sock, "sockname": sock.getsockname()})
        self._loop = loop
        self._sock = sock
        self._protocol = protocol
        self._backlog: deque[tuple[bytes, Address]] = deque()
        self._closing = False
        sock.setblocking(False)
        loop.add_reader(sock.fileno(), self._read_ready)
        protocol.connection_made(self)

    def _read_ready(self) -> None:
        recvfrom = self._sock.recvfrom
        for _ in range(_READS_PER_WAKEUP):
            try:
                data, addr = recvfrom(MAX_LENGTH)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                self._protocol.error_received(exc)
                return
            self._protocol.datagram_received(data, addr)

    def sendto(self, data: Any, addr: Any = None) -> None:
        if self._backlog:
            self._backlog.append((data, addr))
            return
        try:
            self._sock.sendto(data, addr)
        except (BlockingIOError, InterruptedError):
            self._backlog.append((data, addr))
            self._loop.add_writer(self._sock.fileno(), self._write_ready)
        except OSError as exc:
            self._protocol.error_received(exc)

    def _write_ready(self) -> None:
        while self._backlog:
            data, addr = self._backlog[0]
            try:
                self._sock.sendto(data, addr)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                self._protocol.error_received(exc)
            self._backlog.popleft()
        self._loop.remove_writer(self._sock.fileno())
        if self._closing:
            self._finish()

    def get_write_buffer_size(self) -> int:
        return len(self._backlog)

    def is_closing(self) -> bool:
        return self._closing

    def set_protocol(self, protocol: Any) -> None:
        self._protocol = protocol

    def get_protocol(self) -> Any:
        return self._protocol

    def close(self) -> None:
        """Stop reading; close once what is queued is sent."""
        if self._closing:
            return
        self._closing = True
        self._loop.remove_reader(self._sock.fileno())
        if not self._backlog:
            self._finish()

    def abort(self) -> None:
        self._backlog.clear()
        self._loop.remove_writer(self._sock.fileno())
        self._closing = True
        self._loop.remove_reader(self._sock.fileno())
        self._finish()

    def _finish(self) -> None:
        if self._sock.fileno() < 0:
            return
        self._sock.close()
        self._loop.call_soon(self._protocol.connection_lost, None)


async def serve(
    raw_root: Path,
    load_clients: Callable[[], dict[str, bytes]],
    host: str = "0.0.0.0",
    port: int = 1813,
    *,
    batch_rows: int = 2000,
    batch_delay: float = 0.0,
    stats_every: float = 60.0,
    load_view: Callable[[], AccessView] | None = None,
    auth_port: int = 1812,
    refresh_every: float = 30.0,
    require_message_authenticator: bool = False,
) -> Counters:
    """Serve RADIUS accounting, and authentication if `load_view` is given, until SIGTERM
    or SIGINT; return the final accounting counters.

    Removes what an interrupted landing left (``recover``) before listening. SIGHUP
    reloads the NAS clients through `load_clients` and the logins through `load_view`,
    which are also reloaded every `refresh_every` seconds.
    """
    removed = recover(raw_root)
    if removed:
        log.info("removed %d files of batches that were never acknowledged", len(removed))
    warm_up()
    clients = load_clients()
    if not clients:
        log.warning("no NAS clients: every packet will be dropped; add one with `jet nas add`")
    loop = asyncio.get_running_loop()
    server = AccountingServer(clients, raw_root, batch_rows=batch_rows, batch_delay=batch_delay)
    stop = asyncio.Event()
    taking = False  # requests: once the accounting socket is open

    def stopping() -> None:
        """The first SIGTERM or SIGINT: stop within ingest.stopping's bound, the landing
        process included; a second one ends the process at once."""
        if not stop.is_set():
            stop.set()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
            exit_after("the RADIUS server", before=server.kill_lander)
            if not taking:  # nothing to land yet: end the start rather than wait for it
                server.kill_lander()

    # Before the landing process starts: a server killed while it started left that
    # process to run on for seconds.
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping)
    try:
        await server.start()
        transport, _ = await _listen(lambda: server, host, port, read_all=True)
    except LandingProcessError as err:
        if stop.is_set():  # `stopping` ended it
            log.info("stopped while starting")
            return server.counters
        raise ServerError(str(err)) from err
    except BaseException:
        await server.close()
        raise
    taking = True
    auth: AuthServer | None = None
    if load_view is not None:
        try:
            view = await _first_view(load_view)
            auth_transport, auth = await _listen(
                lambda: AuthServer(
                    clients,
                    load_view,
                    view,
                    require_message_authenticator=require_message_authenticator,
                ),
                host,
                auth_port,
            )
        except BaseException:
            await server.close()
            raise
        transport.set_protocol(AccountingTap(server, auth))  # copies remote realms' accounting
    reloads: set[asyncio.Task[bool]] = set()  # held until done, as asyncio asks

    def reload() -> None:
        try:
            server.clients = load_clients()
        except Exception:
            log.exception("could not reload the NAS clients; keeping the ones loaded")
        else:
            log.info("reloaded %d NAS clients", len(server.clients))
        if auth is not None:
            auth.clients = server.clients
            task = loop.create_task(auth.reload(announce=True))
            reloads.add(task)
            task.add_done_callback(reloads.discard)

    loop.add_signal_handler(signal.SIGHUP, reload)
    tasks = [loop.create_task(server.log_stats(stats_every))]
    gc.collect()
    gc.freeze()  # what was made to start (modules, the logins): no collection scans it again
    bound_host, bound_port = transport.get_extra_info("sockname")[:2]
    log.info(
        "RADIUS accounting listening on %s:%d for %d NAS clients (batches of %d rows or %g ms)",
        bound_host,
        bound_port,
        len(clients),
        batch_rows,
        batch_delay * 1000,
    )
    if auth is not None:
        tasks += [
            loop.create_task(auth.log_stats(stats_every)),
            loop.create_task(auth.keep_fresh(refresh_every)),
        ]
        auth_host, auth_bound = auth_transport.get_extra_info("sockname")[:2]
        log.info(
            "RADIUS authentication listening on %s:%d for %d logins (reloaded every %g s)",
            auth_host,
            auth_bound,
            len(auth.view.logins),
            refresh_every,
        )
    try:
        await stop.wait()
        log.info("stopping: landing and answering what is pending")
    finally:
        for task in [*tasks, *reloads]:
            task.cancel()
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.remove_signal_handler(sig)
        if auth is not None:
            auth.close()
            log.info("auth totals: %s", auth.counters.summary())
            log.info("proxy totals: %s", auth.proxy.counters.summary())
        await server.close()
        log.info("stopped: %s", server.counters.summary())
    return server.counters


async def _first_view(load_view: Callable[[], AccessView]) -> AccessView:
    """The logins to start with, read in a worker thread; a ServerError if they cannot be."""
    try:
        return await asyncio.get_running_loop().run_in_executor(None, load_view)
    except Exception as err:
        log.exception("could not load the logins")
        raise ServerError(f"cannot load the logins from the store: {err}") from err


async def _listen(protocol, host: str, port: int, *, read_all: bool = False):
    """A UDP endpoint on host:port with large socket buffers, or a ServerError; with
    `read_all`, its transport is a :class:`ReadAllTransport`."""
    loop = asyncio.get_running_loop()
    try:
        if read_all:
            transport = ReadAllTransport(loop, bind_udp(host, port), protocol())
            server = transport.get_protocol()
        else:
            transport, server = await loop.create_datagram_endpoint(
                protocol, local_addr=(host, port), family=socket.AF_INET
            )
    except OSError as err:
        raise ServerError(f"cannot listen on UDP {host}:{port}: {err.strerror or err}") from err
    sock = transport.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _RECEIVE_BUFFER)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, _SEND_BUFFER)
    return transport, server


def bind_udp(host: str, port: int) -> socket.socket:
    """A non-blocking IPv4 UDP socket bound to host:port (0: a free port)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.setblocking(False)
        sock.bind((host, port))
    except BaseException:
        sock.close()
        raise
    return sock


class AccountingTap(asyncio.DatagramProtocol):
    """The accounting socket's protocol once authentication runs beside it: every datagram
    goes to the accounting server `server` as before, then a request of a remote realm
    that verifies is copied to its home server by the proxy of `auth`."""

    def __init__(self, server: AccountingServer, auth: AuthServer) -> None:
        self.server = server
        self.auth = auth

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.server.connection_made(transport)

    def error_received(self, exc: Exception) -> None:
        self.server.error_received(exc)

    def connection_lost(self, exc: Exception | None) -> None:
        self.server.connection_lost(exc)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.server.datagram_received(data, addr)
        view = self.auth.view
        if not view.remote_realms:
            return
        try:
            secret = self.server.clients.get(addr[0])
            if secret is None:
                return
            packet, message_authenticator = check_framing(data)
            name = user_name(packet)
            home = None if name is None else view.home_server(addr[0], name)
            if home is None or home.acct_port is None:
                return
            verify_request(packet, secret, message_authenticator)
            self.auth.proxy.copy_accounting(packet, home, addr)
        except Drop:  # the accounting server has counted and logged it
            return
        except Exception:  # a bug, not the input: landing goes on, say so loudly
            log.exception("could not copy an Accounting-Request from %s:%d", *addr)
