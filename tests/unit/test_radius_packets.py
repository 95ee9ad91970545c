"""Accounting-Requests on the wire: framing, authenticators, the response, and decoding into
rows of the RADIUS schema; Status-Server. Packets are built with pyrad, as a NAS would send
them; every refusal is a Drop with a reason, whatever the bytes, and Jet's own decoder
reads every fuzzed packet as pyrad does (the fuzz tests at the end)."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import random
import struct
from collections import Counter
from datetime import UTC, datetime

import pytest
from pyrad import tools
from pyrad.packet import AcctPacket, Packet, PacketError

from ingest.radius.accounting import (
    DICTIONARY,
    accounting_row,
    ip_to_int,
    read_accounting,
    records_table,
)
from ingest.radius.packets import (
    ACCESS_ACCEPT,
    ACCOUNTING_RESPONSE,
    STATUS_SERVER,
    Drop,
    accounting_response,
    check_framing,
    status_reply,
    verify_request,
)
from schemas.raw import RADIUS

SECRET = b"testing123"
RECEIVED_US = 1_790_000_100 * 1_000_000
SOURCE = ip_to_int("192.0.2.7")

FULL = {
    "Acct-Status-Type": "Stop",
    "User-Name": "alice@acme",
    "Acct-Session-Id": "sess-0001",
    "NAS-IP-Address": "10.0.0.1",
    "NAS-Identifier": "bras-1",
    "NAS-Port": 42,
    "Framed-IP-Address": "100.96.1.2",
    "Called-Station-Id": "00-11-22-33-44-55:hotspot",
    "Calling-Station-Id": "AA-BB-CC-DD-EE-FF",
    "Acct-Input-Octets": 1000,
    "Acct-Input-Gigawords": 2,
    "Acct-Output-Octets": 4_000_000_000,
    "Acct-Output-Gigawords": 1,
    "Acct-Input-Packets": 10,
    "Acct-Output-Packets": 20,
    "Acct-Session-Time": 3600,
    "Acct-Delay-Time": 3,
    "Acct-Terminate-Cause": "Idle-Timeout",
    "Event-Timestamp": 1_790_000_000,
    "Class": [b"\x01\x02\xff", b"\xab"],
    "Cisco-AVPair": ["subscriber:sub-qos-policy-in=1M", "connect-progress=LAN Ses Up"],
    "ssg-account-info": "S100.96.1.2",
    "ssg-service-info": "NInternet-Basic",
    "WISPr-Location-Name": "Harbour Cafe",
    "Mikrotik-Rate-Limit": "10M/10M",
}


def request(attributes: dict, *, secret: bytes = SECRET, id: int = 7, ma: bool = False) -> bytes:
    """An Accounting-Request as a NAS sends it, signed by pyrad."""
    pkt = AcctPacket(dict=DICTIONARY, secret=secret, id=id)
    if ma:
        pkt.add_message_authenticator()
    for name, value in attributes.items():
        for v in value if isinstance(value, list) else [value]:
            pkt.AddAttribute(name, v)
    return pkt.RequestPacket()


def accept(data: bytes, secret: bytes = SECRET) -> tuple:
    """What the server does with a datagram from a known NAS, short of batching."""
    read = read_accounting(data)
    packet, message_authenticator, proxy_state, _ = read
    verify_request(packet, secret, message_authenticator)
    assert accounting_response(packet, secret, proxy_state) == accounting_response(packet, secret)
    return accounting_row(read, SOURCE, RECEIVED_US)


def resign(packet: bytes, secret: bytes = SECRET) -> bytes:
    """The packet with its Request Authenticator recomputed (after changing it)."""
    digest = hashlib.md5(packet[:4] + bytes(16) + packet[20:] + secret).digest()
    return packet[:4] + digest + packet[20:]


def reason(data: bytes, secret: bytes = SECRET) -> str:
    with pytest.raises(Drop) as drop:
        accept(data, secret)
    return drop.value.reason


def test_dictionary_defines_what_accounting_reads() -> None:
    assert DICTIONARY.skipped_attributes == set()
    index = DICTIONARY.attrindex.GetForward
    assert index("Acct-Input-Gigawords") == 52 and index("Acct-Output-Gigawords") == 53
    assert index("Event-Timestamp") == 55 and DICTIONARY["Event-Timestamp"].type == "date"
    assert index("Message-Authenticator") == 80 and index("Error-Cause") == 101
    assert index("Cisco-AVPair") == (9, 1) and index("Cisco-NAS-Port") == (9, 2)
    assert index("ssg-account-info") == (9, 250) and index("ssg-service-info") == (9, 251)
    assert index("WISPr-Location-ID") == (14122, 1)
    assert index("WISPr-Session-Terminate-Time") == (14122, 9)
    assert index("WISPr-Bandwidth-Max-Down") == (14122, 8)
    assert index("Mikrotik-Rate-Limit") == (14988, 8)


def test_a_full_request_becomes_one_row_field_by_field() -> None:
    data = request(FULL)
    table = records_table([accept(data)])
    assert table.schema.equals(RADIUS)
    row = table.to_pylist()[0]
    assert (
        row
        == {
            "event_time": datetime.fromtimestamp(1_790_000_000, UTC),  # Event-Timestamp wins
            "status_type": "Stop",
            "user_name": "alice@acme",
            "acct_session_id": "sess-0001",
            "nas_ip": 10 << 24 | 1,
            "nas_identifier": "bras-1",
            "framed_ip": 100 << 24 | 96 << 16 | 1 << 8 | 2,
            "input_octets": 2 * 2**32 + 1000,
            "output_octets": 2**32 + 4_000_000_000,
            "session_time": 3600,
            "received_at": datetime.fromtimestamp(RECEIVED_US / 1e6, UTC),
            "nas_port": 42,
            "input_packets": 10,
            "output_packets": 20,
            "delay_time": 3,
            "called_station_id": "00-11-22-33-44-55:hotspot",
            "calling_station_id": "AA-BB-CC-DD-EE-FF",
            "class": "0102ff,ab",
            "terminate_cause": "Idle-Timeout",
            "cisco_avpairs": ["subscriber:sub-qos-policy-in=1M", "connect-progress=LAN Ses Up"],
            "ssg_account_info": "S100.96.1.2",
            "ssg_service_info": "NInternet-Basic",
            "source_ip": SOURCE,
            "packet_id": 7,
            "authenticator": data[4:20],
        }
    )


def test_without_event_timestamp_the_delay_is_taken_off_the_receipt_time() -> None:
    attributes = {"Acct-Status-Type": "Start", "Acct-Session-Id": "s", "Acct-Delay-Time": 5}
    row = records_table([accept(request(attributes))]).to_pylist()[0]
    assert row["event_time"] == datetime.fromtimestamp(RECEIVED_US / 1e6 - 5, UTC)
    # what the NAS did not send is null, not zero
    assert row["input_octets"] is None and row["cisco_avpairs"] is None
    assert row["class"] is None and row["terminate_cause"] is None


@pytest.mark.parametrize("status", ["Accounting-On", "Accounting-Off", "Interim-Update"])
def test_every_status_type_is_a_row(status: str) -> None:
    row = records_table([accept(request({"Acct-Status-Type": status}))]).to_pylist()[0]
    assert row["status_type"] == status


def test_unknown_values_and_bad_utf8_are_kept_not_refused() -> None:
    data = request({"Acct-Status-Type": "Start", "Acct-Terminate-Cause": 99, "User-Name": b"\xffa"})
    row = records_table([accept(data)]).to_pylist()[0]
    assert row["terminate_cause"] == "99"
    assert row["user_name"] == "\\xffa"


def test_padding_after_length_is_ignored() -> None:
    data = request({"Acct-Status-Type": "Start", "User-Name": "bob"})
    assert records_table([accept(data + b"\x00" * 7)]).num_rows == 1


def test_message_authenticator_is_checked_when_present() -> None:
    data = request({"Acct-Status-Type": "Start", "User-Name": "bob"}, ma=True)
    packet, offset = check_framing(data)
    assert offset == 20  # pyrad puts it first
    assert records_table([accept(data)]).num_rows == 1
    forged = bytearray(data)
    forged[offset + 5] ^= 1  # a wrong HMAC, under a Request Authenticator made to match
    assert reason(resign(bytes(forged))) == "bad_message_authenticator"


def test_response_authenticator_and_proxy_state() -> None:
    pkt = AcctPacket(dict=DICTIONARY, secret=SECRET, id=200)
    pkt.AddAttribute("Acct-Status-Type", "Start")
    pkt.AddAttribute("Proxy-State", b"first")
    pkt.AddAttribute("User-Name", "bob")
    pkt.AddAttribute("Proxy-State", b"second")
    data = pkt.RequestPacket()
    reply = accounting_response(check_framing(data)[0], SECRET)
    assert reply[0] == 5 and reply[1] == 200
    assert reply.endswith(b"\x21\x07first\x21\x08second")
    assert pkt.VerifyReply(pkt.CreateReply(packet=reply), reply)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d[:19], "too_short"),
        (lambda d: b"\x01" + d[1:], "wrong_code"),
        (lambda d: d[:2] + struct.pack("!H", len(d) + 1) + d[4:], "bad_length"),
        (lambda d: d[:2] + struct.pack("!H", 19) + d[4:], "bad_length"),
        (lambda d: d[:2] + struct.pack("!H", 5000) + d[4:] + bytes(5000), "bad_length"),
        (lambda d: d[:21] + b"\x01" + d[22:], "bad_attributes"),  # attribute length 1
        (lambda d: d[:21] + b"\xff" + d[22:], "bad_attributes"),  # overruns the packet
        (lambda d: d[:-1], "bad_length"),  # datagram shorter than its Length
        (lambda d: d[:4] + bytes(16) + d[20:], "bad_authenticator"),
    ],
    ids=[
        "short",
        "access-request",
        "length-past-datagram",
        "length-under-header",
        "length-over-4096",
        "attr-length-1",
        "attr-overrun",
        "truncated",
        "zero-authenticator",
    ],
)
def test_malformed_packets_are_dropped_with_a_reason(change, expected: str) -> None:
    assert reason(change(request(FULL))) == expected


def test_wrong_secret_is_a_bad_authenticator() -> None:
    assert reason(request(FULL), secret=b"other") == "bad_authenticator"


def test_missing_status_type_and_impossible_values_are_dropped() -> None:
    assert reason(request({"User-Name": "bob"})) == "no_status_type"
    data = request({"Acct-Status-Type": "Start", "Acct-Input-Octets": 1})
    three_octets = (
        data[:2] + struct.pack("!H", len(data) - 1) + data[4:-6] + b"\x2a\x05\x00\x00\x01"
    )
    assert reason(resign(three_octets)) == "bad_attribute_value"
    data = request({"Acct-Status-Type": "Start", "Framed-IP-Address": "10.0.0.1"})
    short_ip = data[:2] + struct.pack("!H", len(data) - 1) + data[4:-6] + b"\x08\x05\x0a\x00\x00"
    assert reason(resign(short_ip)) == "bad_attribute_value"


def test_cisco_vendor_attributes_several_in_one_and_broken_ones_ignored() -> None:
    avpair = b"\x01\x0ba=1 b=two"  # Cisco-AVPair, 9 octets of value
    account = b"\xfa\x05S10"  # ssg-account-info
    one_vsa = b"\x1a" + bytes([6 + len(avpair) + len(account)]) + b"\0\0\0\x09"
    packet = request({"Acct-Status-Type": "Start"})
    grown = packet + one_vsa + avpair + account
    broken = b"\x1a\x0b\0\0\0\x09\x01\x09abc"  # its sub-attribute runs past it
    other_vendor = b"\x1a\x0a\0\0\x37\x2a\x01\x04ab"
    grown += broken + other_vendor
    grown = resign(grown[:2] + struct.pack("!H", len(grown)) + grown[4:])
    row = records_table([accept(grown)]).to_pylist()[0]
    assert row["cisco_avpairs"] == ["a=1 b=two"] and row["ssg_account_info"] == "S10"
    assert accept(grown)[:-2] == pyrad_row(check_framing(grown)[0])[:-2]


def status_server(secret: bytes = SECRET, attributes: bytes = b"", ma: bool = True) -> bytes:
    """A Status-Server as radclient sends it: a random Request Authenticator, and a
    Message-Authenticator, HMAC-MD5 of the packet with its value zeroed (RFC 5997)."""
    body = (b"\x50\x12" + bytes(16) if ma else b"") + attributes
    packet = bytes((STATUS_SERVER, 9)) + struct.pack("!H", 20 + len(body)) + os.urandom(16) + body
    if not ma:
        return packet
    signature = hmac.new(secret, packet, "md5").digest()
    return packet[:22] + signature + packet[38:]


def test_status_server_answers_with_a_signed_reply() -> None:
    data = status_server(attributes=b"\x21\x04ps")  # a Proxy-State
    for code in (ACCOUNTING_RESPONSE, ACCESS_ACCEPT):
        reply = status_reply(data, SECRET, code)
        assert reply[:2] == bytes((code, 9)) and reply.endswith(b"\x21\x04ps")
        assert struct.unpack("!H", reply[2:4])[0] == len(reply) == 20 + 18 + 4
        request_authenticator = data[4:20]
        expected = hashlib.md5(reply[:4] + request_authenticator + reply[20:] + SECRET).digest()
        assert reply[4:20] == expected  # the Response Authenticator
        assert reply[20:22] == b"\x50\x12"  # a Message-Authenticator, over the request's
        unsigned = reply[:4] + request_authenticator + reply[20:22] + bytes(16) + reply[38:]
        assert hmac.new(SECRET, unsigned, "md5").digest() == reply[22:38]


def test_status_server_without_or_with_a_wrong_message_authenticator_is_dropped() -> None:
    with pytest.raises(Drop, match="no_message_authenticator"):
        status_reply(status_server(ma=False), SECRET, ACCOUNTING_RESPONSE)
    with pytest.raises(Drop, match="bad_message_authenticator"):
        status_reply(status_server(), b"other", ACCOUNTING_RESPONSE)
    with pytest.raises(Drop, match="wrong_code"):
        status_reply(request(FULL), SECRET, ACCOUNTING_RESPONSE)


# --- fuzz: nothing but Drop comes out, whatever comes in ----------------------------------

# The attributes a row is made of, read with pyrad (as Jet did before it had a decoder of
# its own): the reference every fuzzed packet is read against.
_PYRAD_READ = {
    DICTIONARY.attrindex.GetForward(name): DICTIONARY[name]
    for name in (
        "User-Name",
        "NAS-IP-Address",
        "NAS-Port",
        "Framed-IP-Address",
        "Class",
        "Called-Station-Id",
        "Calling-Station-Id",
        "NAS-Identifier",
        "Acct-Status-Type",
        "Acct-Delay-Time",
        "Acct-Input-Octets",
        "Acct-Output-Octets",
        "Acct-Session-Id",
        "Acct-Session-Time",
        "Acct-Input-Packets",
        "Acct-Output-Packets",
        "Acct-Terminate-Cause",
        "Acct-Input-Gigawords",
        "Acct-Output-Gigawords",
        "Event-Timestamp",
        "Cisco-AVPair",
        "ssg-account-info",
        "ssg-service-info",
    )
}


def pyrad_row(packet: bytes) -> tuple:
    """The row of a framed, verified request, decoded by pyrad."""
    found = {}
    try:
        for key, raws in dict.items(Packet(dict=DICTIONARY, packet=packet)):
            attribute = _PYRAD_READ.get(key)
            if attribute is None:
                continue
            named = attribute.values
            found[attribute.name] = [
                named.GetBackward(raw)
                if named.HasBackward(raw)
                else tools.DecodeAttr(attribute.type, raw)
                for raw in raws
            ]
    except (PacketError, ValueError) as err:
        raise Drop("bad_attribute_value", str(err)) from None
    first = {name: values[0] for name, values in found.items()}
    if "Acct-Status-Type" not in first:
        raise Drop("no_status_type")

    def text(value):
        return value.decode("utf-8", "backslashreplace") if isinstance(value, bytes) else value

    def counter(octets, gigawords):
        if octets is None and gigawords is None:
            return None
        return ((gigawords or 0) << 32) | (octets or 0)

    us, stamp, delay = 1_000_000, first.get("Event-Timestamp"), first.get("Acct-Delay-Time")
    cause = first.get("Acct-Terminate-Cause")
    return (
        stamp * us if stamp is not None else RECEIVED_US - (delay or 0) * us,
        str(first["Acct-Status-Type"]),
        text(first.get("User-Name")),
        text(first.get("Acct-Session-Id")),
        None if "NAS-IP-Address" not in first else ip_to_int(first["NAS-IP-Address"]),
        text(first.get("NAS-Identifier")),
        None if "Framed-IP-Address" not in first else ip_to_int(first["Framed-IP-Address"]),
        counter(first.get("Acct-Input-Octets"), first.get("Acct-Input-Gigawords")),
        counter(first.get("Acct-Output-Octets"), first.get("Acct-Output-Gigawords")),
        first.get("Acct-Session-Time"),
        RECEIVED_US,
        first.get("NAS-Port"),
        first.get("Acct-Input-Packets"),
        first.get("Acct-Output-Packets"),
        delay,
        text(first.get("Called-Station-Id")),
        text(first.get("Calling-Station-Id")),
        ",".join(c.hex() for c in found["Class"]) if found.get("Class") else None,
        None if cause is None else str(cause),
        [text(v) for v in found["Cisco-AVPair"]] if found.get("Cisco-AVPair") else None,
        text(first.get("ssg-account-info")),
        text(first.get("ssg-service-info")),
        SOURCE,
        packet[1],
        packet[4:20],
    )


def decoded_alike(data: bytes) -> str:
    """Check that Jet's decoder and pyrad read `data` alike; what became of it."""
    try:
        read = read_accounting(data)
    except Drop as drop:  # framed alike too: the authentication port's framing agrees
        with pytest.raises(Drop) as framing:
            check_framing(data)
        assert framing.value.reason == drop.reason
        return drop.reason
    assert check_framing(data) == read[:2]
    try:
        verify_request(read[0], SECRET, read[1])
    except Drop as drop:
        return drop.reason
    try:
        expected = pyrad_row(read[0])
    except Drop as drop:
        with pytest.raises(Drop) as ours:
            accounting_row(read, SOURCE, RECEIVED_US)
        assert ours.value.reason == drop.reason
        return drop.reason
    assert accounting_row(read, SOURCE, RECEIVED_US) == expected
    return "row"


def test_fuzz_random_bytes() -> None:
    rng = random.Random(2866)
    for _ in range(3000):
        data = rng.randbytes(rng.randint(0, 300))
        if rng.random() < 0.5 and len(data) >= 20:  # a plausible header, signed
            data = bytes([4, data[1]]) + struct.pack("!H", len(data)) + data[4:]
            data = resign(data)
        decoded_alike(data)


def test_fuzz_mutated_valid_packets() -> None:
    """Flip, insert, delete and overwrite bytes of real requests, fix the Length and sign
    them again so that most reach the decoder, not just the authenticator check."""
    rng = random.Random(5176)
    seeds = [request(FULL), request(FULL, ma=True), request({"Acct-Status-Type": "Start"})]
    rows = []
    outcomes: Counter[str] = Counter()
    for i in range(4000):
        data = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 4)):
            pos = rng.randrange(20, len(data)) if len(data) > 20 else 20
            op = rng.random()
            if op < 0.4:
                data[pos : pos + 1] = bytes([rng.randrange(256)])
            elif op < 0.6:
                data[pos:pos] = rng.randbytes(rng.randint(1, 8))
            elif op < 0.8:
                del data[pos : pos + rng.randint(1, 8)]
            else:
                data[pos : pos + 2] = bytes([rng.randrange(256), rng.randrange(256)])
        if i % 4:  # mostly keep Length honest; sometimes leave it lying
            data[2:4] = struct.pack("!H", len(data))
        data = resign(bytes(data))
        outcomes[decoded_alike(data)] += 1
        with contextlib.suppress(Drop):
            rows.append(accept(data))
    # the mutations reached the decoder, not only the framing check, and it refused some
    assert outcomes["row"] > 100 and outcomes["bad_attribute_value"] > 10, outcomes
    assert records_table(rows).num_rows == len(rows)  # and no row can spoil its batch
