"""Free ports, for servers started on loopback by the demo, the tests and the benchmarks."""

from __future__ import annotations

import socket


def free_udp_port(host: str = "127.0.0.1") -> int:
    """A UDP port on `host` (an IPv4 address) that nothing listens on right now."""
    return _free_port(socket.SOCK_DGRAM, host)


def free_tcp_port(host: str = "127.0.0.1") -> int:
    """A TCP port on `host` (an IPv4 address) that nothing listens on right now."""
    return _free_port(socket.SOCK_STREAM, host)


def _free_port(kind: socket.SocketKind, host: str) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind((host, 0))
        return s.getsockname()[1]
