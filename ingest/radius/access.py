"""RADIUS authentication on the wire: the Access-Request read, and the Access-Accept or
Access-Reject that answers it.

Pure functions over bytes, like `ingest.radius.packets` (whose `check_framing` frames
the request): the User-Password hidden by RFC 2865 section 5.2 (PAP), the CHAP-Password
of section 5.3 (CHAP) with the CHAP-Challenge attribute or the Request Authenticator as
the challenge, the Message-Authenticator of RFC 3579 section 3.2, and the Response
Authenticator of RFC 2865 section 3. A request that breaks the RFC raises
:class:`~ingest.radius.packets.Drop` and is not answered.
"""

from __future__ import annotations

import hashlib
import hmac
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ingest.radius.accounting import DICTIONARY
from ingest.radius.packets import HEADER, PROXY_STATE, Drop, sign_reply

ACCESS_REQUEST = 1
ACCESS_ACCEPT = 2
ACCESS_REJECT = 3
ACCESS_CHALLENGE = 11

USER_NAME = 1
USER_PASSWORD = 2
CHAP_PASSWORD = 3
VENDOR_SPECIFIC = 26
CHAP_CHALLENGE = 60
MAX_VALUE = 253  # octets in one attribute's value

# What each attribute of a request may hold (RFC 2865 section 5): (fewest, most) octets.
_SIZES = {
    USER_NAME: (1, MAX_VALUE),
    USER_PASSWORD: (16, 128),
    CHAP_PASSWORD: (17, 17),
    CHAP_CHALLENGE: (5, MAX_VALUE),
}


@dataclass(frozen=True, slots=True)
class AccessRequest:
    """What authentication reads from a framed Access-Request.

    `user_password` is the User-Password as sent (hidden); `chap_password` the CHAP
    Identifier and the 16-octet response; `proxy_state` the Proxy-State attributes, whole,
    in the order received, as the reply must carry them back (RFC 2865 section 5.33).
    A request with neither password (EAP, say) has both None: Jet answers it with
    Access-Reject, as RFC 3579 section 3 asks of a server without EAP.
    """

    user_name: str
    user_password: bytes | None
    chap_password: bytes | None
    chap_challenge: bytes | None
    proxy_state: bytes


def read_access_request(packet: bytes) -> AccessRequest:
    """The attributes authentication needs, from a framed Access-Request (see
    `ingest.radius.packets.check_framing`). Refuses, with a Drop, a request without a
    User-Name, with one of these attributes twice or of a size RFC 2865 does not allow,
    or with both a User-Password and a CHAP-Password."""
    found: dict[int, bytes] = {}
    proxy_state = bytearray()
    pos = HEADER
    while pos < len(packet):
        kind, size = packet[pos], packet[pos + 1]
        if kind in _SIZES:
            if kind in found:
                raise Drop("bad_attributes", f"attribute {kind} given twice")
            value = packet[pos + 2 : pos + size]
            fewest, most = _SIZES[kind]
            if not fewest <= len(value) <= most or (kind == USER_PASSWORD and len(value) % 16):
                raise Drop("bad_attribute_value", f"attribute {kind} of {len(value)} octets")
            found[kind] = value
        elif kind == PROXY_STATE:
            proxy_state += packet[pos : pos + size]
        pos += size
    if USER_NAME not in found:
        raise Drop("no_user_name", "an Access-Request needs a User-Name")
    if USER_PASSWORD in found and CHAP_PASSWORD in found:
        raise Drop("bad_attributes", "both User-Password and CHAP-Password")
    return AccessRequest(
        user_name=found[USER_NAME].decode("utf-8", "backslashreplace"),
        user_password=found.get(USER_PASSWORD),
        chap_password=found.get(CHAP_PASSWORD),
        chap_challenge=found.get(CHAP_CHALLENGE),
        proxy_state=bytes(proxy_state),
    )


def pap_password(hidden: bytes, authenticator: bytes, secret: bytes) -> bytes:
    """The User-Password in clear (RFC 2865 section 5.2): each 16 octets are XORed with
    MD5(secret + the previous 16 hidden octets, the Request Authenticator first); the
    NULs that padded it are removed."""
    clear = bytearray()
    previous = authenticator
    for start in range(0, len(hidden), 16):
        block = hidden[start : start + 16]
        key = hashlib.md5(secret + previous).digest()
        clear += (int.from_bytes(block, "big") ^ int.from_bytes(key, "big")).to_bytes(16, "big")
        previous = block
    return bytes(clear).rstrip(b"\0")


def hide_password(clear: bytes, authenticator: bytes, secret: bytes) -> bytes:
    """The User-Password of `clear` as sent (RFC 2865 section 5.2): padded with NULs to a
    multiple of 16 octets, then hidden as `pap_password` reveals it."""
    padded = clear.ljust(max(16, -(-len(clear) // 16) * 16), b"\0")
    hidden = bytearray()
    previous = authenticator
    for start in range(0, len(padded), 16):
        key = hashlib.md5(secret + previous).digest()
        block = int.from_bytes(padded[start : start + 16], "big") ^ int.from_bytes(key, "big")
        previous = block.to_bytes(16, "big")
        hidden += previous
    return bytes(hidden)


def chap_matches(chap_password: bytes, challenge: bytes, password: bytes) -> bool:
    """Whether the CHAP response is MD5(CHAP Identifier + password + challenge) (RFC 1994
    section 4.1, RFC 2865 section 5.3), compared in constant time."""
    expected = hashlib.md5(chap_password[:1] + password + challenge).digest()
    return hmac.compare_digest(expected, chap_password[1:])


def chap_challenge(request: AccessRequest, packet: bytes) -> bytes:
    """The challenge of a CHAP request: its CHAP-Challenge, else its Request Authenticator."""
    return request.chap_challenge if request.chap_challenge is not None else packet[4:HEADER]


def access_reply(
    packet: bytes,
    secret: bytes,
    code: int,
    attributes: Iterable[tuple[str, Any]],
    proxy_state: bytes = b"",
) -> bytes:
    """The Access-Accept or Access-Reject (`code`) to the framed request `packet`:
    `attributes` are (name, value) pairs of Jet's dictionary, vendor attributes too,
    followed by the request's Proxy-State; signed by `sign_reply`."""
    body = b"".join(encode_attribute(name, value) for name, value in attributes) + proxy_state
    return sign_reply(packet, secret, code, body)


def encode_attribute(name: str, value: Any) -> bytes:
    """One attribute of Jet's dictionary: its type, its number and, for a vendor's
    attribute, the Vendor-Specific wrapper of RFC 2865 section 5.26."""
    attribute = DICTIONARY[name]
    raw = _encode_value(attribute.type, value)
    if len(raw) > MAX_VALUE - (6 + 2 if attribute.vendor else 0):
        raise ValueError(f"{name} holds at most {MAX_VALUE} octets, got {len(raw)}")
    if not attribute.vendor:
        return bytes((attribute.code, 2 + len(raw))) + raw
    vendor = DICTIONARY.vendors.GetForward(attribute.vendor)
    inner = bytes((attribute.code, 2 + len(raw))) + raw
    return bytes((VENDOR_SPECIFIC, 6 + len(inner))) + vendor.to_bytes(4, "big") + inner


def _encode_value(kind: str, value: Any) -> bytes:
    if kind == "string":
        return value.encode() if isinstance(value, str) else bytes(value)
    if kind == "integer":
        return int(value).to_bytes(4, "big")
    if kind == "ipaddr":
        return socket.inet_aton(value)
    if kind == "octets":
        return bytes(value)
    raise ValueError(f"replies do not carry attributes of type {kind}")
