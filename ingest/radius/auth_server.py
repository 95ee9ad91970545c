"""The RADIUS authentication server: Access-Request in, Access-Accept or Access-Reject out.
A login of a remote realm is decided by the realm's home server instead, through the proxy
(`ingest.radius.proxy`), which answers the NAS when the home server has answered.

It runs in the accounting server's process and event loop (`ingest.radius.server.serve`)
and answers every request at once from an in-memory view of the store
(`jet.network_access.AccessView`), which a worker thread reloads every
``refresh_every`` seconds and on SIGHUP; a reload that fails keeps the view it had.

A request from an address that is not a NAS client, one whose Message-Authenticator
does not verify (wrong secret), and one that breaks RFC 2865 are dropped unanswered,
counted by reason and logged once per reason and source per stats interval, like
accounting's. Refusals are answered, counted by reason and logged once per reason and
user per stats interval; passwords are never logged.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections import Counter
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from ingest.radius.access import (
    ACCESS_ACCEPT,
    ACCESS_REJECT,
    ACCESS_REQUEST,
    access_reply,
    chap_challenge,
    chap_matches,
    pap_password,
    read_access_request,
)
from ingest.radius.packets import (
    STATUS_SERVER,
    Drop,
    check_framing,
    status_reply,
    verify_message_authenticator,
)
from ingest.radius.proxy import Proxy
from jet.network_access import LOGIN_INCORRECT, AccessView, Decision, decide

log = logging.getLogger("jet.radius")


@dataclass
class AuthCounters:
    """What authentication did since the server started; `summary()` is the line it logs."""

    received: int = 0
    accepted: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    proxied: int = 0  # handed to the proxy: see its counters
    status_server: int = 0  # Status-Server requests answered (RFC 5997)
    dropped: Counter[str] = field(default_factory=Counter)
    reloads: int = 0
    reload_failures: int = 0

    def summary(self) -> str:
        counts = [
            f"received={self.received}",
            f"accepted={self.accepted}",
            f"rejected={sum(self.rejected.values())}",
            f"proxied={self.proxied}",
            f"status_server={self.status_server}",
            f"dropped={sum(self.dropped.values())}",
            f"reloads={self.reloads}",
            f"reload_failures={self.reload_failures}",
        ]
        counts += [f"rejected_{reason}={n}" for reason, n in sorted(self.rejected.items())]
        counts += [f"dropped_{reason}={n}" for reason, n in sorted(self.dropped.items())]
        return " ".join(counts)


def utc_today() -> date:
    return datetime.now(UTC).date()


class AuthServer(asyncio.DatagramProtocol):
    """The protocol of the authentication socket; `clients` maps NAS addresses to secrets,
    `load_view` reads an `AccessView` from the store (it runs in a worker thread).

    A request without a Message-Authenticator is answered unless
    `require_message_authenticator` is set: without one, nothing but a PAP password that
    decrypts shows the NAS knows the secret, and whoever can alter packets on the way can
    remove it (BlastRADIUS, CVE-2024-3596). Set it once every NAS sends one."""

    def __init__(
        self,
        clients: Mapping[str, bytes],
        load_view: Callable[[], AccessView],
        view: AccessView | None = None,
        *,
        require_message_authenticator: bool = False,
        today: Callable[[], date] = utc_today,
    ) -> None:
        self.clients = clients
        self.require_message_authenticator = require_message_authenticator
        self.load_view = load_view
        self.view = view if view is not None else AccessView()
        self.today = today
        self.counters = AuthCounters()
        self.proxy = Proxy()
        self._transport: asyncio.DatagramTransport | None = None
        self._logged: set[tuple[str, str]] = set()  # (reason, source or user) this interval
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="radius-auth-view")
        self._reload_lock = asyncio.Lock()

    # --- answering ---------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.counters.received += 1
        try:
            reply = self._answer(data, addr)
        except Drop as drop:
            self._drop(drop, addr)
            return
        except Exception:  # a bug, not the input: keep serving, and say so loudly
            log.exception("could not answer an Access-Request from %s:%d", *addr)
            self._drop(Drop("internal_error"), addr)
            return
        if reply is not None:
            self._send(reply, addr)

    def _send(self, reply: bytes, addr: tuple[str, int]) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.sendto(reply, addr)

    def _answer(self, data: bytes, addr: tuple[str, int]) -> bytes | None:
        """The reply to a datagram from `addr`, or a Drop: PAP or CHAP against the view;
        None if the proxy answers it later."""
        secret = self.clients.get(addr[0])
        if secret is None:
            raise Drop("unknown_client", "not a NAS client: add it with `jet nas add`")
        if data[:1] == bytes((STATUS_SERVER,)):  # RFC 5997: Access-Accept says it is up
            reply = status_reply(data, secret, ACCESS_ACCEPT)
            self.counters.status_server += 1
            return reply
        packet, message_authenticator = check_framing(data, ACCESS_REQUEST)
        if message_authenticator is not None:
            verify_message_authenticator(packet, secret, message_authenticator)
        elif self.require_message_authenticator:
            raise Drop("no_message_authenticator", "required, and the request has none")
        request = read_access_request(packet)
        home = self.view.home_server(addr[0], request.user_name)
        if home is not None:
            self.proxy.forward_access(packet, request, secret, home, addr, self._send)
            self.counters.proxied += 1
            return None
        if request.user_password is not None:
            clear = pap_password(request.user_password, packet[4:20], secret)

            def password_ok(password: bytes) -> bool:
                return hmac.compare_digest(clear, password)

            decision = decide(self.view, addr[0], request.user_name, password_ok, self.today())
        elif request.chap_password is not None:
            challenge = chap_challenge(request, packet)
            chap = request.chap_password

            def password_ok(password: bytes) -> bool:
                return chap_matches(chap, challenge, password)

            decision = decide(self.view, addr[0], request.user_name, password_ok, self.today())
        else:  # EAP, or nothing: Jet knows PAP and CHAP only (RFC 3579 section 3)
            decision = Decision(False, "no_password", (("Reply-Message", LOGIN_INCORRECT),))
        self._count(decision, request.user_name, addr)
        code = ACCESS_ACCEPT if decision.accepted else ACCESS_REJECT
        return access_reply(packet, secret, code, decision.reply, request.proxy_state)

    def _count(self, decision: Decision, user_name: str, addr: tuple[str, int]) -> None:
        if decision.accepted:
            self.counters.accepted += 1
            return
        self.counters.rejected[decision.reason] += 1
        if (decision.reason, user_name) not in self._logged:
            self._logged.add((decision.reason, user_name))
            log.info(
                "rejected %r at NAS %s: %s (more like it until the next stats line are only "
                "counted)",
                user_name,
                addr[0],
                decision.reason,
            )

    def _drop(self, drop: Drop, addr: tuple[str, int]) -> None:
        self.counters.dropped[drop.reason] += 1
        if (drop.reason, addr[0]) not in self._logged:
            self._logged.add((drop.reason, addr[0]))
            log.warning(
                "dropped an Access-Request from %s:%d: %s (more like it until the next stats "
                "line are only counted)",
                addr[0],
                addr[1],
                drop,
            )

    # --- the view ----------------------------------------------------------------------

    async def reload(self, announce: bool = False) -> bool:
        """Read the view again in the worker thread and swap it in; False if that failed
        (the old view stays). Reloads run one after another, so one asked for after a
        change reads that change even if another was under way."""
        async with self._reload_lock:
            loop = asyncio.get_running_loop()
            try:
                view = await loop.run_in_executor(self._executor, self.load_view)
            except Exception:
                self.counters.reload_failures += 1
                log.exception("could not reload the logins; answering from the ones loaded")
                return False
            self.view = view
            self.counters.reloads += 1
            (log.info if announce else log.debug)("reloaded %d logins", len(view.logins))
            return True

    async def keep_fresh(self, every: float) -> None:
        """Reload the view every `every` seconds."""
        while True:
            await asyncio.sleep(every)
            await self.reload()

    async def log_stats(self, every: float) -> None:
        """Log the counters every `every` seconds (and let each refusal be logged again)."""
        while True:
            await asyncio.sleep(every)
            log.info("auth stats: %s", self.counters.summary())
            self._logged.clear()
            self.proxy.log_stats()

    def close(self) -> None:
        self.proxy.close()
        if self._transport is not None:
            self._transport.close()
        self._executor.shutdown(wait=False, cancel_futures=True)
