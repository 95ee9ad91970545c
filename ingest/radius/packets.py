"""RADIUS on the wire: framing, authenticators, the Accounting-Response and the answer
to a Status-Server.

Pure functions over bytes (RFC 2865 section 3, RFC 2866 section 3, RFC 2869 section
5.14, RFC 5997), so every way a packet can be refused is testable without a socket.
Anything refused raises :class:`Drop`, whose reason is the counter the server counts it
under. Framing is shared with authentication (`ingest.radius.access`); accounting frames
and reads its requests in one pass (`ingest.radius.accounting.read_accounting`).
"""

from __future__ import annotations

import hashlib
import hmac

ACCESS_ACCEPT = 2
ACCOUNTING_REQUEST = 4
ACCOUNTING_RESPONSE = 5
STATUS_SERVER = 12
HEADER = 20
MAX_LENGTH = 4096  # RFC 2865 section 3
PROXY_STATE = 33
MESSAGE_AUTHENTICATOR = 80
_ZERO = bytes(16)


class Drop(Exception):
    """A packet that is not answered. `reason` names its counter; `detail` is for the log."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


def check_framing(data: bytes, code: int = ACCOUNTING_REQUEST) -> tuple[bytes, int | None]:
    """The request in `data` (an Accounting-Request, or the packet `code` given) cut to
    its Length, and the offset of its Message-Authenticator attribute (None if it has none).

    Octets past Length are padding and ignored (RFC 2865 section 3); attributes must fill
    the rest exactly, so a truncated or overrunning attribute refuses the packet rather
    than being decoded short.
    """
    if len(data) < HEADER:
        raise Drop("too_short", f"{len(data)} octets")
    if data[0] != code:
        raise Drop("wrong_code", f"code {data[0]}")
    length = int.from_bytes(data[2:4], "big")
    if not HEADER <= length <= MAX_LENGTH or length > len(data):
        raise Drop("bad_length", f"Length {length}, datagram {len(data)} octets")
    packet = data[:length]
    message_authenticator = None
    pos = HEADER
    while pos < length:
        if pos + 2 > length:
            raise Drop("bad_attributes", f"attribute header cut off at octet {pos}")
        kind, size = packet[pos], packet[pos + 1]
        if size < 2 or pos + size > length:
            raise Drop("bad_attributes", f"attribute {kind} at octet {pos} has length {size}")
        if kind == MESSAGE_AUTHENTICATOR:
            if size != 18 or message_authenticator is not None:
                raise Drop("bad_message_authenticator", "not one attribute of 16 octets")
            message_authenticator = pos
        pos += size
    return packet, message_authenticator


def verify_request(packet: bytes, secret: bytes, message_authenticator: int | None) -> None:
    """Check the Request Authenticator, MD5(Code+Identifier+Length+16 zero octets+
    Attributes+Secret), and the Message-Authenticator if there is one (HMAC-MD5 over the
    packet with both zeroed, as FreeRADIUS signs accounting requests)."""
    expected = hashlib.md5(packet[:4] + _ZERO + packet[HEADER:] + secret).digest()
    if not hmac.compare_digest(expected, packet[4:HEADER]):
        raise Drop("bad_authenticator", "wrong secret, or altered on the way")
    if message_authenticator is not None:
        value = message_authenticator + 2
        signed = packet[:4] + _ZERO + packet[HEADER:value] + _ZERO + packet[value + 16 :]
        expected = hmac.new(secret, signed, "md5").digest()
        if not hmac.compare_digest(expected, packet[value : value + 16]):
            raise Drop("bad_message_authenticator", "wrong secret, or altered on the way")


def accounting_response(packet: bytes, secret: bytes, proxy_state: bytes | None = None) -> bytes:
    """The Accounting-Response to a checked request: its Identifier, its Proxy-State
    attributes in order (RFC 2866 section 4.2; found in `packet` unless given) and the
    Response Authenticator."""
    if proxy_state is None:
        proxy_state = _proxy_state(packet)
    length = (HEADER + len(proxy_state)).to_bytes(2, "big")
    header = bytes((ACCOUNTING_RESPONSE, packet[1])) + length
    authenticator = hashlib.md5(header + packet[4:HEADER] + proxy_state + secret).digest()
    return header + authenticator + proxy_state


def status_reply(data: bytes, secret: bytes, code: int) -> bytes:
    """The answer to the Status-Server in `data` (RFC 5997): `code` is Accounting-Response
    on the accounting port, Access-Accept on the authentication port.

    A Status-Server must carry a Message-Authenticator, HMAC-MD5 of the packet as sent
    with its value zeroed (RFC 5997 section 3); one without, or with a wrong one, is a
    Drop. The answer carries the request's Proxy-State and a Message-Authenticator,
    computed with the Request Authenticator in place of the Response Authenticator as
    FreeRADIUS checks it, and is signed like any response."""
    packet, offset = check_framing(data, STATUS_SERVER)
    if offset is None:
        raise Drop("no_message_authenticator", "a Status-Server must carry one (RFC 5997)")
    verify_message_authenticator(packet, secret, offset)
    return sign_reply(packet, secret, code, _proxy_state(packet))


def verify_message_authenticator(packet: bytes, secret: bytes, offset: int) -> None:
    """Check the Message-Authenticator at `offset` of a framed request: HMAC-MD5
    keyed with the secret over the packet as sent, with the attribute's value zeroed
    (RFC 3579 section 3.2). A NAS that sends one proves with it that it knows the secret."""
    value = offset + 2
    signed = packet[:value] + _ZERO + packet[value + 16 :]
    expected = hmac.new(secret, signed, "md5").digest()
    if not hmac.compare_digest(expected, packet[value : value + 16]):
        raise Drop("bad_message_authenticator", "wrong secret, or altered on the way")


def sign_reply(packet: bytes, secret: bytes, code: int, body: bytes) -> bytes:
    """The reply `code` to the framed request `packet`, carrying the encoded attributes
    `body`.

    The reply starts with a Message-Authenticator, which RFC 3579 section 3.2 computes with
    the Request Authenticator in place of the Response Authenticator, and which a NAS
    uses to tell a forged reply (BlastRADIUS, CVE-2024-3596). The Response Authenticator
    is MD5(Code + Identifier + Length + Request Authenticator + Attributes + Secret)."""
    length = HEADER + 18 + len(body)
    if length > MAX_LENGTH:
        raise ValueError(f"a reply of {length} octets is longer than RADIUS allows")
    header = bytes((code, packet[1])) + length.to_bytes(2, "big")
    request_authenticator = packet[4:HEADER]
    unsigned = bytes((MESSAGE_AUTHENTICATOR, 18)) + _ZERO + body
    signature = hmac.new(secret, header + request_authenticator + unsigned, "md5").digest()
    signed = bytes((MESSAGE_AUTHENTICATOR, 18)) + signature + body
    authenticator = hashlib.md5(header + request_authenticator + signed + secret).digest()
    return header + authenticator + signed


def _proxy_state(packet: bytes) -> bytes:
    """The Proxy-State attributes of a framed packet, whole and in order."""
    found = b""
    pos = HEADER
    while pos < len(packet):
        size = packet[pos + 1]
        if packet[pos] == PROXY_STATE:
            found += packet[pos : pos + size]
        pos += size
    return found
