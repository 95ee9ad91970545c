"""Proxying remote realms (`jet.remote_realms`): their Access-Requests go to the realm's
home server and its answers back to the NAS; their accounting, landed as any other, is
also copied to the home server's accounting port.

It all happens in the RADIUS server's event loop and never waits: each home server
address has one connected UDP socket, read when it is readable, with up to 256 requests
out at once (one per Identifier); a request is sent again after the realm's `timeout`
up to `retries` times. An Access-Request whose home server never answers is rejected
with a Reply-Message saying so, rather than left unanswered: a NAS that gets no answer
takes Jet for down and fails every login over to its next server. One that finds all
256 Identifiers taken is not answered, and its NAS sends it again.

An accounting copy is best-effort: the NAS has its answer once Jet has landed the
request, whatever the home server does, and a copy the home server never answers is
counted and logged, not kept. A request the NAS sends again within a minute is not
copied again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections import Counter, OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from ingest.radius.access import (
    ACCESS_ACCEPT,
    ACCESS_CHALLENGE,
    ACCESS_REJECT,
    AccessRequest,
    encode_attribute,
)
from ingest.radius.packets import MAX_LENGTH, Drop, sign_reply
from ingest.radius.relay import (
    check_answer,
    proxied_access_request,
    proxied_accounting_request,
)
from jet.remote_realms import HomeServer

log = logging.getLogger("jet.radius")

NOT_ANSWERING = "Realm {realm} is not answering: please try again later"
_COPIED_FOR = 60.0  # seconds a copied accounting request is known, to tell its resends
_COPIED_MAX = 200_000

Address = tuple[str, int]
Key = tuple[str, int, int, bytes]  # source address, source port, Identifier, authenticator
Answer = tuple[int, bytes] | None  # code and attributes to relay; None: no answer at all


@dataclass
class ProxyCounters:
    """What proxying did since the server started; `summary()` is the line it logs."""

    forwarded: int = 0  # Access-Requests sent on to a home server
    accepted: int = 0  # answers relayed to the NAS, by code
    rejected: int = 0
    challenged: int = 0
    timed_out: int = 0  # never answered: rejected with NOT_ANSWERING
    busy: int = 0  # every Identifier taken: not sent, not answered
    duplicates: int = 0  # the NAS sent it again while it was at the home server
    resent: int = 0  # sent again after a timeout
    acct_copied: int = 0
    acct_answered: int = 0
    acct_lost: int = 0  # copies never answered, or not sent for want of an Identifier
    bad_answers: Counter[str] = field(default_factory=Counter)

    def summary(self) -> str:
        counts = [
            f"{name}={getattr(self, name)}"
            for name in (
                "forwarded",
                "accepted",
                "rejected",
                "challenged",
                "timed_out",
                "busy",
                "duplicates",
                "resent",
                "acct_copied",
                "acct_answered",
                "acct_lost",
            )
        ]
        counts.append(f"bad_answers={sum(self.bad_answers.values())}")
        counts += [f"bad_answers_{reason}={n}" for reason, n in sorted(self.bad_answers.items())]
        return " ".join(counts)


@dataclass(slots=True)
class _Sent:
    """A request at a home server: what was sent, how to check its answer, what is left."""

    packet: bytes
    secret: bytes
    timeout: float
    retries: int
    done: Callable[[Answer], None]
    timer: asyncio.TimerHandle | None = None


class Upstream:
    """Requests to one home server address from one connected UDP socket (only its
    datagrams reach it), one per Identifier."""

    def __init__(self, address: Address, counters: ProxyCounters) -> None:
        self.counters = counters
        self._loop = asyncio.get_running_loop()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.setblocking(False)
        self._sock.connect(address)
        self._loop.add_reader(self._sock.fileno(), self._read)
        self._free = deque(range(256))  # the longest unused first
        self._pending: dict[int, _Sent] = {}

    def send(
        self,
        encode: Callable[[int], bytes],
        home: HomeServer,
        done: Callable[[Answer], None],
    ) -> bool:
        """Send `encode(identifier)` and call `done` with its checked answer, or with None
        once every try timed out; False (and nothing sent) if no Identifier is free."""
        if not self._free:
            return False
        identifier = self._free.popleft()
        try:
            packet = encode(identifier)
        except BaseException:
            self._free.appendleft(identifier)
            raise
        sent = _Sent(packet, home.secret, home.timeout, home.retries, done)
        self._pending[identifier] = sent
        self._transmit(identifier, sent)
        return True

    def _transmit(self, identifier: int, sent: _Sent) -> None:
        with contextlib.suppress(OSError):  # an ICMP error, a full buffer: the timer resends
            self._sock.send(sent.packet)
        sent.timer = self._loop.call_later(sent.timeout, self._expire, identifier, sent)

    def _expire(self, identifier: int, sent: _Sent) -> None:
        if sent.retries:
            sent.retries -= 1
            self.counters.resent += 1
            self._transmit(identifier, sent)
            return
        del self._pending[identifier]
        self._free.append(identifier)
        sent.done(None)

    def _read(self) -> None:
        while True:
            try:
                data = self._sock.recv(MAX_LENGTH)
            except (BlockingIOError, InterruptedError):
                return
            except ConnectionRefusedError:  # ICMP port unreachable: the timer decides
                continue
            sent = self._pending.get(data[1]) if len(data) > 1 else None
            if sent is None:
                self.counters.bad_answers["unexpected"] += 1
                continue
            try:
                answer = check_answer(data, sent.packet, sent.secret)
            except Drop as drop:
                self.counters.bad_answers[drop.reason] += 1
                continue
            del self._pending[data[1]]
            self._free.append(data[1])
            if sent.timer is not None:
                sent.timer.cancel()
            sent.done(answer)

    def close(self) -> None:
        """Forget what is pending (no `done` is called) and close the socket."""
        for sent in self._pending.values():
            if sent.timer is not None:
                sent.timer.cancel()
        self._pending.clear()
        self._loop.remove_reader(self._sock.fileno())
        self._sock.close()


class Proxy:
    """Remote realms' requests on their way to their home servers, and back."""

    def __init__(self) -> None:
        self.counters = ProxyCounters()
        self._upstreams: dict[Address, Upstream] = {}
        self._in_flight: set[Key] = set()  # Access-Requests at a home server
        self._copied: OrderedDict[Key, float] = OrderedDict()  # accounting, by when
        self._logged: set[tuple[str, str]] = set()  # (what, realm) logged this interval
        self._states = 0
        self._closed = False

    def forward_access(
        self,
        packet: bytes,
        request: AccessRequest,
        nas_secret: bytes,
        home: HomeServer,
        nas: Address,
        reply: Callable[[bytes, Address], None],
    ) -> None:
        """Send the framed, verified Access-Request `packet` from `nas` to `home`, and
        `reply` to the NAS with the home server's answer, signed with `nas_secret`."""
        key = (nas[0], nas[1], packet[1], packet[4:20])
        if key in self._in_flight:
            self.counters.duplicates += 1
            return
        proxy_state = self._proxy_state()
        authenticator = os.urandom(16)

        def encode(identifier: int) -> bytes:
            return proxied_access_request(
                packet, request, nas_secret, home.secret, identifier, authenticator, proxy_state
            )

        def done(answer: Answer) -> None:
            self._in_flight.discard(key)
            if answer is None:
                self.counters.timed_out += 1
                self._log_once("timed_out", home, f"rejected {request.user_name!r}")
                message = NOT_ANSWERING.format(realm=home.realm)
                answer = ACCESS_REJECT, encode_attribute("Reply-Message", message)
            elif answer[0] == ACCESS_ACCEPT:
                self.counters.accepted += 1
            elif answer[0] == ACCESS_CHALLENGE:
                self.counters.challenged += 1
            else:
                self.counters.rejected += 1
            code, attributes = answer
            try:
                signed = sign_reply(packet, nas_secret, code, attributes + request.proxy_state)
            except ValueError:  # too long once signed for the NAS
                self.counters.bad_answers["too_long_to_relay"] += 1
                return
            reply(signed, nas)

        if not self._upstream((home.address, home.auth_port)).send(encode, home, done):
            self.counters.busy += 1
            self._log_once("busy", home, "not answering new logins until some are answered")
            return
        self._in_flight.add(key)
        self.counters.forwarded += 1

    def copy_accounting(self, packet: bytes, home: HomeServer, nas: Address) -> None:
        """Send a copy of the framed, verified Accounting-Request `packet` from `nas` to
        the accounting port of `home`, unless it was copied in the last minute."""
        if home.acct_port is None:
            return
        now = time.monotonic()
        copied = self._copied
        while copied and (
            now - next(iter(copied.values())) > _COPIED_FOR or len(copied) > _COPIED_MAX
        ):
            copied.popitem(last=False)
        key = (nas[0], nas[1], packet[1], packet[4:20])
        if key in copied:
            return
        copied[key] = now
        proxy_state = self._proxy_state()

        def encode(identifier: int) -> bytes:
            return proxied_accounting_request(packet, home.secret, identifier, proxy_state)

        def done(answer: Answer) -> None:
            if answer is None:
                self.counters.acct_lost += 1
                self._log_once("acct_lost", home, "an accounting copy was never answered")
            else:
                self.counters.acct_answered += 1

        if self._upstream((home.address, home.acct_port)).send(encode, home, done):
            self.counters.acct_copied += 1
        else:
            self.counters.acct_lost += 1

    def _upstream(self, address: Address) -> Upstream:
        if self._closed:
            raise Drop("shutting_down")
        upstream = self._upstreams.get(address)
        if upstream is None:
            upstream = self._upstreams[address] = Upstream(address, self.counters)
        return upstream

    def _proxy_state(self) -> bytes:
        self._states += 1
        return b"jet" + (self._states % 2**32).to_bytes(4, "big")

    def _log_once(self, what: str, home: HomeServer, detail: str) -> None:
        if (what, home.realm) not in self._logged:
            self._logged.add((what, home.realm))
            log.warning(
                "home server %s of realm %s: %s (%s; more like it until the next stats line "
                "are only counted)",
                home.address,
                home.realm,
                what,
                detail,
            )

    def log_stats(self) -> None:
        """Log the counters, if anything was proxied, and let each problem be logged again."""
        if self.counters.forwarded or self.counters.acct_copied or self.counters.busy:
            log.info("proxy stats: %s", self.counters.summary())
        self._logged.clear()

    def close(self) -> None:
        self._closed = True
        for upstream in self._upstreams.values():
            upstream.close()
        self._upstreams.clear()
