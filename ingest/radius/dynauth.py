"""RFC 5176 dynamic authorization on the wire: Jet asks a NAS to end a session
(Disconnect-Request) or to change it (CoA-Request), and reads its answer.

pyrad encodes and signs the request (Request Authenticator of RFC 5176 section 3.3, and
a Message-Authenticator) and checks the answer's Response Authenticator. The same bytes
(Identifier and Request Authenticator unchanged) are sent up to `TRIES` times, waiting
`TIMEOUT` seconds after each, so a NAS that acted on a request whose answer was lost
knows the next try for a retransmission (RFC 5080 section 2.2.1) and answers it again.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pyrad import packet
from pyrad.packet import CoAPacket, PacketError

from ingest.radius.accounting import DICTIONARY

TRIES = 3
TIMEOUT = 3.0  # seconds to wait for an answer after each try

DISCONNECT = "Disconnect"
COA = "CoA"
_CODES = {  # request, ACK, NAK
    DISCONNECT: (packet.DisconnectRequest, packet.DisconnectACK, packet.DisconnectNAK),
    COA: (packet.CoARequest, packet.CoAACK, packet.CoANAK),
}
_ERROR_CAUSES = DICTIONARY["Error-Cause"].values


@dataclass(frozen=True, slots=True)
class Answer:
    """How a NAS answered a Disconnect or CoA request: `acked` True (ACK), False (NAK,
    with its Error-Cause values) or None (no answer after every try; `refused` if the
    NAS's host said, by ICMP, that nothing listens on that port)."""

    kind: str
    address: str
    port: int
    acked: bool | None
    error_causes: tuple[str, ...] = ()
    tries: int = TRIES
    refused: bool = False

    def __str__(self) -> str:
        where = f"{self.address}:{self.port}"
        if self.acked:
            return f"{self.kind}-ACK from {where}"
        if self.acked is False:
            causes = ", ".join(self.error_causes) or "none given"
            return f"{self.kind}-NAK from {where}, Error-Cause: {causes}"
        why = "nothing listens there (ICMP port unreachable)" if self.refused else "timeout"
        return (
            f"no answer from {where} after {self.tries} tries: {why}; check that the NAS "
            f"is up, takes {self.kind}-Requests on port {self.port} and shares Jet's secret"
        )


def send(
    kind: str,
    address: str,
    port: int,
    secret: bytes,
    attributes: Iterable[tuple[str, Any]],
    *,
    tries: int = TRIES,
    timeout: float = TIMEOUT,
) -> Answer:
    """Send a `kind` (DISCONNECT or COA) request with `attributes` ((name, value) pairs
    of Jet's dictionary) to the NAS at `address`:`port`, signed with `secret`, and
    return its answer. Answers that do not verify (another Identifier, a wrong
    authenticator or code) are ignored, as if lost."""
    request_code, ack, nak = _CODES[kind]
    request = CoAPacket(
        code=request_code, secret=secret, dict=DICTIONARY, message_authenticator=True
    )
    for name, value in attributes:
        request.AddAttribute(name, value)
    request.AddAttribute("Event-Timestamp", int(time.time()))  # RFC 5176 section 3.3
    data = request.RequestPacket()
    refused = False
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.connect((address, port))  # so only the NAS's datagrams reach us
        for _ in range(tries):
            sock.send(data)
            deadline = time.monotonic() + timeout
            while (left := deadline - time.monotonic()) > 0:
                sock.settimeout(left)
                try:
                    raw = sock.recv(4096)
                except TimeoutError:
                    break
                except ConnectionRefusedError:  # ICMP port unreachable; wait out the try
                    refused = True
                    continue
                reply = _verified_reply(request, raw)
                if reply is not None and reply.code in (ack, nak):
                    causes = tuple(_error_cause(v) for v in reply.get("Error-Cause", []))
                    return Answer(kind, address, port, reply.code == ack, causes, tries)
    return Answer(kind, address, port, None, tries=tries, refused=refused)


def _verified_reply(request: CoAPacket, raw: bytes) -> CoAPacket | None:
    try:
        reply = request.CreateReply(packet=raw)
    except PacketError:
        return None
    return reply if request.VerifyReply(reply, raw) else None


def _error_cause(value: str | int) -> str:
    """`Session-Context-Not-Found (503)` from pyrad's name, or the number it did not know."""
    if isinstance(value, int):
        return str(value)
    return f"{value} ({int.from_bytes(_ERROR_CAUSES.GetForward(value), 'big')})"
