"""NetFlow collection on loopback: the same export replayed into `jet netflow serve` and
into nfcapd (Debian nfdump), one after the other in this run.

    python bench/bench_netflow.py [--flows 3000000] [--rate 300000] [--version 9]

The export: `--flows` generated flows (IPv4, 1,000 customers, 50,000 servers), encoded
once by `ingest.netflow.export` as NetFlow v9 (softflowd's layout: uptime-dated,
template every 20 packets) or `--version 5`/`10`, 1,400-byte datagrams from one
exporter. A sender process replays the datagrams at `--rate` flows per second (paced in
bursts of 1 ms) to the collector under test, which runs in its own process.

Figures, for each collector:
- ``flows_per_s``: flows it kept (Jet: landed in the lake; nfcapd: in its files, counted
  by nfdump) over the time from the first datagram sent to the collector having written
  them all (Jet: the last batch landed; nfcapd: its file closed on SIGTERM);
- ``flows_per_cpu_s``: flows kept per CPU-second the collector used (user + system:
  Jet's own count while serving, which leaves out Python's start-up; nfcapd's from the
  kernel's rusage of the child): the per-core rate;
- ``lost``: flows sent minus flows kept (Jet also reports the kernel's drops on its
  socket).
The primary figure is Jet's per-core rate; the baseline is nfcapd's. On 2 cores the
sender takes one, so each collector gets about one core.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import report  # noqa: E402
from ingest.netflow.decode import Flows  # noqa: E402
from ingest.netflow.export import encode_ipfix, encode_v5, encode_v9  # noqa: E402
from jet.ports import free_udp_port  # noqa: E402

NOW_MS = 1_790_000_000_000


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def generate(n: int, rng: np.random.Generator) -> Flows:
    customers = 0x64400000 + rng.integers(0, 1000, n)  # 100.64.0.0/22
    servers = 0xCB007100 + rng.integers(0, 50_000, n)
    download = rng.random(n) < 0.7
    first = NOW_MS - rng.integers(1_000, 300_000, n)

    def mapped(v4: np.ndarray) -> np.ndarray:
        out = np.zeros((n, 16), np.uint8)
        out[:, 10:12] = 0xFF
        out[:, 12:] = v4.astype(">u4").view(np.uint8).reshape(n, 4)
        return out

    return Flows(
        first_ms=first,
        last_ms=first + rng.integers(0, 60_000, n),
        src_addr=mapped(np.where(download, servers, customers)),
        dst_addr=mapped(np.where(download, customers, servers)),
        src_port=rng.integers(1, 65536, n).astype(np.uint16),
        dst_port=rng.choice([443, 80, 53], n).astype(np.uint16),
        protocol=rng.choice([6, 17], n).astype(np.uint8),
        packets=rng.integers(1, 5_000, n).astype(np.uint64),
        bytes=rng.integers(40, 5_000_000, n).astype(np.uint64),
        sampling_interval=np.ones(n, np.uint32),
        exporter=np.zeros(n, np.int32),
    )


def encode(flows: Flows, version: int) -> list[bytes]:
    boot = NOW_MS - 3_600_000
    if version == 5:
        return encode_v5(flows, boot_ms=boot, export_ms=NOW_MS)
    if version == 9:
        return encode_v9(flows, boot_ms=boot, export_ms=NOW_MS)
    return encode_ipfix(flows, export_ms=NOW_MS)


def send(packets: list[bytes], flows_per_packet: float, rate: float, port: int, began) -> None:
    """Replay `packets` to 127.0.0.1:port at `rate` flows/s; runs in its own process."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.connect(("127.0.0.1", port))
    per_ms = max(1, round(rate / flows_per_packet / 1000))
    start = time.perf_counter()
    began.value = time.time()
    for i in range(0, len(packets), per_ms):
        for packet in packets[i : i + per_ms]:
            sock.send(packet)
        ahead = start + (i + per_ms) / per_ms / 1000 - time.perf_counter()
        if ahead > 0:
            time.sleep(ahead)
    sock.close()


def replay(packets, flows, rate, port) -> float:
    """Send in a child process; return the wall-clock time the first datagram went out."""
    began = mp.Value("d", 0.0)
    sender = mp.Process(target=send, args=(packets, flows / len(packets), rate, port, began))
    sender.start()
    sender.join()
    return began.value


def wait4(process: subprocess.Popen) -> float:
    """Reap the child; its user + system CPU seconds."""
    _, _, usage = os.wait4(process.pid, 0)
    process.returncode = 0
    return usage.ru_utime + usage.ru_stime


def run_jet(packets, n, rate, home: Path) -> dict:
    port = free_udp_port()
    env = {**os.environ, "JET_HOME": str(home)}
    jet = subprocess.Popen(
        [sys.executable, "-m", "jet.cli", "netflow", "serve", "--host", "127.0.0.1",
         "--port", str(port)],
        env=env, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    for line in jet.stderr:
        if "listening" in line:
            break
    began = replay(packets, n, rate, port)
    raw = home / "lake" / "raw" / "netflow"
    landed, idle_since = 0, time.monotonic()
    while time.monotonic() - idle_since < 3.0:  # until nothing more lands for 3 s
        now = sum(json.loads(m.read_text())["rows"] for m in raw.glob("_manifests/*.json"))
        if now != landed:
            landed, idle_since, last_landed = now, time.monotonic(), time.time()
        time.sleep(0.05)
    jet.send_signal(signal.SIGTERM)
    stats = jet.stderr.read()
    wait4(jet)
    files = list(raw.glob("date=*/*.parquet"))
    kept = sum(pq.read_metadata(f).num_rows for f in files)
    drops = re.findall(r"kernel_drops=(\d+)", stats)
    return {
        "kept": kept,
        "seconds": last_landed - began,
        "cpu_seconds": float(re.findall(r"cpu_seconds=([\d.]+)", stats)[-1]),
        "kernel_drops": int(drops[-1]) if drops else None,
        "stats": stats.strip().splitlines()[-1],
    }


def run_nfcapd(packets, n, rate, home: Path) -> dict:
    port = free_udp_port()
    out = home / "nfcapd"
    out.mkdir(parents=True)
    nfcapd = subprocess.Popen(
        ["nfcapd", "-b", "127.0.0.1", "-p", str(port), "-w", str(out), "-t", "3600",
         "-B", str(32 * 2**20)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    for line in nfcapd.stdout:
        if "Startup" in line:
            break
    began = replay(packets, n, rate, port)
    time.sleep(1.0)  # let it drain its socket
    nfcapd.send_signal(signal.SIGTERM)
    stats = nfcapd.stdout.read()
    cpu = wait4(nfcapd)
    ended = time.time()
    summary = subprocess.run(
        ["nfdump", "-R", str(out), "-q", "-N", "-I"], capture_output=True, text=True, check=True
    ).stdout
    kept = int(re.search(r"^Flows:\s*(\d+)", summary, re.M).group(1))
    return {
        "kept": kept,
        "seconds": ended - 1.0 - began,
        "cpu_seconds": cpu,
        "stats": stats.strip()[-200:],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--flows", type=int, default=3_000_000)
    parser.add_argument("--rate", type=float, default=300_000, help="offered flows per second")
    parser.add_argument("--version", type=int, choices=(5, 9, 10), default=9)
    args = parser.parse_args()
    if not shutil.which("nfcapd"):
        sys.exit("bench_netflow needs nfcapd and nfdump: apt-get install nfdump")
    began = time.perf_counter()
    flows = generate(args.flows, np.random.default_rng(2055))
    packets = encode(flows, args.version)
    log(f"set-up: {args.flows:,} flows as {len(packets):,} v{args.version} datagrams "
        f"in {time.perf_counter() - began:.1f} s")  # fmt: skip
    results = {}
    with tempfile.TemporaryDirectory(prefix="jet-bench-netflow-") as tmp:
        for name, run in (("jet", run_jet), ("nfcapd", run_nfcapd)):
            r = run(packets, args.flows, args.rate, Path(tmp) / name)
            r["lost"] = args.flows - r["kept"]
            r["flows_per_s"] = round(r["kept"] / r["seconds"])
            r["flows_per_cpu_s"] = round(r["kept"] / r["cpu_seconds"])
            results[name] = r
            log(
                f"{name}: kept {r['kept']:,} of {args.flows:,} (lost {r['lost']:,}) in "
                f"{r['seconds']:.2f} s = {r['flows_per_s']:,} flows/s; {r['cpu_seconds']:.2f} "
                f"CPU s = {r['flows_per_cpu_s']:,} flows per CPU-second"
            )
    jet, nf = results["jet"], results["nfcapd"]
    report(
        "netflow",
        f"{args.flows:,} NetFlow v{args.version} flows offered at {args.rate:,.0f}/s on loopback",
        jet["cpu_seconds"],
        "nfcapd",
        nf["cpu_seconds"],
        jet_flows_per_s=jet["flows_per_s"],
        jet_flows_per_cpu_s=jet["flows_per_cpu_s"],
        jet_lost=jet["lost"],
        jet_kernel_drops=jet["kernel_drops"],
        nfcapd_flows_per_s=nf["flows_per_s"],
        nfcapd_flows_per_cpu_s=nf["flows_per_cpu_s"],
        nfcapd_lost=nf["lost"],
        per_core_ratio_to_nfcapd=round(jet["flows_per_cpu_s"] / nf["flows_per_cpu_s"], 2),
    )


if __name__ == "__main__":
    main()
