"""The RADIUS accounting server: UDP in, group-committed Parquet out, answers after landing.

Each Accounting-Request from a known NAS that verifies becomes a row and joins the open
batch. A batch is landed with :func:`ingest.landing.land`, in a worker thread so that
receiving goes on, when it holds ``batch_rows`` rows or is ``batch_delay`` seconds old
(one batch lands at a time; the next fills meanwhile, up to ``max_pending`` rows);
only when ``land()`` has returned (the rows are fsynced and the manifest acknowledges
them) are the Accounting-Responses of its requests sent. A NAS resends what is not
answered, so nothing answered is ever lost. A crash between landing and answering lands
those rows again when they are resent (same source, Identifier and authenticator, later
received_at and _batch_id): removing such copies is left to the session models in dbt.

A resend (same source address and port, Identifier and Request Authenticator) seen in
the last ``dedup_seconds`` is not landed again: it is answered at once if its batch is
durable, else with its batch. Nothing a client sends raises: refused packets are
counted by reason and logged once per reason and source per stats interval.

:func:`serve` runs authentication (`ingest.radius.auth_server`) in the same event loop.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ingest.landing import land, recover
from ingest.radius.accounting import Row, decode_accounting, ip_to_int, records_table, warm_up
from ingest.radius.auth_server import AuthServer
from ingest.radius.packets import Drop, accounting_response, check_framing, verify_request
from jet.network_access import AccessView

log = logging.getLogger("jet.radius")

_RECEIVE_BUFFER = 8 * 1024 * 1024  # absorbs bursts while the loop is busy (capped by rmem_max)
_RETRY_AFTER_FAILURE = 1.0  # seconds between landing attempts while landing fails

Key = tuple[str, int, int, bytes]  # source address, source port, Identifier, authenticator


class ServerError(RuntimeError):
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
    dropped: Counter[str] = field(default_factory=Counter)

    def summary(self) -> str:
        counts = [
            f"received={self.received}",
            f"landed={self.landed}",
            f"responded={self.responded}",
            f"resent={self.resent}",
            f"batches={self.batches}",
            f"land_failures={self.land_failures}",
            f"dropped={sum(self.dropped.values())}",
        ]
        counts += [f"dropped_{reason}={n}" for reason, n in sorted(self.dropped.items())]
        return " ".join(counts)


@dataclass(slots=True)
class _Request:
    """An accepted request: where its answer goes, the answer, and whether it is durable."""

    key: Key
    reply: bytes
    seen: float  # time.monotonic() when it arrived
    durable: bool = False


class AccountingServer(asyncio.DatagramProtocol):
    """The protocol of the accounting socket; `clients` maps NAS addresses to secrets."""

    def __init__(
        self,
        clients: Mapping[str, bytes],
        raw_root: Path,
        *,
        batch_rows: int = 2000,
        batch_delay: float = 0.02,
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
        self._rows: list[Row] = []
        self._requests: list[_Request] = []
        self._opened = 0.0  # when the open batch got its first row
        self._timer: asyncio.TimerHandle | None = None
        self._flushing: asyncio.Task[None] | None = None
        self._recent: OrderedDict[Key, _Request] = OrderedDict()
        self._logged: set[tuple[str, str]] = set()  # (reason, source) logged this interval
        self._closing = False
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="radius-land")
        started = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        self._run = f"acct-{started}-{os.getpid()}"
        self._seq = 0

    # --- receiving ---------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.counters.received += 1
        try:
            self._accept(data, addr)
        except Drop as drop:
            self._drop(drop, addr)
        except Exception:  # a bug, not the input: keep serving, and say so loudly
            log.exception("could not handle a packet from %s:%d", *addr)
            self._drop(Drop("internal_error"), addr)

    def _accept(self, data: bytes, addr: tuple[str, int]) -> None:
        if self._closing:
            raise Drop("shutting_down")
        secret = self.clients.get(addr[0])
        if secret is None:
            raise Drop("unknown_client", "not a NAS client: add it with `jet nas add`")
        packet, message_authenticator = check_framing(data)
        verify_request(packet, secret, message_authenticator)
        now = time.monotonic()
        self._forget_old(now)
        key = (addr[0], addr[1], packet[1], packet[4:20])
        known = self._recent.get(key)
        if known is not None:
            self.counters.resent += 1
            if known.durable:
                self._answer(known)
            return  # a pending one is answered when its batch lands
        if len(self._rows) >= self.max_pending:
            raise Drop("overloaded", f"{len(self._rows)} rows wait for landing")
        row = decode_accounting(packet, ip_to_int(addr[0]), time.time_ns() // 1000)
        request = _Request(key, accounting_response(packet, secret), now)
        self._recent[key] = request
        if not self._rows:
            self._opened = now
        self._rows.append(row)
        self._requests.append(request)
        self._schedule()

    def _forget_old(self, now: float) -> None:
        """Drop answered requests older than the resend window, or past its size."""
        recent = self._recent
        while recent:
            oldest = next(iter(recent.values()))
            young = now - oldest.seen < self.dedup_seconds and len(recent) <= self.dedup_max
            if young or not oldest.durable:
                return
            recent.popitem(last=False)

    def _drop(self, drop: Drop, addr: tuple[str, int]) -> None:
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

    def _answer(self, request: _Request) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.sendto(request.reply, request.key[:2])
            self.counters.responded += 1

    # --- group commit ------------------------------------------------------------------

    def _schedule(self) -> None:
        """Start landing the open batch if it is full or due, else arm its timer.
        One batch lands at a time; the next one fills meanwhile."""
        if self._flushing is not None or not self._rows:
            return
        wait = self._opened + self.batch_delay - time.monotonic()
        if self._closing or wait <= 0 or len(self._rows) >= self.batch_rows:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            self._flushing = asyncio.get_running_loop().create_task(self._flush())
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(wait, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._schedule()

    async def _flush(self) -> None:
        n = self.batch_rows
        rows, requests = self._rows[:n], self._requests[:n]
        self._rows, self._requests = self._rows[n:], self._requests[n:]
        if self._requests:  # those that came in while the last batch landed
            self._opened = self._requests[0].seen
        self._seq += 1
        batch_id = f"{self._run}-{self._seq:08d}"
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(self._executor, self._land, rows, batch_id)
        except Exception:
            self.counters.land_failures += 1
            log.exception(
                "could not land batch %s (%d rows): not answering them, their NAS will resend",
                batch_id,
                len(rows),
            )
            for request in requests:  # so that the resends are taken as new
                self._recent.pop(request.key, None)
            await loop.run_in_executor(self._executor, self._recover)
            await asyncio.sleep(0 if self._closing else _RETRY_AFTER_FAILURE)
        else:
            self.counters.batches += 1
            self.counters.landed += len(rows)
            for request in requests:
                request.durable = True
                self._answer(request)
        finally:
            self._flushing = None
            self._schedule()

    def _land(self, rows: list[Row], batch_id: str) -> None:
        land("radius", records_table(rows), batch_id, self.raw_root)

    def _recover(self) -> None:
        """Remove what the failed landing left, so readers never see unanswered rows."""
        try:
            recover(self.raw_root)
        except Exception:
            log.exception("could not clean up after the failed landing; restart to recover")

    # --- lifecycle ---------------------------------------------------------------------

    async def close(self) -> None:
        """Refuse new requests, land and answer the pending ones, then close the socket."""
        self._closing = True
        while self._rows or self._flushing is not None:
            self._schedule()
            if self._flushing is not None:
                await self._flushing
        if self._transport is not None:
            self._transport.close()
        self._executor.shutdown()

    async def log_stats(self, every: float) -> None:
        """Log the counters every `every` seconds (and let each drop be logged again)."""
        while True:
            await asyncio.sleep(every)
            log.info("stats: %s", self.counters.summary())
            self._logged.clear()


async def serve(
    raw_root: Path,
    load_clients: Callable[[], dict[str, bytes]],
    host: str = "0.0.0.0",
    port: int = 1813,
    *,
    batch_rows: int = 2000,
    batch_delay: float = 0.02,
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
    transport, server = await _listen(
        lambda: AccountingServer(clients, raw_root, batch_rows=batch_rows, batch_delay=batch_delay),
        host,
        port,
    )
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
            transport.close()
            raise
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

    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    loop.add_signal_handler(signal.SIGHUP, reload)
    tasks = [loop.create_task(server.log_stats(stats_every))]
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


async def _listen(protocol, host: str, port: int):
    """A UDP endpoint on host:port with a large receive buffer, or a ServerError."""
    try:
        transport, server = await asyncio.get_running_loop().create_datagram_endpoint(
            protocol, local_addr=(host, port), family=socket.AF_INET
        )
    except OSError as err:
        raise ServerError(f"cannot listen on UDP {host}:{port}: {err.strerror or err}") from err
    sock = transport.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _RECEIVE_BUFFER)
    return transport, server
