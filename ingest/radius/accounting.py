"""Accounting-Requests decoded into rows of the landed RADIUS schema (`schemas.raw.RADIUS`).

One pass over the wire format (RFC 2865 section 3 and 5.26, RFC 2866): `read_accounting`
frames the request and picks the attributes a row keeps, Cisco's vendor attributes
(vendor 9) included; `accounting_row` turns them into a row, after the server has checked
the authenticators. Values are kept as received: 64-bit counters with the Gigawords folded
in, IPv4 as integers, the Class as hex, Cisco AV-pairs as a list. Attribute numbers,
types and value names come from Jet's dictionary (read with pyrad); pyrad itself is not
on this path, as it costs ~40 us a packet where this takes ~7 (see bench/README.md), and
`tests/unit/test_radius_packets.py` checks that both read every fuzzed packet alike.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
from pyrad.dictionary import Dictionary

from ingest.radius.packets import (
    ACCOUNTING_REQUEST,
    HEADER,
    MAX_LENGTH,
    MESSAGE_AUTHENTICATOR,
    PROXY_STATE,
    Drop,
)
from schemas.raw import RADIUS

DICTIONARY = Dictionary(str(Path(__file__).with_name("dictionary")))
_US = 1_000_000
VENDOR_SPECIFIC = 26
_CISCO = DICTIONARY.vendors.GetForward("Cisco").to_bytes(4, "big")  # a vendor id as sent

Row = tuple[Any, ...]  # the values of one record, in `RADIUS` column order


def _code(name: str) -> int:
    key = DICTIONARY.attrindex.GetForward(name)
    return key[1] if isinstance(key, tuple) else key


# The single-valued attributes a row keeps, numbered by slot: those of 4 octets first
# (integer, ipaddr, date), then the strings. A row keeps the first of each; Class and
# Cisco-AVPair, which a row keeps all of, are read apart.
_FIXED = (
    "Acct-Status-Type",
    "NAS-IP-Address",
    "NAS-Port",
    "Framed-IP-Address",
    "Acct-Delay-Time",
    "Acct-Input-Octets",
    "Acct-Output-Octets",
    "Acct-Session-Time",
    "Acct-Input-Packets",
    "Acct-Output-Packets",
    "Acct-Terminate-Cause",
    "Acct-Input-Gigawords",
    "Acct-Output-Gigawords",
    "Event-Timestamp",
)
_STRINGS = (
    "User-Name",
    "Acct-Session-Id",
    "NAS-Identifier",
    "Called-Station-Id",
    "Calling-Station-Id",
)
_CISCO_STRINGS = ("ssg-account-info", "ssg-service-info")
_SLOTS = len(_FIXED) + len(_STRINGS) + len(_CISCO_STRINGS)
_SLOT = {_code(name): slot for slot, name in enumerate(_FIXED + _STRINGS)}
_CISCO_SLOT = {
    _code(name): len(_FIXED) + len(_STRINGS) + i for i, name in enumerate(_CISCO_STRINGS)
}
_N_FIXED = len(_FIXED)
_CLASS = _code("Class")
_AVPAIR = _code("Cisco-AVPair")
assert all(DICTIONARY[name].type in ("integer", "ipaddr", "date") for name in _FIXED)
assert all(DICTIONARY[name].type == "string" for name in _STRINGS + _CISCO_STRINGS)
assert DICTIONARY["Class"].type == "octets" and DICTIONARY["Cisco-AVPair"].vendor == "Cisco"


def _names(attribute: str) -> dict[int, str]:
    """The named values of an integer attribute, by number."""
    values = DICTIONARY[attribute].values.forward
    return {int.from_bytes(raw, "big"): name for name, raw in values.items()}


_STATUS_NAMES = _names("Acct-Status-Type")
_CAUSE_NAMES = _names("Acct-Terminate-Cause")

# What read_accounting gives: the request cut to its Length, the offset of its
# Message-Authenticator (None if it has none), its Proxy-State attributes whole and in
# order (for the answer), and the values the row is made of (see `accounting_row`).
Read = tuple[bytes, int | None, bytes, list[Any]]


def read_accounting(data: bytes) -> Read:
    """Frame the Accounting-Request in `data` and pick what a row keeps, in one pass.

    Octets past Length are padding and ignored (RFC 2865 section 3); attributes must
    fill the rest exactly, so a truncated or overrunning attribute refuses the packet
    (Drop "bad_attributes") rather than being read short. Values are not judged here:
    `accounting_row` does that once the authenticators are checked. A Vendor-Specific
    attribute whose sub-attributes do not add up is ignored whole, as pyrad does.
    """
    received = len(data)
    if received < HEADER:
        raise Drop("too_short", f"{received} octets")
    if data[0] != ACCOUNTING_REQUEST:
        raise Drop("wrong_code", f"code {data[0]}")
    length = data[2] << 8 | data[3]
    if not HEADER <= length <= MAX_LENGTH or length > received:
        raise Drop("bad_length", f"Length {length}, datagram {received} octets")
    packet = data if length == received else data[:length]
    # the slots, then Class values, Cisco-AVPairs, and the attribute of a wrong size
    values: list[Any] = [None] * (_SLOTS + 3)
    message_authenticator = None
    proxy_state = b""
    slot_of = _SLOT
    fixed = _N_FIXED
    pos = HEADER
    while pos < length:
        if pos + 2 > length:
            raise Drop("bad_attributes", f"attribute header cut off at octet {pos}")
        kind = packet[pos]
        size = packet[pos + 1]
        end = pos + size
        if size < 2 or end > length:
            raise Drop("bad_attributes", f"attribute {kind} at octet {pos} has length {size}")
        slot = slot_of.get(kind)
        if slot is not None:
            if slot < fixed and size != 6:
                values[_SLOTS + 2] = (kind, size - 2)
            elif values[slot] is None:
                values[slot] = packet[pos + 2 : end]
        elif kind == VENDOR_SPECIFIC:
            _read_vendor(packet, pos + 2, end, values)
        elif kind == _CLASS:
            if values[_SLOTS] is None:
                values[_SLOTS] = []
            values[_SLOTS].append(packet[pos + 2 : end])
        elif kind == MESSAGE_AUTHENTICATOR:
            if size != 18 or message_authenticator is not None:
                raise Drop("bad_message_authenticator", "not one attribute of 16 octets")
            message_authenticator = pos
        elif kind == PROXY_STATE:
            proxy_state += packet[pos:end]
        pos = end
    return packet, message_authenticator, proxy_state, values


def _read_vendor(packet: bytes, start: int, end: int, values: list[Any]) -> None:
    """Cisco's sub-attributes of the Vendor-Specific value packet[start:end], into
    `values`; another vendor's, or sub-attributes that do not fill it, are ignored."""
    if end - start < 6 or packet[start : start + 4] != _CISCO:
        return
    found = []
    pos = start + 4
    while pos < end:
        if pos + 2 > end:
            return
        size = packet[pos + 1]
        if size < 2 or pos + size > end:
            return
        found.append((packet[pos], packet[pos + 2 : pos + size]))
        pos += size
    for kind, value in found:
        if kind == _AVPAIR:
            if values[_SLOTS + 1] is None:
                values[_SLOTS + 1] = []
            values[_SLOTS + 1].append(value)
        else:
            slot = _CISCO_SLOT.get(kind)
            if slot is not None and values[slot] is None:
                values[slot] = value


def accounting_row(read: Read, source_ip: int, received_us: int) -> Row:
    """The row of a read (and verified) Accounting-Request.

    `received_us` is the receipt time in microseconds since the epoch: the event time is
    the Event-Timestamp if the NAS sent one, else the receipt time less Acct-Delay-Time.
    Raises Drop for a request without Acct-Status-Type (RFC 2866 section 5.1 requires
    it) or with a kept integer, address or date that is not 4 octets; attributes the row
    does not keep are not judged, so they cannot refuse it.
    """
    packet, _, _, v = read
    wrong = v[_SLOTS + 2]
    if wrong is not None:
        raise Drop("bad_attribute_value", f"attribute {wrong[0]} of {wrong[1]} octets")
    status = v[0]
    if status is None:
        raise Drop("no_status_type", "Acct-Status-Type is missing")
    number = int.from_bytes
    status = number(status, "big")
    delay = v[4]
    delay = None if delay is None else number(delay, "big")
    stamp = v[13]
    cause = v[10]
    classes = v[_SLOTS]
    avpairs = v[_SLOTS + 1]
    return (
        number(stamp, "big") * _US if stamp is not None else received_us - (delay or 0) * _US,
        _STATUS_NAMES.get(status) or str(status),
        _text(v[14]),
        _text(v[15]),
        None if v[1] is None else number(v[1], "big"),
        _text(v[16]),
        None if v[3] is None else number(v[3], "big"),
        _counter(v[5], v[11]),
        _counter(v[6], v[12]),
        None if v[7] is None else number(v[7], "big"),
        received_us,
        None if v[2] is None else number(v[2], "big"),
        None if v[8] is None else number(v[8], "big"),
        None if v[9] is None else number(v[9], "big"),
        delay,
        _text(v[17]),
        _text(v[18]),
        ",".join(c.hex() for c in classes) if classes else None,
        None if cause is None else _cause(number(cause, "big")),
        [value.decode("utf-8", "backslashreplace") for value in avpairs] if avpairs else None,
        _text(v[19]),
        _text(v[20]),
        source_ip,
        packet[1],
        packet[4:20],
    )


def decode_accounting(packet: bytes, source_ip: int, received_us: int) -> Row:
    """The row of an Accounting-Request: `read_accounting` then `accounting_row`
    (Drop if it is not one, or has values a row cannot hold)."""
    return accounting_row(read_accounting(packet), source_ip, received_us)


def records_table(rows: Sequence[Row]) -> pa.Table:
    """The rows as an Arrow table of the RADIUS schema, built a column at a time."""
    if not rows:
        return RADIUS.empty_table()
    columns = zip(*rows, strict=True)
    arrays = [pa.array(col, type=f.type) for col, f in zip(columns, RADIUS, strict=True)]
    return pa.Table.from_arrays(arrays, schema=RADIUS)


def warm_up() -> None:
    """Have pyarrow load now what it loads on first use of a time zone (pandas, a second
    or more), rather than while the first batch waits for it."""
    pa.array([0], type=RADIUS.field("event_time").type)


def ip_to_int(address: str) -> int:
    """A dotted IPv4 address as the unsigned integer the lake stores."""
    return int.from_bytes(socket.inet_aton(address), "big")


def _cause(number: int) -> str:
    return _CAUSE_NAMES.get(number) or str(number)


def _text(value: bytes | None) -> str | None:
    """A string attribute as text; octets that are not UTF-8 are kept as backslash escapes."""
    return None if value is None else value.decode("utf-8", "backslashreplace")


def _counter(octets: bytes | None, gigawords: bytes | None) -> int | None:
    """A 64-bit counter: the low 32 bits and the Gigawords (RFC 2869 section 5.1) above."""
    if octets is None:
        return None if gigawords is None else int.from_bytes(gigawords, "big") << 32
    if gigawords is None:
        return int.from_bytes(octets, "big")
    return int.from_bytes(gigawords + octets, "big")
