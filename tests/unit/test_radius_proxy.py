"""Proxying remote realms: requests re-encoded for the home server as pyrad reads them
(password, CHAP, Message-Authenticator, Proxy-State, accounting authenticator), answers
checked against the request sent, and the proxy in an event loop against a home server
of pyrad: Access-Challenge relayed, resends from the NAS not sent twice, a home server
that never answers turned into a Reject, and accounting copied once."""

from __future__ import annotations

import asyncio
import hashlib

import pytest
from pyrad.packet import AccessChallenge, AccessReject, AcctPacket, AuthPacket

from ingest.radius.access import (
    ACCESS_ACCEPT,
    ACCESS_CHALLENGE,
    ACCESS_REQUEST,
    chap_challenge,
    chap_matches,
    encode_attribute,
    read_access_request,
)
from ingest.radius.accounting import DICTIONARY
from ingest.radius.auth_server import AuthServer
from ingest.radius.packets import (
    ACCOUNTING_RESPONSE,
    Drop,
    accounting_response,
    check_framing,
    sign_reply,
    verify_message_authenticator,
    verify_request,
)
from ingest.radius.proxy import NOT_ANSWERING
from ingest.radius.relay import check_answer, proxied_access_request, proxied_accounting_request
from ingest.radius.server import AccountingTap
from jet.network_access import AccessView
from jet.remote_realms import HomeServer
from tests.unit.transport import Transport

NAS_SECRET = b"nas-secret"
HOME_SECRET = b"home-secret"
AUTHENTICATOR = bytes(range(16))
STATE = b"jet\0\0\0\1"


def nas_request(user: str = "bob@partner", *, ma: bool = True, **attributes) -> AuthPacket:
    pkt = AuthPacket(dict=DICTIONARY, secret=NAS_SECRET, id=42)
    if ma:
        pkt.add_message_authenticator()
    pkt.AddAttribute("User-Name", user)
    pkt.AddAttribute("NAS-IP-Address", "10.0.0.1")
    for name, value in attributes.items():
        pkt.AddAttribute(name.replace("_", "-"), value)
    return pkt


def proxied(data: bytes) -> bytes:
    packet, _ = check_framing(data, ACCESS_REQUEST)
    return proxied_access_request(
        packet, read_access_request(packet), NAS_SECRET, HOME_SECRET, 7, AUTHENTICATOR, STATE
    )


def as_home_server_reads(data: bytes) -> AuthPacket:
    packet, offset = check_framing(data, ACCESS_REQUEST)
    assert offset == 20  # a Message-Authenticator, first
    verify_message_authenticator(packet, HOME_SECRET, offset)
    return AuthPacket(dict=DICTIONARY, secret=HOME_SECRET, packet=packet)


@pytest.mark.parametrize("password", ["p", "sixteen-octets!!", "x" * 128])
def test_pap_is_hidden_again_for_the_home_server(password: str) -> None:
    pkt = nas_request(ma=False, Proxy_State=b"nas-hop")
    pkt.AddAttribute("User-Password", pkt.PwCrypt(password))
    sent = proxied(pkt.RequestPacket())
    home = as_home_server_reads(sent)
    assert (sent[0], sent[1], sent[4:20]) == (ACCESS_REQUEST, 7, AUTHENTICATOR)
    assert home.PwDecrypt(home["User-Password"][0]) == password
    assert home["User-Name"] == ["bob@partner"] and home["NAS-IP-Address"] == ["10.0.0.1"]
    assert home["Proxy-State"] == [b"nas-hop", STATE]  # the NAS's kept, Jet's last
    assert sent.endswith(bytes((33, 2 + len(STATE))) + STATE)


def test_chap_keeps_its_challenge_when_the_authenticator_changes() -> None:
    for given in (None, b"challenge-of-the-nas"):
        pkt = nas_request()
        pkt.authenticator = bytes(range(100, 116))
        challenge = given or pkt.authenticator
        if given:
            pkt.AddAttribute("CHAP-Challenge", given)
        response = hashlib.md5(b"\x09" + b"bob-pw" + challenge).digest()
        pkt.AddAttribute("CHAP-Password", b"\x09" + response)
        sent = proxied(pkt.RequestPacket())
        home = as_home_server_reads(sent)
        assert home["CHAP-Challenge"] == [challenge]
        request = read_access_request(sent)
        assert chap_matches(request.chap_password, chap_challenge(request, sent), b"bob-pw")


def test_eap_goes_through_untouched() -> None:
    """Jet refuses EAP for its own logins; a remote realm's home server may do it."""
    eap = b"\x02\x05\x00\x0b\x01bob@p"
    sent = proxied(nas_request(EAP_Message=eap, State=b"round-1").RequestPacket())
    home = as_home_server_reads(sent)
    assert home["EAP-Message"] == [eap] and home["State"] == [b"round-1"]


def test_accounting_is_signed_for_the_home_server() -> None:
    pkt = AcctPacket(dict=DICTIONARY, secret=NAS_SECRET, id=3)
    pkt.AddAttribute("Acct-Status-Type", "Start")
    pkt.AddAttribute("User-Name", "bob@partner")
    pkt.add_message_authenticator()
    packet, _ = check_framing(pkt.RequestPacket())
    sent = proxied_accounting_request(packet, HOME_SECRET, 9, STATE)
    framed, offset = check_framing(sent)
    assert offset is None  # an Accounting-Request is signed by its authenticator
    verify_request(framed, HOME_SECRET, None)
    with pytest.raises(Drop):
        verify_request(framed, NAS_SECRET, None)
    home = AcctPacket(dict=DICTIONARY, secret=HOME_SECRET, packet=sent)
    assert sent[1] == 9 and home["User-Name"] == ["bob@partner"]
    assert home["Proxy-State"] == [STATE]
    answer = accounting_response(framed, HOME_SECRET)
    assert check_answer(answer, sent, HOME_SECRET) == (ACCOUNTING_RESPONSE, b"")


def test_answers_are_checked_against_the_request_sent() -> None:
    pkt = nas_request()
    pkt.AddAttribute("User-Password", pkt.PwCrypt("pw"))
    sent = proxied(pkt.RequestPacket())
    home = as_home_server_reads(sent)
    reply = home.CreateReply()
    reply.code = ACCESS_ACCEPT
    reply.AddAttribute("Session-Timeout", 60)
    reply.AddAttribute("Proxy-State", STATE)
    reply.add_message_authenticator()
    data = reply.ReplyPacket()  # pyrad's own encoding, as a home server signs it
    assert check_answer(data, sent, HOME_SECRET) == (
        ACCESS_ACCEPT,
        encode_attribute("Session-Timeout", 60),
    )
    challenge = sign_reply(sent, HOME_SECRET, ACCESS_CHALLENGE, encode_attribute("State", b"s"))
    assert check_answer(challenge, sent, HOME_SECRET)[0] == ACCESS_CHALLENGE
    other = bytearray(data)
    other[1] ^= 1
    tampered = bytearray(data)
    tampered[-1] ^= 1
    for answer, reason in [
        (data, "bad_authenticator"),  # with the NAS's secret
        (bytes(other), "wrong_identifier"),
        (bytes(tampered), "bad_authenticator"),
        (accounting_response(sent, HOME_SECRET), "wrong_code"),
        (b"", "wrong_code"),
        (data[:30], "bad_length"),
    ]:
        secret = NAS_SECRET if reason == "bad_authenticator" and answer is data else HOME_SECRET
        with pytest.raises(Drop) as caught:
            check_answer(answer, sent, secret)
        assert caught.value.reason == reason


# --- the proxy in an event loop, against a home server of pyrad ---------------------------


class HomeServerOfPyrad(asyncio.DatagramProtocol):
    """Answers every Access-Request with an Access-Challenge carrying a State (unless
    `silent`), and every Accounting-Request with its response; keeps what it got."""

    def __init__(self, silent: bool = False) -> None:
        self.silent = silent
        self.got: list[bytes] = []

    def connection_made(self, transport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr) -> None:
        self.got.append(data)
        if self.silent:
            return
        if data[0] == ACCESS_REQUEST:
            request = AuthPacket(dict=DICTIONARY, secret=HOME_SECRET, packet=data)
            reply = request.CreateReply()
            reply.code = AccessChallenge
            reply.AddAttribute("State", b"round-2")
            reply.AddAttribute("Reply-Message", "Your one-time code?")
            for state in request["Proxy-State"]:
                reply.AddAttribute("Proxy-State", state)
            self.transport.sendto(reply.ReplyPacket(), addr)
        else:
            self.transport.sendto(accounting_response(data, HOME_SECRET), addr)


async def home_server(silent: bool = False) -> tuple[HomeServerOfPyrad, int]:
    transport, protocol = await asyncio.get_running_loop().create_datagram_endpoint(
        lambda: HomeServerOfPyrad(silent), local_addr=("127.0.0.1", 0)
    )
    return protocol, transport.get_extra_info("sockname")[1]


def auth_server(port: int, *, timeout: float = 1.0, retries: int = 0) -> AuthServer:
    home = HomeServer("partner", "127.0.0.1", port, port, HOME_SECRET, timeout, retries)
    view = AccessView(nas_realms={"127.0.0.1": "acme"}, remote_realms={"partner": home})
    server = AuthServer({"127.0.0.1": NAS_SECRET}, lambda: view, view)
    server.connection_made(Transport())
    return server


async def until(condition, seconds: float = 5.0) -> None:
    for _ in range(int(seconds / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("timed out")


def test_a_challenge_is_relayed_and_a_resend_is_not_sent_twice() -> None:
    asyncio.run(challenge_relayed())


async def challenge_relayed() -> None:
    home, port = await home_server()
    server = auth_server(port)
    pkt = nas_request(Proxy_State=b"nas-hop")
    pkt.AddAttribute("User-Password", pkt.PwCrypt("pw"))
    data = pkt.RequestPacket()
    server.datagram_received(data, ("127.0.0.1", 4000))
    server.datagram_received(data, ("127.0.0.1", 4000))  # the NAS resends it
    await until(lambda: server._transport.sent)
    reply = pkt.CreateReply(packet=server._transport.sent[0])
    assert pkt.VerifyReply(reply, server._transport.sent[0], enforce_ma=True)
    assert reply.code == AccessChallenge
    assert reply["State"] == [b"round-2"] and reply["Proxy-State"] == [b"nas-hop"]
    assert len(home.got) == 1
    counters = server.proxy.counters
    assert (counters.forwarded, counters.challenged, counters.duplicates) == (1, 1, 1)
    assert server.counters.proxied == 2 and server.counters.accepted == 0  # both handed on
    # a user of no remote realm is still decided in Jet (here: unknown)
    local = nas_request("alice@acme")
    local.AddAttribute("User-Password", local.PwCrypt("pw"))
    server.datagram_received(local.RequestPacket(), ("127.0.0.1", 4000))
    assert server.counters.rejected == {"unknown_user": 1} and len(home.got) == 1
    server.close()


def test_a_home_server_that_never_answers_gets_the_login_rejected() -> None:
    asyncio.run(never_answers())


async def never_answers() -> None:
    home, port = await home_server(silent=True)
    server = auth_server(port, timeout=0.05, retries=2)
    pkt = nas_request()
    pkt.AddAttribute("User-Password", pkt.PwCrypt("pw"))
    server.datagram_received(pkt.RequestPacket(), ("127.0.0.1", 4000))
    await until(lambda: server._transport.sent)
    raw = server._transport.sent[0]
    reply = pkt.CreateReply(packet=raw)
    assert pkt.VerifyReply(reply, raw, enforce_ma=True) and reply.code == AccessReject
    assert reply["Reply-Message"] == [NOT_ANSWERING.format(realm="partner")]
    assert len(home.got) == 3 and len(set(home.got)) == 1  # resent as it was sent
    counters = server.proxy.counters
    assert (counters.timed_out, counters.resent) == (1, 2)
    server.close()


def test_accounting_of_a_remote_realm_is_copied_once() -> None:
    asyncio.run(accounting_copied())


class AccountingServer:
    """What the tap needs of the accounting server: its clients, and its datagrams."""

    def __init__(self) -> None:
        self.clients = {"127.0.0.1": NAS_SECRET}
        self.got: list[bytes] = []

    def datagram_received(self, data: bytes, addr) -> None:
        self.got.append(data)


async def accounting_copied() -> None:
    home, port = await home_server()
    auth = auth_server(port)
    local = AccountingServer()
    tap = AccountingTap(local, auth)  # type: ignore[arg-type]

    def record(user: str, secret: bytes = NAS_SECRET) -> bytes:
        pkt = AcctPacket(dict=DICTIONARY, secret=secret, id=len(local.got) % 256)
        pkt.AddAttribute("Acct-Status-Type", "Start")
        pkt.AddAttribute("User-Name", user)
        return pkt.RequestPacket()

    partner = record("bob@partner")
    for data, source in [
        (partner, ("127.0.0.1", 5000)),
        (partner, ("127.0.0.1", 5000)),  # resent by the NAS: landed, not copied again
        (record("alice@acme"), ("127.0.0.1", 5000)),  # a local realm
        (record("eve@partner", b"wrong"), ("127.0.0.1", 5000)),  # does not verify
        (record("eve@partner"), ("10.9.9.9", 5000)),  # not a NAS client
        (b"\x04garbage", ("127.0.0.1", 5000)),
    ]:
        tap.datagram_received(data, source)
    assert len(local.got) == 6  # the accounting server gets every datagram, as before
    await until(lambda: auth.proxy.counters.acct_answered)
    [copy] = home.got
    assert AcctPacket(dict=DICTIONARY, secret=HOME_SECRET, packet=copy)["User-Name"] == [
        "bob@partner"
    ]
    counters = auth.proxy.counters
    assert (counters.acct_copied, counters.acct_answered, counters.acct_lost) == (1, 1, 0)
    auth.close()
    tap.datagram_received(record("bob@partner"), ("127.0.0.1", 5001))  # after close: landed
    assert len(local.got) == 7 and counters.acct_copied == 1


def test_the_home_server_of_a_login() -> None:
    home = HomeServer("partner.example", "192.0.2.1", 1812, None, b"s", 2.0, 2)
    view = AccessView(
        nas_realms={"10.0.0.1": "acme", "10.0.0.2": "partner.example"},
        remote_realms={"partner.example": home},
    )
    assert view.home_server("10.0.0.1", "bob@Partner.Example") is home
    assert view.home_server("10.0.0.2", "bob") is home  # at the remote realm's own NAS
    assert view.home_server("10.0.0.1", "bob") is None
    assert view.home_server("10.0.0.1", "bob@acme") is None
    assert view.home_server("10.9.9.9", "bob") is None
    assert AccessView().home_server("10.0.0.1", "bob@partner.example") is None
