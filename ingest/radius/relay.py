"""RADIUS proxying on the wire: a NAS's request re-encoded for a remote realm's home
server, and the home server's answer checked and made ready to relay back.

Pure functions over bytes, like `ingest.radius.access`, whose password hiding and reply
signing they use. As RFC 2865 section 2.3 has a proxy do it, the request the home server
gets is the NAS's with a new Identifier and Request Authenticator, signed with the home
server's secret, and a Proxy-State of Jet's added last (the NAS's own Proxy-State, if
any, stays before it). An Access-Request's User-Password is hidden again for the new
secret and authenticator; a CHAP request whose challenge was its Request Authenticator
gets that as a CHAP-Challenge, since the authenticator changes; and it starts with a
fresh Message-Authenticator (BlastRADIUS, CVE-2024-3596). An Accounting-Request is
signed by its Request Authenticator alone and carries no Message-Authenticator.

An answer is taken only if it is the code its request allows, has the request's
Identifier, and verifies with the Request Authenticator sent and the secret (and its
Message-Authenticator, if it has one); anything else raises
:class:`~ingest.radius.packets.Drop`, as if it were lost. That ties it to the one request
sent: Jet's Proxy-State is not required back, as not every home server echoes it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator

from ingest.radius.access import (
    ACCESS_ACCEPT,
    ACCESS_CHALLENGE,
    ACCESS_REJECT,
    ACCESS_REQUEST,
    CHAP_CHALLENGE,
    USER_NAME,
    USER_PASSWORD,
    AccessRequest,
    hide_password,
    pap_password,
)
from ingest.radius.packets import (
    ACCOUNTING_REQUEST,
    ACCOUNTING_RESPONSE,
    HEADER,
    MAX_LENGTH,
    MESSAGE_AUTHENTICATOR,
    PROXY_STATE,
    Drop,
    check_framing,
    verify_message_authenticator,
)

# The answers each request may get from a home server.
_ANSWERS = {
    ACCESS_REQUEST: (ACCESS_ACCEPT, ACCESS_REJECT, ACCESS_CHALLENGE),
    ACCOUNTING_REQUEST: (ACCOUNTING_RESPONSE,),
}
_ZERO = bytes(16)


def proxied_access_request(
    packet: bytes,
    request: AccessRequest,
    nas_secret: bytes,
    secret: bytes,
    identifier: int,
    authenticator: bytes,
    proxy_state: bytes,
) -> bytes:
    """The framed Access-Request `packet` (read as `request`, signed with `nas_secret`) as
    the home server gets it: Identifier `identifier`, Request Authenticator
    `authenticator`, signed with `secret`, `proxy_state` last."""
    body = bytearray()
    for kind, attribute in _attributes(packet):
        if kind == USER_PASSWORD:
            clear = pap_password(attribute[2:], packet[4:HEADER], nas_secret)
            body += _attribute(USER_PASSWORD, hide_password(clear, authenticator, secret))
        elif kind != MESSAGE_AUTHENTICATOR:
            body += attribute
    if request.chap_password is not None and request.chap_challenge is None:
        body += _attribute(CHAP_CHALLENGE, packet[4:HEADER])
    body += _attribute(PROXY_STATE, proxy_state)
    header = _header(ACCESS_REQUEST, identifier, 18 + len(body))
    unsigned = bytes((MESSAGE_AUTHENTICATOR, 18)) + _ZERO + body
    signature = hmac.new(secret, header + authenticator + unsigned, "md5").digest()
    return header + authenticator + bytes((MESSAGE_AUTHENTICATOR, 18)) + signature + body


def proxied_accounting_request(
    packet: bytes, secret: bytes, identifier: int, proxy_state: bytes
) -> bytes:
    """The framed Accounting-Request `packet` as the home server gets it: Identifier
    `identifier`, `proxy_state` last, the Request Authenticator of RFC 2866 section 3
    computed with `secret`."""
    body = b"".join(
        attribute for kind, attribute in _attributes(packet) if kind != MESSAGE_AUTHENTICATOR
    )
    body += _attribute(PROXY_STATE, proxy_state)
    header = _header(ACCOUNTING_REQUEST, identifier, len(body))
    authenticator = hashlib.md5(header + _ZERO + body + secret).digest()
    return header + authenticator + body


def check_answer(data: bytes, sent: bytes, secret: bytes) -> tuple[int, bytes]:
    """The code of the home server's answer `data` to the request `sent`, and its
    attributes to relay: all but its Message-Authenticator and Proxy-States, which the
    reply to the NAS carries its own of. Raises Drop if it is not that answer."""
    if not data or data[0] not in _ANSWERS[sent[0]]:
        raise Drop("wrong_code", f"code {data[0] if data else None} to a request of {sent[0]}")
    packet, message_authenticator = check_framing(data, data[0])
    if packet[1] != sent[1]:
        raise Drop("wrong_identifier", f"Identifier {packet[1]}, sent {sent[1]}")
    as_signed = packet[:4] + sent[4:HEADER] + packet[HEADER:]
    expected = hashlib.md5(as_signed + secret).digest()
    if not hmac.compare_digest(expected, packet[4:HEADER]):
        raise Drop("bad_authenticator", "wrong secret, or not the answer to this request")
    if message_authenticator is not None:
        verify_message_authenticator(as_signed, secret, message_authenticator)
    body = b"".join(
        attribute
        for kind, attribute in _attributes(packet)
        if kind not in (PROXY_STATE, MESSAGE_AUTHENTICATOR)
    )
    return packet[0], body


def user_name(packet: bytes) -> str | None:
    """The User-Name of a framed request, if it has one."""
    for kind, attribute in _attributes(packet):
        if kind == USER_NAME:
            return attribute[2:].decode("utf-8", "backslashreplace")
    return None


def _attributes(packet: bytes) -> Iterator[tuple[int, bytes]]:
    """Each attribute of a framed packet, whole: (type, type + length + value)."""
    pos = HEADER
    while pos < len(packet):
        size = packet[pos + 1]
        yield packet[pos], packet[pos : pos + size]
        pos += size


def _attribute(kind: int, value: bytes) -> bytes:
    return bytes((kind, 2 + len(value))) + value


def _header(code: int, identifier: int, attributes: int) -> bytes:
    """Code, Identifier and Length of a request with `attributes` octets of attributes;
    a Drop if it would be longer than RADIUS allows."""
    length = HEADER + attributes
    if length > MAX_LENGTH:
        raise Drop("too_long_to_proxy", f"{length} octets once re-encoded")
    return bytes((code, identifier)) + length.to_bytes(2, "big")
