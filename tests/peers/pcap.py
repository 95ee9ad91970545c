"""Packet captures written by the tests, for softflowd to turn into flows.

Ethernet/IPv4 or IPv6 frames with TCP or UDP headers and zero payload bytes beyond what
the length fields claim (softflowd counts the IP total length, as a router would).
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass
from pathlib import Path

_GLOBAL = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)  # microseconds, Ethernet


@dataclass(frozen=True)
class Packet:
    ts: float  # seconds since the epoch
    src: str
    dst: str
    sport: int
    dport: int
    proto: int  # 6 TCP, 17 UDP
    size: int  # IP total length (IPv4) or header + payload length (IPv6)


def write_pcap(path: Path, packets: list[Packet]) -> None:
    with open(path, "wb") as f:
        f.write(_GLOBAL)
        for p in packets:
            frame = _frame(p)
            secs, micros = int(p.ts), round((p.ts - int(p.ts)) * 1_000_000)
            f.write(struct.pack("<IIII", secs, micros, len(frame), len(frame)))
            f.write(frame)


def _frame(p: Packet) -> bytes:
    src, dst = ipaddress.ip_address(p.src), ipaddress.ip_address(p.dst)
    l4 = (
        struct.pack("!HHIIBBHHH", p.sport, p.dport, 1, 0, 5 << 4, 0x18, 65535, 0, 0)
        if p.proto == 6
        else struct.pack("!HHHH", p.sport, p.dport, 8, 0)
    )
    if src.version == 4:
        payload = bytes(p.size - 20 - len(l4))
        ip = struct.pack(
            "!BBHHHBBH4s4s", 0x45, 0, p.size, 0, 0, 64, p.proto, 0, src.packed, dst.packed
        )
        ethertype = 0x0800
    else:
        payload = bytes(p.size - 40 - len(l4))
        ip = struct.pack("!IHBB16s16s", 6 << 28, p.size - 40, p.proto, 64, src.packed, dst.packed)
        ethertype = 0x86DD
    return (
        b"\x02\0\0\0\0\x01" + b"\x02\0\0\0\0\x02" + struct.pack("!H", ethertype) + ip + l4 + payload
    )
