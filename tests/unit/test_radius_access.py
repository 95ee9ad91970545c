"""Access-Requests on the wire, against pyrad's own implementation: PAP passwords hidden by
pyrad come out in clear, CHAP agrees with pyrad's check, pyrad's Message-Authenticators
verify, and pyrad takes Jet's replies (authenticators, Message-Authenticator, Proxy-State,
attribute values). Whatever the bytes, reading a request raises nothing but Drop (the
fuzz tests at the end)."""

from __future__ import annotations

import asyncio
import hashlib
import random
from datetime import date

import pytest
from pyrad.packet import AccessAccept, AccessReject, AuthPacket

from ingest.radius.access import (
    ACCESS_ACCEPT,
    ACCESS_REJECT,
    ACCESS_REQUEST,
    access_reply,
    chap_challenge,
    chap_matches,
    encode_attribute,
    pap_password,
    read_access_request,
)
from ingest.radius.accounting import DICTIONARY
from ingest.radius.auth_server import AuthServer
from ingest.radius.packets import Drop, check_framing, verify_message_authenticator
from jet.network_access import AccessView, Login, PlanPeriod
from tests.unit.transport import Transport

SECRET = b"testing123"
PASSWORDS = [
    "p",
    "fifteen-octets!",
    "sixteen-octets!!",
    "seventeen-octets!",
    "pässwörd €",
    "x" * 128,
]


def pyrad_request(
    user: str = "alice", *, ma: bool = False, id: int = 7, **attributes
) -> AuthPacket:
    pkt = AuthPacket(dict=DICTIONARY, secret=SECRET, id=id)
    if ma:
        pkt.add_message_authenticator()
    pkt.AddAttribute("User-Name", user)
    for name, value in attributes.items():
        for v in value if isinstance(value, list) else [value]:
            pkt.AddAttribute(name.replace("_", "-"), v)
    return pkt


def pap_request(password: str, **options) -> tuple[AuthPacket, bytes]:
    pkt = pyrad_request(**options)
    pkt.AddAttribute("User-Password", pkt.PwCrypt(password))
    return pkt, pkt.RequestPacket()


def chap_response(chap_id: int, password: bytes, challenge: bytes) -> bytes:
    return bytes([chap_id]) + hashlib.md5(bytes([chap_id]) + password + challenge).digest()


def framed(data: bytes) -> bytes:
    packet, offset = check_framing(data, ACCESS_REQUEST)
    if offset is not None:
        verify_message_authenticator(packet, SECRET, offset)
    return packet


@pytest.mark.parametrize("password", PASSWORDS)
def test_pap_password_is_what_pyrad_hid(password: str) -> None:
    pkt, data = pap_request(password)
    request = read_access_request(framed(data))
    assert request.user_name == "alice" and request.chap_password is None
    clear = pap_password(request.user_password, data[4:20], SECRET)
    assert clear == password.encode()
    assert pap_password(request.user_password, data[4:20], b"other") != password.encode()
    # and the other way: what pyrad decrypts, from the packet as sent
    assert (
        AuthPacket(dict=DICTIONARY, secret=SECRET, packet=data).PwDecrypt(request.user_password)
        == password
    )


def test_chap_agrees_with_pyrad() -> None:
    rng = random.Random(3)
    for i in range(200):
        password = rng.randbytes(rng.randint(1, 40)).replace(b"\0", b"a")
        given = password if i % 3 else password + b"!"
        challenge = rng.randbytes(rng.randint(5, 40)) if i % 2 else None
        pkt = pyrad_request(id=i % 256)
        pkt.authenticator = rng.randbytes(16)
        if challenge is not None:
            pkt.AddAttribute("CHAP-Challenge", challenge)
        chap_id = rng.randrange(256)
        pkt.AddAttribute(
            "CHAP-Password", chap_response(chap_id, given, challenge or pkt.authenticator)
        )
        data = pkt.RequestPacket()
        request = read_access_request(framed(data))
        ours = chap_matches(request.chap_password, chap_challenge(request, data), password)
        theirs = AuthPacket(dict=DICTIONARY, secret=SECRET, packet=data).VerifyChapPasswd(password)
        assert ours == theirs == (given == password)


def test_message_authenticator_of_pyrad_verifies() -> None:
    _, data = pap_request("secret", ma=True)
    packet, offset = check_framing(data, ACCESS_REQUEST)
    assert offset == 20  # pyrad puts it first, as BlastRADIUS advice asks
    verify_message_authenticator(packet, SECRET, offset)
    with pytest.raises(Drop) as wrong:
        verify_message_authenticator(packet, b"not-the-secret", offset)
    assert wrong.value.reason == "bad_message_authenticator"
    altered = bytearray(packet)
    altered[4] ^= 1  # the Request Authenticator is signed too
    with pytest.raises(Drop):
        verify_message_authenticator(bytes(altered), SECRET, offset)


def test_pyrad_takes_our_replies() -> None:
    pkt, data = pap_request("pw", ma=True, Proxy_State=[b"hop-1", b"hop-2"])
    request = read_access_request(framed(data))
    assert request.proxy_state == bytes([33, 7]) + b"hop-1" + bytes([33, 7]) + b"hop-2"
    accept = [
        ("Session-Timeout", 3600),
        ("Idle-Timeout", 600),
        ("Mikrotik-Rate-Limit", "10M/50M"),
        ("WISPr-Bandwidth-Max-Up", 10_000_000),
        ("WISPr-Bandwidth-Max-Down", 50_000_000),
        ("Framed-IP-Address", "100.64.0.9"),
    ]
    for code, attributes in [
        (ACCESS_ACCEPT, accept),
        (ACCESS_REJECT, [("Reply-Message", "Account expired on 2026-01-01")]),
    ]:
        raw = access_reply(data, SECRET, code, attributes, request.proxy_state)
        reply = pkt.CreateReply(packet=raw)
        assert pkt.VerifyReply(reply, raw, enforce_ma=True)
        assert reply.code == (AccessAccept if code == ACCESS_ACCEPT else AccessReject)
        for name, value in attributes:
            assert reply[name] == [value]
        assert reply["Proxy-State"] == [b"hop-1", b"hop-2"]
        assert not pkt.VerifyReply(reply, raw[:-1] + bytes([raw[-1] ^ 1]))
        # pyrad's own reply with the same attributes is the same octets (pyrad puts the
        # Proxy-State before them, Jet after: RFC 2865 leaves the order free)
        raw = access_reply(data, SECRET, code, attributes)
        theirs = pyrad_request(ma=True, id=7).CreateReply()
        theirs.authenticator, theirs.code = pkt.authenticator, code
        for name, value in attributes:
            theirs.AddAttribute(name, value)
        assert theirs.ReplyPacket() == raw


def test_reply_attributes_encode_as_pyrad_does() -> None:
    for name, value in [
        ("Reply-Message", "hi"),
        ("Mikrotik-Rate-Limit", "1M/2M"),
        ("Idle-Timeout", 5),
    ]:
        pkt = AuthPacket(dict=DICTIONARY, secret=SECRET, id=1, authenticator=bytes(16))
        pkt.AddAttribute(name, value)
        assert pkt.RequestPacket()[20:] == encode_attribute(name, value)
    with pytest.raises(ValueError, match="at most 253"):
        encode_attribute("Reply-Message", "x" * 254)


@pytest.mark.parametrize(
    ("attributes", "reason"),
    [
        ([], "no_user_name"),
        ([(1, b"a"), (1, b"b")], "bad_attributes"),
        ([(1, b"")], "bad_attribute_value"),
        ([(1, b"a"), (2, bytes(17))], "bad_attribute_value"),
        ([(1, b"a"), (2, bytes(144))], "bad_attribute_value"),
        ([(1, b"a"), (3, bytes(16))], "bad_attribute_value"),
        ([(1, b"a"), (60, bytes(4))], "bad_attribute_value"),
        ([(1, b"a"), (2, bytes(16)), (3, bytes(17))], "bad_attributes"),
    ],
    ids=[
        "no-user-name",
        "two-user-names",
        "empty-user-name",
        "password-not-16-octet-blocks",
        "password-over-128",
        "short-chap-password",
        "short-chap-challenge",
        "pap-and-chap",
    ],
)
def test_requests_that_break_rfc_2865_are_dropped(attributes: list, reason: str) -> None:
    body = b"".join(bytes([kind, 2 + len(value)]) + value for kind, value in attributes)
    data = bytes([ACCESS_REQUEST, 1]) + (20 + len(body)).to_bytes(2, "big") + bytes(16) + body
    with pytest.raises(Drop) as caught:
        read_access_request(framed(data))
    assert caught.value.reason == reason


def test_a_request_without_pap_or_chap_is_read_for_a_reject() -> None:
    pkt = pyrad_request("bob", EAP_Message=b"\x02\x01\x00\x06\x01x")
    request = read_access_request(framed(pkt.RequestPacket()))
    assert (request.user_name, request.user_password, request.chap_password) == ("bob", None, None)


def test_accounting_requests_are_not_access_requests() -> None:
    _, data = pap_request("pw")
    with pytest.raises(Drop) as caught:
        check_framing(data)  # the accounting port frames Accounting-Requests only
    assert caught.value.reason == "wrong_code"


# --- the server, without a socket ------------------------------------------------------


PLAN = PlanPeriod(date(2026, 1, 1), None, "home", (("Session-Timeout", 3600),))
VIEW = AccessView(
    logins={
        "alice": Login("alice", "acme", b"pw", "active", None, False, None, None, (PLAN,)),
    },
    nas_realms={"127.0.0.1": "acme"},
)


def auth_server(**options) -> tuple[AuthServer, Transport]:
    server = AuthServer(
        {"127.0.0.1": SECRET}, lambda: VIEW, VIEW, today=lambda: date(2026, 6, 1), **options
    )
    transport = Transport()
    server.connection_made(transport)
    return server, transport


def test_server_answers_pap_and_chap_from_its_view() -> None:
    server, transport = auth_server()
    pkt, data = pap_request("pw")
    server.datagram_received(data, ("127.0.0.1", 4000))
    reply = pkt.CreateReply(packet=transport.sent[-1])
    assert pkt.VerifyReply(reply, transport.sent[-1]) and reply.code == AccessAccept
    assert reply["Session-Timeout"] == [3600]
    chap = pyrad_request(CHAP_Password=chap_response(9, b"pw!", bytes(16)))
    chap.authenticator = bytes(16)
    server.datagram_received(chap.RequestPacket(), ("127.0.0.1", 4000))
    reply = chap.CreateReply(packet=transport.sent[-1])
    assert chap.VerifyReply(reply, transport.sent[-1]) and reply.code == AccessReject
    assert reply["Reply-Message"] == ["Login incorrect"]
    eap = pyrad_request(EAP_Message=b"\x02\x01\x00\x06\x01x").RequestPacket()
    server.datagram_received(eap, ("127.0.0.1", 4000))
    assert transport.sent[-1][0] == ACCESS_REJECT
    server.datagram_received(data, ("10.9.9.9", 4000))  # not a NAS client
    assert len(transport.sent) == 3
    assert server.counters.accepted == 1
    assert server.counters.rejected == {"wrong_password": 1, "no_password": 1}
    assert server.counters.dropped == {"unknown_client": 1}


def test_server_can_require_a_message_authenticator() -> None:
    server, transport = auth_server(require_message_authenticator=True)
    server.datagram_received(pap_request("pw")[1], ("127.0.0.1", 4000))
    assert transport.sent == [] and server.counters.dropped == {"no_message_authenticator": 1}
    server.datagram_received(pap_request("pw", ma=True)[1], ("127.0.0.1", 4000))
    assert transport.sent[-1][0] == ACCESS_ACCEPT


def test_a_failed_reload_keeps_the_view() -> None:
    asyncio.run(failed_reload_keeps_the_view())


async def failed_reload_keeps_the_view() -> None:
    server, _ = auth_server()
    fresh = AccessView(nas_realms={"127.0.0.1": "acme"})
    loads = iter([RuntimeError("database is locked"), fresh])

    def load() -> AccessView:
        outcome = next(loads)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    server.load_view = load
    assert await server.reload() is False and server.view is VIEW
    assert await server.reload() is True and server.view is fresh
    assert (server.counters.reloads, server.counters.reload_failures) == (1, 1)
    server.close()


# --- fuzz ------------------------------------------------------------------------------


def mutations(rng: random.Random, valid: list[bytes], n: int):
    for i in range(n):
        if i % 4 == 0:
            yield rng.randbytes(rng.randint(0, 300))
        elif i % 4 == 1:  # a well-framed request of random attributes
            body = b"".join(
                bytes([kind, 2 + len(value)]) + value
                for kind, value in (
                    (
                        rng.choice([1, 2, 3, 26, 33, 60, 79, 80, rng.randrange(256)]),
                        rng.randbytes(rng.randint(0, 40)),
                    )
                    for _ in range(rng.randint(0, 8))
                )
            )
            yield (
                bytes([1, rng.randrange(256)])
                + (20 + len(body)).to_bytes(2, "big")
                + rng.randbytes(16)
                + body
            )
        else:
            data = bytearray(rng.choice(valid))
            for _ in range(rng.randint(1, 4)):
                data[rng.randrange(len(data))] ^= rng.randrange(1, 256)
            if rng.random() < 0.2:
                data = (
                    data[: rng.randrange(len(data))]
                    if rng.random() < 0.5
                    else data + rng.randbytes(9)
                )
            yield bytes(data)


def valid_requests() -> list[bytes]:
    return [
        pap_request("pw")[1],
        pap_request("pw", ma=True, Proxy_State=b"x")[1],
        pyrad_request(
            CHAP_Password=chap_response(1, b"pw", b"challenge"), CHAP_Challenge=b"challenge"
        ).RequestPacket(),
        pyrad_request("alice@acme", ma=True, CHAP_Password=bytes(17)).RequestPacket(),
    ]


def test_fuzz_reading_requests_raises_only_drop() -> None:
    rng = random.Random(1812)
    reasons: dict[str, int] = {}
    for data in mutations(rng, valid_requests(), 20_000):
        try:
            packet = framed(data)
            request = read_access_request(packet)
            if request.user_password is not None:
                pap_password(request.user_password, packet[4:20], SECRET)
            if request.chap_password is not None:
                chap_matches(request.chap_password, chap_challenge(request, packet), b"pw")
            access_reply(
                packet, SECRET, ACCESS_REJECT, [("Reply-Message", "no")], request.proxy_state
            )
        except Drop as drop:
            reasons[drop.reason] = reasons.get(drop.reason, 0) + 1
    assert {
        "too_short",
        "wrong_code",
        "bad_length",
        "bad_attributes",
        "bad_message_authenticator",
    } <= set(reasons)


def test_fuzz_the_server_answers_or_drops_and_never_fails() -> None:
    server, transport = auth_server()
    rng = random.Random(2865)
    n = 20_000
    for data in mutations(rng, valid_requests(), n):
        server.datagram_received(data, ("127.0.0.1", 4000))
    counters = server.counters
    assert "internal_error" not in counters.dropped
    answered = counters.accepted + sum(counters.rejected.values())
    assert answered == len(transport.sent) > 0
    assert answered + sum(counters.dropped.values()) == counters.received == n
    for reply in transport.sent:
        assert reply[0] in (ACCESS_ACCEPT, ACCESS_REJECT)
        assert int.from_bytes(reply[2:4], "big") == len(reply)
