"""`jet netflow serve` against real exporters and a real collector: softflowd turns a pcap
the test writes into NetFlow v5, v9 and IPFIX; nfcapd receives the export and repeats
every datagram to Jet (`-R`), so both decode the very same packets; Jet's landed bytes
and packets per source and destination address must equal what nfdump reads."""

from __future__ import annotations

import ipaddress
import os
import random
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import duckdb
import pytest

from jet.ports import free_udp_port
from tests.peers.pcap import Packet, write_pcap
from tests.peers.processes import running, stop

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not all(shutil.which(tool) for tool in ("softflowd", "nfcapd", "nfdump")),
        reason="needs softflowd and nfdump (Debian packages softflowd, nfdump)",
    ),
]
START = 1_790_000_000.0  # 2026-09-21 14:13:20 UTC


@pytest.fixture(scope="module")
def pcap(tmp_path_factory) -> Path:
    """3,000 packets between customers and servers, IPv4 and a tenth IPv6, TCP and UDP."""
    rng = random.Random(2055)
    packets = []
    for i in range(3000):
        if rng.random() < 0.1:
            near, far = f"2001:db8:64::{rng.randint(1, 9):x}", f"2001:db8:ff::{rng.randint(1, 5):x}"
        else:
            near, far = (
                f"100.64.{rng.randint(1, 3)}.{rng.randint(1, 20)}",
                f"203.0.113.{rng.randint(1, 40)}",
            )
        src, dst = (near, far) if rng.random() < 0.4 else (far, near)
        packets.append(
            Packet(START + i * 0.04, src, dst, rng.choice([443, 80, 53]),
                   rng.choice([40000, 40001, 40002]), rng.choice([6, 17]), rng.randint(80, 1500))
        )  # fmt: skip
    path = tmp_path_factory.mktemp("pcap") / "traffic.pcap"
    write_pcap(path, packets)
    return path


def export(pcap: Path, version: str, home: Path) -> tuple[Counter, Counter, str]:
    """softflowd -> nfcapd -> (repeated) Jet; totals per (src, dst) from nfdump and Jet."""
    jet_port, nf_port = free_udp_port(), free_udp_port()
    env = {**os.environ, "JET_HOME": str(home)}
    log_file = home / "netflow.log"
    flows_dir = home / "nfcapd"
    flows_dir.mkdir(parents=True)
    with running(
        [sys.executable, "-m", "jet.cli", "netflow", "serve", "--host", "127.0.0.1",
         "--port", str(jet_port), "--batch-seconds", "0.2"],
        env=env, stderr=log_file.open("w"),
    ) as jet:  # fmt: skip
        with running(
            ["nfcapd", "-b", "127.0.0.1", "-p", str(nf_port), "-w", str(flows_dir),
             "-t", "3600", "-R", f"127.0.0.1/{jet_port}"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        ) as nfcapd:  # fmt: skip
            wait_for_log(jet, log_file, "listening")
            wait_for_line(nfcapd, nfcapd.stdout, "Startup")
            ipv6 = ["-6"] if version != "5" else []
            subprocess.run(
                ["softflowd", "-r", str(pcap), "-n", f"127.0.0.1:{nf_port}", "-v", version,
                 "-d", "-a", *ipv6],
                check=True, capture_output=True, timeout=60,
            )  # fmt: skip
            time.sleep(0.5)
            stop(nfcapd)
        time.sleep(0.2)
        code = stop(jet)
    log = log_file.read_text()
    assert code == 0, log
    listed = subprocess.run(
        ["nfdump", "-R", str(flows_dir), "-q", "-N", "-A", "srcip,dstip",
         "-o", "fmt:%sa,%da,%pkt,%byt"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    nf_bytes, nf_packets = Counter(), Counter()
    for line in listed.splitlines():
        src, dst, packets, octets = (field.strip() for field in line.split(","))
        key = (ipaddress.ip_address(src), ipaddress.ip_address(dst))
        nf_bytes[key] += int(octets)
        nf_packets[key] += int(packets)
    jet_bytes, jet_packets = Counter(), Counter()
    rows = duckdb.sql(
        f"select src_addr, dst_addr, sum(bytes), sum(packets) "
        f"from read_parquet('{home}/lake/raw/netflow/date=*/*.parquet') group by all"
    ).fetchall()
    for src, dst, octets, packets in rows:
        key = (address(src), address(dst))
        jet_bytes[key] += int(octets)
        jet_packets[key] += int(packets)
    return (nf_bytes, nf_packets), (jet_bytes, jet_packets), log


def address(raw: bytes) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    v6 = ipaddress.IPv6Address(raw)
    return v6.ipv4_mapped or v6


def wait_for_log(process: subprocess.Popen, log: Path, text: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while text not in log.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"no {text!r} from {process.args[:3]}:\n{log.read_text()}")
        time.sleep(0.05)


def wait_for_line(process: subprocess.Popen, stream, text: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = stream.readline()
        if text in line:
            return
        if not line and process.poll() is not None:
            raise AssertionError(f"{process.args[:3]} exited with {process.returncode}")
    raise AssertionError(f"no {text!r} from {process.args[:3]} in {timeout} s")


@pytest.mark.parametrize("version", ["5", "9", "10"])
def test_jet_totals_per_address_pair_equal_nfdumps(pcap, tmp_path, version):
    (nf_bytes, nf_packets), (jet_bytes, jet_packets), log = export(pcap, version, tmp_path)
    assert sum(nf_packets.values()) > 2500  # of 3,000 (v5 carries no IPv6)
    assert jet_bytes == nf_bytes
    assert jet_packets == nf_packets
    if version != "5":
        assert any(key[0].version == 6 for key in jet_bytes), "no IPv6 flow was exported"
    assert "dropped=0" in log and "sequence_lost=0" in log, log
