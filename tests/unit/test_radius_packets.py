"""Accounting-Requests on the wire: framing, authenticators, the response, and decoding into
rows of the RADIUS schema. Packets are built with pyrad, as a NAS would send them; every
refusal is a Drop with a reason, whatever the bytes (the fuzz tests at the end)."""

from __future__ import annotations

import contextlib
import hashlib
import random
import struct
from datetime import UTC, datetime

import pytest
from pyrad.packet import AcctPacket

from ingest.radius.accounting import DICTIONARY, decode_accounting, ip_to_int, records_table
from ingest.radius.packets import (
    Drop,
    accounting_response,
    check_framing,
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
    packet, message_authenticator = check_framing(data)
    verify_request(packet, secret, message_authenticator)
    accounting_response(packet, secret)
    return decode_accounting(packet, SOURCE, RECEIVED_US)


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


# --- fuzz: nothing but Drop comes out, whatever comes in ----------------------------------


def test_fuzz_random_bytes() -> None:
    rng = random.Random(2866)
    for _ in range(3000):
        data = rng.randbytes(rng.randint(0, 300))
        if rng.random() < 0.5 and len(data) >= 20:  # a plausible header, signed
            data = bytes([4, data[1]]) + struct.pack("!H", len(data)) + data[4:]
            data = resign(data)
        with contextlib.suppress(Drop):
            accept(data)


def test_fuzz_mutated_valid_packets() -> None:
    """Flip, insert, delete and overwrite bytes of real requests, fix the Length and sign
    them again so that most reach the decoder, not just the authenticator check."""
    rng = random.Random(5176)
    seeds = [request(FULL), request(FULL, ma=True), request({"Acct-Status-Type": "Start"})]
    rows = []
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
        with contextlib.suppress(Drop):
            rows.append(accept(resign(bytes(data))))
    assert len(rows) > 100  # the mutations reached the decoder, not only the framing check
    assert records_table(rows).num_rows == len(rows)  # and no row can spoil its batch
