"""Accounting-Requests decoded into rows of the landed RADIUS schema (`schemas.raw.RADIUS`).

pyrad splits the packet into attributes and decodes their values by Jet's dictionary;
this module picks what billing and support need, as received: 64-bit counters with the
Gigawords folded in, IPv4 as integers, the Class as hex, Cisco AV-pairs as a list.
"""

from __future__ import annotations

import socket
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
from pyrad import tools
from pyrad.dictionary import Attribute, Dictionary
from pyrad.packet import Packet, PacketError

from ingest.radius.packets import Drop
from schemas.raw import RADIUS

DICTIONARY = Dictionary(str(Path(__file__).with_name("dictionary")))
_US = 1_000_000

Row = tuple[Any, ...]  # the values of one record, in `RADIUS` column order

# The attributes a row is made of, by their key in a pyrad packet (code, or (vendor, code)).
_READ = {
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


def decode_accounting(packet: bytes, source_ip: int, received_us: int) -> Row:
    """The row of a framed and verified Accounting-Request (see `ingest.radius.packets`).

    `received_us` is the receipt time in microseconds since the epoch: the event time is
    the Event-Timestamp if the NAS sent one, else the receipt time less Acct-Delay-Time.
    Raises Drop for a request without Acct-Status-Type (RFC 2866 section 5.1 requires
    it) or with a value its attribute's type cannot hold (an integer of 3 octets);
    attributes the row does not keep are not decoded, so they cannot refuse it.
    """
    try:
        found = _attributes(packet)
    except (PacketError, ValueError) as err:  # pyrad's words for a value of the wrong size
        raise Drop("bad_attribute_value", str(err)) from None
    first = {name: values[0] for name, values in found.items()}
    status = first.get("Acct-Status-Type")
    if status is None:
        raise Drop("no_status_type", "Acct-Status-Type is missing")
    delay = first.get("Acct-Delay-Time")
    stamp = first.get("Event-Timestamp")
    classes = found.get("Class")
    cause = first.get("Acct-Terminate-Cause")
    avpairs = found.get("Cisco-AVPair")
    return (
        stamp * _US if stamp is not None else received_us - (delay or 0) * _US,
        str(status),
        _text(first.get("User-Name")),
        _text(first.get("Acct-Session-Id")),
        _ip(first.get("NAS-IP-Address")),
        _text(first.get("NAS-Identifier")),
        _ip(first.get("Framed-IP-Address")),
        _counter(first.get("Acct-Input-Octets"), first.get("Acct-Input-Gigawords")),
        _counter(first.get("Acct-Output-Octets"), first.get("Acct-Output-Gigawords")),
        first.get("Acct-Session-Time"),
        received_us,
        first.get("NAS-Port"),
        first.get("Acct-Input-Packets"),
        first.get("Acct-Output-Packets"),
        delay,
        _text(first.get("Called-Station-Id")),
        _text(first.get("Calling-Station-Id")),
        ",".join(c.hex() for c in classes) if classes else None,
        None if cause is None else str(cause),
        [_text(v) for v in avpairs] if avpairs else None,
        _text(first.get("ssg-account-info")),
        _text(first.get("ssg-service-info")),
        source_ip,
        packet[1],
        packet[4:20],
    )


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


def _attributes(packet: bytes) -> dict[str, list[Any]]:
    """The values of the attributes in `_READ`, by name: pyrad splits the packet (vendor
    attributes too), then each value is decoded by its type, named values by name. One
    pass over the packet, rather than a lookup per name."""
    found: dict[str, list[Any]] = {}
    for key, raw_values in OrderedDict.items(Packet(dict=DICTIONARY, packet=packet)):
        attribute = _READ.get(key)
        if attribute is not None:
            found[attribute.name] = [_value(attribute, raw) for raw in raw_values]
    return found


def _value(attribute: Attribute, raw: bytes) -> Any:
    named = attribute.values
    return (
        named.GetBackward(raw) if named.HasBackward(raw) else tools.DecodeAttr(attribute.type, raw)
    )


def _text(value: str | bytes | None) -> str | None:
    """A string attribute as text; octets that are not UTF-8 are kept as backslash escapes."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    return value


def _ip(value: str | None) -> int | None:
    return None if value is None else ip_to_int(value)


def _counter(octets: int | None, gigawords: int | None) -> int | None:
    """A 64-bit counter: the low 32 bits and the Gigawords (RFC 2869 section 5.1) above."""
    if octets is None and gigawords is None:
        return None
    return ((gigawords or 0) << 32) | (octets or 0)
