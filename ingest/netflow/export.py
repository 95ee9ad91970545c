"""Flows encoded as NetFlow v5, v9 or IPFIX export packets, as a router would send them.

Jet's demo and benchmark replay generated flows through the collector on loopback, and
the tests build packets with it. Encoding is vectorised like decoding: records of a
packet are one structured numpy array written out with ``tobytes``. v9 and IPFIX send
their template in the first packet and again every `template_every` packets; v9 dates
flows in uptime (as softflowd does), IPFIX in absolute milliseconds.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

import numpy as np

from ingest.netflow.decode import (
    DST_PORT,
    DST_V4,
    DST_V6,
    END_MS,
    END_UPTIME,
    IPFIX_HEADER,
    OCTETS,
    PACKETS,
    PROTOCOL,
    SRC_PORT,
    SRC_V4,
    SRC_V6,
    START_MS,
    START_UPTIME,
    V5_HEADER,
    V9_HEADER,
    Flows,
)  # fmt: skip

MTU_PAYLOAD = 1400  # bytes of records and headers per datagram
_WRAP = 1 << 32

_V5_RECORD = np.dtype(
    [
        ("src", ">u4"), ("dst", ">u4"), ("nexthop", ">u4"), ("input", ">u2"), ("output", ">u2"),
        ("packets", ">u4"), ("octets", ">u4"), ("first", ">u4"), ("last", ">u4"),
        ("src_port", ">u2"), ("dst_port", ">u2"), ("pad1", "u1"), ("tcp_flags", "u1"),
        ("protocol", "u1"), ("tos", "u1"), ("pad2", "V8"),
    ]
)  # fmt: skip
_V9_FIELDS = [
    (SRC_V4, ">u4"), (DST_V4, ">u4"), (OCTETS, ">u8"), (PACKETS, ">u8"),
    (START_UPTIME, ">u4"), (END_UPTIME, ">u4"), (SRC_PORT, ">u2"), (DST_PORT, ">u2"),
    (PROTOCOL, "u1"),
]  # fmt: skip
_IPFIX_FIELDS = {
    4: [
        (SRC_V4, ">u4"), (DST_V4, ">u4"), (OCTETS, ">u8"), (PACKETS, ">u8"),
        (START_MS, ">u8"), (END_MS, ">u8"), (SRC_PORT, ">u2"), (DST_PORT, ">u2"),
        (PROTOCOL, "u1"),
    ],
    6: [
        (SRC_V6, "V16"), (DST_V6, "V16"), (OCTETS, ">u8"), (PACKETS, ">u8"),
        (START_MS, ">u8"), (END_MS, ">u8"), (SRC_PORT, ">u2"), (DST_PORT, ">u2"),
        (PROTOCOL, "u1"),
    ],
}  # fmt: skip
_V4_MAPPED = np.frombuffer(b"\0" * 10 + b"\xff\xff", dtype=np.uint8)


def is_v4(addresses: np.ndarray) -> np.ndarray:
    """Rows of (n, 16) addresses that are IPv4-mapped."""
    return (addresses[:, :12] == _V4_MAPPED).all(axis=1)


def _v4(addresses: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(addresses[:, 12:]).view(">u4").ravel()


def _chunks(n: int, per_packet: int) -> Iterator[slice]:
    for start in range(0, n, per_packet):
        yield slice(start, min(start + per_packet, n))


def encode_v5(flows: Flows, *, boot_ms: int, export_ms: int, sequence: int = 0) -> list[bytes]:
    """IPv4 flows as v5 packets of up to 30 records; `sequence` counts flows sent before."""
    if not is_v4(flows.src_addr).all() or not is_v4(flows.dst_addr).all():
        raise ValueError("NetFlow v5 carries IPv4 flows only")
    uptime = (export_ms - boot_ms) % _WRAP  # a router's uptime counter wraps at 2^32 ms
    packets = []
    for part in _chunks(len(flows), 30):
        count = part.stop - part.start
        r = np.zeros(count, dtype=_V5_RECORD)
        r["src"], r["dst"] = _v4(flows.src_addr[part]), _v4(flows.dst_addr[part])
        r["packets"], r["octets"] = flows.packets[part], flows.bytes[part]
        r["first"] = (flows.first_ms[part] - boot_ms) % _WRAP
        r["last"] = (flows.last_ms[part] - boot_ms) % _WRAP
        r["src_port"], r["dst_port"] = flows.src_port[part], flows.dst_port[part]
        r["protocol"] = flows.protocol[part]
        header = V5_HEADER.pack(
            5, count, uptime, export_ms // 1000, export_ms % 1000 * 1_000_000, sequence, 0, 0, 0
        )
        packets.append(header + r.tobytes())
        sequence += count
    return packets


def _records(fields, flows: Flows, part: slice, times) -> bytes:
    dtype = np.dtype([(f"e{e}", f) for e, f in fields])
    r = np.zeros(part.stop - part.start, dtype=dtype)
    names = set(dtype.names)
    if f"e{SRC_V4}" in names:
        r[f"e{SRC_V4}"], r[f"e{DST_V4}"] = _v4(flows.src_addr[part]), _v4(flows.dst_addr[part])
    else:
        r[f"e{SRC_V6}"] = np.ascontiguousarray(flows.src_addr[part]).view("V16").ravel()
        r[f"e{DST_V6}"] = np.ascontiguousarray(flows.dst_addr[part]).view("V16").ravel()
    r[f"e{OCTETS}"], r[f"e{PACKETS}"] = flows.bytes[part], flows.packets[part]
    start, end = times
    r[f"e{start}"], r[f"e{end}"] = flows.first_ms[part], flows.last_ms[part]
    r[f"e{SRC_PORT}"], r[f"e{DST_PORT}"] = flows.src_port[part], flows.dst_port[part]
    r[f"e{PROTOCOL}"] = flows.protocol[part]
    return r.tobytes()


def _template_set(set_id: int, template_id: int, fields) -> bytes:
    body = struct.pack("!HH", template_id, len(fields)) + b"".join(
        struct.pack("!HH", e, np.dtype(f).itemsize) for e, f in fields
    )
    return struct.pack("!HH", set_id, 4 + len(body)) + body


def _data_set(template_id: int, records: bytes) -> bytes:
    padding = -len(records) % 4
    return struct.pack("!HH", template_id, 4 + len(records) + padding) + records + b"\0" * padding


def encode_ipfix(
    flows: Flows, *, export_ms: int, domain: int = 0, sequence: int = 0, template_every: int = 20
) -> list[bytes]:
    """Flows as IPFIX messages (IPv4 and IPv6 in templates 256 and 257)."""
    v4 = is_v4(flows.src_addr) & is_v4(flows.dst_addr)
    messages, sent = [], 0
    for version, rows in ((4, np.flatnonzero(v4)), (6, np.flatnonzero(~v4))):
        if not len(rows):
            continue
        fields, template_id = _IPFIX_FIELDS[version], 256 if version == 4 else 257
        template = _template_set(2, template_id, fields)
        itemsize = sum(np.dtype(f).itemsize for _, f in fields)
        per_packet = (MTU_PAYLOAD - IPFIX_HEADER.size - len(template) - 4) // itemsize
        subset = flows.take(rows)
        for part in _chunks(len(rows), per_packet):
            body = b""
            if sent % template_every == 0:
                body += template
            body += _data_set(template_id, _records(fields, subset, part, (START_MS, END_MS)))
            length = IPFIX_HEADER.size + len(body)
            header = IPFIX_HEADER.pack(10, length, export_ms // 1000, sequence, domain)
            messages.append(header + body)
            sequence += part.stop - part.start
            sent += 1
    return messages


def encode_v9(
    flows: Flows, *, boot_ms: int, export_ms: int, source_id: int = 0, sequence: int = 0,
    template_every: int = 20,
) -> list[bytes]:  # fmt: skip
    """IPv4 flows as v9 packets dated in uptime; `sequence` counts packets sent before."""
    if not is_v4(flows.src_addr).all() or not is_v4(flows.dst_addr).all():
        raise ValueError("Jet's v9 encoder writes IPv4 flows only (IPFIX carries IPv6)")
    template = _template_set(0, 256, _V9_FIELDS)
    itemsize = sum(np.dtype(f).itemsize for _, f in _V9_FIELDS)
    per_packet = (MTU_PAYLOAD - V9_HEADER.size - len(template) - 4) // itemsize
    shifted = flows.take(np.arange(len(flows)))
    shifted.first_ms = (flows.first_ms - boot_ms) % _WRAP
    shifted.last_ms = (flows.last_ms - boot_ms) % _WRAP
    packets = []
    for n, part in enumerate(_chunks(len(flows), per_packet)):
        sets = [template] if n % template_every == 0 else []
        sets.append(_data_set(256, _records(_V9_FIELDS, shifted, part, (START_UPTIME, END_UPTIME))))
        uptime = (export_ms - boot_ms) % _WRAP
        header = V9_HEADER.pack(
            9, part.stop - part.start, uptime, export_ms // 1000, sequence, source_id
        )
        packets.append(header + b"".join(sets))
        sequence += 1
    return packets
