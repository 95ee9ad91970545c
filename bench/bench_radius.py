"""Durable RADIUS accounting under load: `jet radius serve` against FreeRADIUS.

The same N distinct Accounting-Requests (Start, Interim-Update, Stop; see
`ingest.radius.load`) go to FreeRADIUS 3 in Debian's default configuration, which writes
each to its `detail` file before answering, then to Jet, which answers once the batch
holding the request is landed and fsynced. A load generator in this process keeps
`--in-flight` requests outstanding and resends unanswered ones (after 1, 2 and 4 s).
Figures: answered requests per second over the run, p50/p99 latency from first send to
answer, requests never answered; then the records each server kept: the rows in Jet's
lake (and that every answered request is among them, once) and the records in
FreeRADIUS's detail file.

Needs the Debian package `freeradius`; runs it from a copy of /etc/freeradius/3.0 in a
temporary directory with only what a side-by-side run needs changed (listen ports,
log and accounting directories, one client for 127.0.0.1): `FreeRadius.debian` of
`tests/peers/freeradius.py`, which the tests start FreeRADIUS with too.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import timeit
from collections import Counter
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import report  # noqa: E402
from ingest.radius.load import LoadResult, accounting_requests, request_key, run_load  # noqa: E402
from jet.ports import free_udp_port  # noqa: E402
from tests.peers.freeradius import FreeRadius, available, detail_records  # noqa: E402

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SECRET = b"bench-acct-secret"
CATALOG = PROJECT_ROOT / "examples" / "catalogs" / "acme.yaml"
_TICKS = os.sysconf("SC_CLK_TCK")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time so far of a running process and its running children
    (Jet's landing process)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    total = (int(fields[11]) + int(fields[12])) / _TICKS
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            total += cpu_seconds(int(child))
    return total


def load_server(proc, name: str, port: int, attributes, in_flight: int):
    """Send the whole load to a ready server; return the client's result and the
    server's CPU seconds spent on it."""
    log(f"{name} ready on 127.0.0.1:{port}; sending {len(attributes):,} requests")
    cpu = cpu_seconds(proc.pid)
    result = run_load(attributes, SECRET, ("127.0.0.1", port), in_flight=in_flight)
    return result, cpu_seconds(proc.pid) - cpu


def stop(proc, timeout: float) -> None:
    """SIGTERM (a clean shutdown lands what is pending), SIGKILL if it hangs."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def wait_for_log(proc: subprocess.Popen, log_file: Path, pattern: str, what: str) -> re.Match:
    deadline = time.monotonic() + 60
    while True:
        text = log_file.read_text() if log_file.exists() else ""
        found = re.search(pattern, text)
        if found:
            return found
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            sys.exit(f"{what} did not start; its log ({log_file}):\n{text}")
        time.sleep(0.05)


# --- FreeRADIUS ----------------------------------------------------------------------------


def detail_keys(logdir: Path) -> tuple[int, Counter]:
    """The records in FreeRADIUS's detail files, and how often each request key occurs."""
    records, keys = 0, Counter()
    for path in sorted((logdir / "radacct").glob("*/detail-*")):
        for values in detail_records(path):
            records += 1
            seconds = values.get("Acct-Session-Time")
            keys[
                (
                    values.get("Acct-Session-Id"),
                    values.get("Acct-Status-Type"),
                    int(seconds) if seconds else None,
                )
            ] += 1
    return records, keys


def bench_freeradius(root: Path, attributes: list[bytes], in_flight: int) -> dict:
    port = free_udp_port()
    with FreeRadius.debian(root, {"127.0.0.1": SECRET.decode()}, {"acct": port}) as server:
        result, cpu = load_server(server.proc, "FreeRADIUS", port, attributes, in_flight)
    records, keys = detail_keys(server.logdir)
    expected = Counter(request_key(a) for a in attributes)
    return {
        "result": result,
        "cpu_s": cpu,
        "records": records,
        "twice": sum(n - 1 for n in keys.values() if n > 1),
        "unknown": sum(1 for k in keys if k not in expected),
        "missing": sum(1 for k in expected if k not in keys),
    }


# --- Jet -----------------------------------------------------------------------------------


def jet_home(home: Path) -> None:
    """The realm acme and the NAS client 127.0.0.1, as `jet catalog load` and `jet nas
    add` store them."""
    from jet.catalog import load_catalog_file
    from jet.config import Settings
    from jet.nas import add_nas_client
    from jet.realms import store_catalog
    from jet.store.db import session

    settings = Settings(home=home, database_url=None)
    with session(settings.db_url) as s:
        store_catalog(s, load_catalog_file(CATALOG), str(CATALOG))
        add_nas_client(s, "127.0.0.1", SECRET.decode(), "acme", "bench")


def bench_jet(
    root: Path, attributes: list[bytes], in_flight: int, batch_rows: int, batch_ms: float
) -> dict:
    home = root / "jet"
    jet_home(home)
    log_file = home / "radius.log"
    env = {**os.environ, "JET_HOME": str(home)}
    env.pop("JET_DATABASE_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "jet.cli", "radius", "serve", "--host", "127.0.0.1"]
        + ["--acct-port", "0", "--batch-rows", str(batch_rows), "--batch-ms", str(batch_ms)],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=log_file.open("w"),
    )
    try:
        port = int(wait_for_log(proc, log_file, r"listening on 127\.0\.0\.1:(\d+)", "jet").group(1))
        result, cpu = load_server(proc, "Jet", port, attributes, in_flight)
    finally:
        stop(proc, timeout=60)
    stopped = re.findall(r"stopped: (.*)", log_file.read_text())
    counters = dict(pair.split("=") for pair in stopped[-1].split()) if stopped else {}
    glob = home / "lake" / "raw" / "radius" / "date=*" / "*.parquet"
    rows = duckdb.connect().execute(f"select authenticator from read_parquet('{glob}')")
    landed = Counter(bytes(auth) for (auth,) in rows.fetchall())
    return {
        "result": result,
        "cpu_s": cpu,
        "landed": sum(landed.values()),
        "twice": sum(n - 1 for n in landed.values() if n > 1),
        "answered_not_landed": len(result.answered_authenticators - landed.keys()),
        "batches": int(counters.get("batches", 0)),
        "counters": counters,
    }


# --- decoding --------------------------------------------------------------------------------


def time_decoding(attributes: list[bytes]) -> None:
    """Microseconds per request of turning the load's requests into rows with Jet's
    decoder (`read_accounting` + `accounting_row`), and of reading the same attributes
    with pyrad (what Jet did before: parse the packet, decode each value)."""
    from pyrad.packet import AcctPacket

    from ingest.radius.accounting import DICTIONARY, accounting_row, read_accounting

    header = bytes((4, 1))
    packets = [header + (20 + len(a)).to_bytes(2, "big") + bytes(16) + a for a in attributes]
    names = [
        "User-Name", "Acct-Session-Id", "Acct-Status-Type", "NAS-IP-Address", "NAS-Identifier",
        "NAS-Port", "Framed-IP-Address", "Called-Station-Id", "Calling-Station-Id",
        "Event-Timestamp", "Acct-Session-Time", "Acct-Input-Octets", "Acct-Input-Gigawords",
        "Acct-Output-Octets", "Acct-Output-Gigawords", "Acct-Input-Packets",
        "Acct-Output-Packets", "Acct-Terminate-Cause",
    ]  # fmt: skip

    def jet(packet: bytes) -> object:
        return accounting_row(read_accounting(packet), 1, 0)

    def pyrad(packet: bytes) -> object:
        pkt = AcctPacket(dict=DICTIONARY, packet=packet)
        return [pkt[name] for name in names if name in pkt]

    for name, decode in (("Jet", jet), ("pyrad", pyrad)):
        best = min(
            timeit.timeit(lambda d=decode: [d(p) for p in packets], number=1) for _ in range(5)
        )
        log(f"{name}: {best / len(packets) * 1e6:.1f} us a request ({len(packets):,} requests)")


# --- the run -------------------------------------------------------------------------------


def summary(name: str, result: LoadResult) -> str:
    return (
        f"{name}: {result.answered:,}/{result.requests:,} answered in {result.seconds:.2f} s "
        f"= {result.rps:,.0f}/s (first 99 %: {result.rps_99pct:,.0f}/s), "
        f"p50 {result.percentile_ms(50):.1f} ms, "
        f"p99 {result.percentile_ms(99):.1f} ms, lost {result.lost}, "
        f"resent {result.resends}, stray answers {result.stray_answers}, "
        f"{result.source_ports} source ports, load generator CPU {result.cpu_seconds:.1f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--requests", type=int, default=100_000, help="distinct requests (default 100,000)"
    )
    parser.add_argument(
        "--in-flight", type=int, default=512, help="requests outstanding at once (default 512)"
    )
    parser.add_argument("--batch-rows", type=int, default=2000, help="jet's --batch-rows")
    parser.add_argument("--batch-ms", type=float, default=0.0, help="jet's --batch-ms")
    parser.add_argument("--keep", action="store_true", help="keep the servers' files")
    parser.add_argument("--only", choices=["jet", "freeradius"], help="run one server only")
    parser.add_argument(
        "--decode",
        action="store_true",
        help="only time decoding the requests: Jet's decoder against pyrad's, per packet",
    )
    args = parser.parse_args()
    if args.decode:
        time_decoding(accounting_requests(min(args.requests, 20_000), SECRET))
        return
    if args.only != "jet" and not available():
        sys.exit(
            "bench_radius.py needs FreeRADIUS to compare with: install the Debian package "
            "`freeradius` (apt-get install -y freeradius), or pass --only jet"
        )

    began = time.perf_counter()
    attributes = accounting_requests(args.requests, SECRET)
    log(f"encoded {len(attributes):,} requests in {time.perf_counter() - began:.1f} s")
    load_before = os.getloadavg()[0]
    root = Path(tempfile.mkdtemp(prefix="bench-radius-"))
    fr = jet = None
    try:
        if args.only != "jet":
            (root / "freeradius").mkdir()
            fr = bench_freeradius(root / "freeradius", attributes, args.in_flight)
            log(summary("FreeRADIUS", fr["result"]))
            log(
                f"FreeRADIUS detail file: {fr['records']:,} records, {fr['twice']} twice, "
                f"{fr['missing']} requests missing; server CPU {fr['cpu_s']:.1f} s"
            )
        if args.only != "freeradius":
            jet = bench_jet(root, attributes, args.in_flight, args.batch_rows, args.batch_ms)
            log(summary("Jet", jet["result"]))
            log(
                f"Jet lake: {jet['landed']:,} rows in {jet['batches']} batches, "
                f"{jet['twice']} twice, {jet['answered_not_landed']} answered but not landed; "
                f"server CPU {jet['cpu_s']:.1f} s"
            )
    finally:
        if args.keep:
            log(f"kept the servers' files in {root}")
        else:
            shutil.rmtree(root)
    load_after = os.getloadavg()[0]

    def figures(prefix: str, run: dict | None) -> dict:
        if run is None:
            return {}
        r: LoadResult = run["result"]
        return {
            f"{prefix}_rps": round(r.rps),
            f"{prefix}_rps_first_99pct": round(r.rps_99pct),
            f"{prefix}_p50_ms": round(r.percentile_ms(50) or 0, 2),
            f"{prefix}_p99_ms": round(r.percentile_ms(99) or 0, 2),
            f"{prefix}_lost": r.lost,
            f"{prefix}_resent": r.resends,
            f"{prefix}_cpu_s": round(run["cpu_s"], 2),
            f"{prefix}_client_cpu_s": round(r.cpu_seconds, 2),
        }

    extra = {**figures("jet", jet), **figures("freeradius", fr)}
    if jet is not None:
        extra |= {
            "landed_rows": jet["landed"],
            "landed_twice": jet["twice"],
            "answered_not_landed": jet["answered_not_landed"],
            "jet_batches": jet["batches"],
        }
    if fr is not None:
        extra |= {"freeradius_detail_records": fr["records"], "freeradius_twice": fr["twice"]}
    extra["load_average"] = [round(load_before, 2), round(load_after, 2)]
    report(
        "radius_accounting",
        f"{args.requests:,} accounting requests, {args.in_flight} in flight",
        jet["result"].seconds if jet else 0.0,
        "FreeRADIUS 3.x default config, detail file",
        fr["result"].seconds if fr else 0.0,
        **extra,
    )
    if jet is not None and (jet["result"].lost or jet["answered_not_landed"] or jet["twice"]):
        sys.exit("Jet lost or duplicated requests: see the figures above")


if __name__ == "__main__":
    main()
