"""Debian's FreeRADIUS as a peer in tests: started in the foreground from a radiusd.conf
written under a temporary directory, listening on loopback only, stopped by the test.

`FreeRadius(root, config)` writes `root/raddb/radiusd.conf`: the settings every run needs
(paths under `root`, the log file `root/log/radius.log`, no change of user, a small
thread pool) followed by `config`, the test's own clients, modules and virtual servers,
which may write files to `${logdir}` (`root/log`). FreeRADIUS reads its dictionaries
from /usr/share/freeradius. `FreeRadius.debian(root, clients, ports)` runs Debian's own
configuration instead, every module and site it enables (what bench/bench_radius.py
measures Jet against), with only where it listens, logs and whom it answers changed."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

from jet.ports import free_udp_port
from tests.peers import processes

BINARY = shutil.which("freeradius") or "/usr/sbin/freeradius"
DEBIAN_CONF = Path("/etc/freeradius/3.0")

_BASE = """\
prefix = /usr
raddbdir = {raddb}
confdir = ${{raddbdir}}
logdir = {logdir}
run_dir = {run_dir}
libdir = /usr/lib/freeradius
pidfile = ${{run_dir}}/radiusd.pid
name = freeradius
max_request_time = 30
cleanup_delay = 5
max_requests = 1024
hostname_lookups = no
log {{
	destination = files
	file = ${{logdir}}/radius.log
}}
security {{
	allow_core_dumps = no
	max_attributes = 200
	reject_delay = 0
	status_server = no
}}
thread pool {{
	start_servers = 1
	max_servers = 4
	min_spare_servers = 1
	max_spare_servers = 2
}}
"""


def available() -> bool:
    """Whether Debian's `freeradius` is installed (/usr/sbin is not on every PATH)."""
    return os.access(BINARY, os.X_OK)


class FreeRadius:
    """FreeRADIUS run from a configuration under `root`; a context manager that starts
    it (once it logs that it is ready) and stops it."""

    def __init__(self, root: Path, config: str | None = None) -> None:
        """`config` follows the settings every run needs in radiusd.conf; None leaves
        `root/raddb` to `debian`."""
        self.root = root
        self.raddb, self.logdir, self.run_dir = root / "raddb", root / "log", root / "run"
        for folder in (self.raddb, self.logdir, self.run_dir):
            folder.mkdir(parents=True, exist_ok=True)
        if config is not None:
            base = _BASE.format(raddb=self.raddb, logdir=self.logdir, run_dir=self.run_dir)
            (self.raddb / "radiusd.conf").write_text(base + config)
        self.proc: subprocess.Popen | None = None

    @classmethod
    def debian(cls, root: Path, clients: Mapping[str, str], ports: Mapping[str, int]) -> FreeRadius:
        """Debian's /etc/freeradius/3.0 copied to `root/raddb`, answering `clients`
        (address: secret) only, its IPv4 `listen` sections on 127.0.0.1 at `ports` (by
        type: auth, acct; a free port for any other), its IPv6 ones off (a second server
        on :: would clash), its logs and detail files under `root/log`, run as the user
        who starts it."""
        server = cls(root)
        shutil.copytree(DEBIAN_CONF, server.raddb, symlinks=True, dirs_exist_ok=True)
        radiusd = server.raddb / "radiusd.conf"
        text = radiusd.read_text()
        for name, value in (
            ("raddbdir", server.raddb),
            ("logdir", server.logdir),
            ("run_dir", server.run_dir),
        ):
            text, n = re.subn(rf"^{name}\s*=.*$", f"{name} = {value}", text, count=1, flags=re.M)
            assert n == 1, f"no {name} in {radiusd}"
        radiusd.write_text(re.sub(r"^(\s*)(user|group)\s*=", r"\1# \2 =", text, flags=re.M))
        (server.raddb / "clients.conf").write_text(
            "".join(
                f"client c{i} {{\n\tipaddr = {address}\n\tsecret = {secret}\n}}\n"
                for i, (address, secret) in enumerate(clients.items())
            )
        )
        for site in (server.raddb / "sites-enabled").iterdir():
            text = site.read_text()
            site.unlink()  # a link into sites-available: write our own file instead
            site.write_text(_rewrite_listens(text, ports))
        return server

    @property
    def log(self) -> str:
        path = self.logdir / "radius.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def start(self, timeout: float = 30) -> FreeRadius:
        with (self.root / "stderr.log").open("w") as stderr:
            self.proc = processes.start(
                [BINARY, "-f", "-d", str(self.raddb)], stdout=subprocess.DEVNULL, stderr=stderr
            )
        deadline = time.monotonic() + timeout
        while "Ready to process requests" not in self.log:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                errors = (self.root / "stderr.log").read_text(errors="replace")
                raise RuntimeError(f"FreeRADIUS did not start:\n{self.log}\n{errors}")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it has not stopped within the grace period."""
        if self.proc is not None:
            processes.stop(self.proc)

    def __enter__(self) -> FreeRadius:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def coa_listener(secret: str, port: int, policy: str = "") -> str:
    """A NAS's side of Disconnect and CoA (RFC 5176) as `FreeRadius` config: a `coa`
    listener on 127.0.0.1:`port` for the client 127.0.0.1 with `secret`, which writes each
    request to `${logdir}/dynauth-detail` (`detail_records` reads it), runs `policy`
    (unlang that may `reject` some), and ACKs the rest."""
    return f"""
client jet {{
\tipaddr = 127.0.0.1
\tsecret = {secret}
}}
modules {{
\talways ok {{
\t\trcode = ok
\t}}
\talways reject {{
\t\trcode = reject
\t}}
\tdetail dynauth_detail {{
\t\tfilename = ${{logdir}}/dynauth-detail
\t\theader = "%t"
\t}}
}}
server dynauth {{
\tlisten {{
\t\ttype = coa
\t\tipaddr = 127.0.0.1
\t\tport = {port}
\t}}
\trecv-coa {{
\t\tdynauth_detail
{policy}
\t\tok
\t}}
\tsend-coa {{
\t\tok
\t}}
}}
"""


def detail_records(path: Path) -> list[dict[str, str]]:
    """The records of a FreeRADIUS detail file, each as its attributes (quotes removed);
    none if the file is not there (yet)."""
    records: list[dict[str, str]] = []
    record: dict[str, str] = {}
    lines = path.read_text(errors="replace").splitlines() if path.exists() else []
    for line in [*lines, ""]:
        if line.startswith("\t"):
            name, _, value = line.strip().partition(" = ")
            record[name] = value.strip('"')
        elif record:
            records.append(record)
            record = {}
    return records


def _strip_comment(line: str) -> str:
    return line.split("#", 1)[0]


def _rewrite_listens(text: str, ports: Mapping[str, int]) -> str:
    """Every IPv4 `listen` section of a site on 127.0.0.1 at `ports[type]` (else a free
    port); the IPv6 ones commented out."""
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    i = 0
    while i < len(lines):
        if not re.match(r"\s*listen\s*\{", _strip_comment(lines[i])):
            out.append(lines[i])
            i += 1
            continue
        depth, j = 0, i
        while True:
            code = _strip_comment(lines[j])
            depth += code.count("{") - code.count("}")
            j += 1
            if depth == 0:
                break
        block = "".join(lines[i:j])
        code = "".join(_strip_comment(line) + "\n" for line in lines[i:j])
        if re.search(r"^\s*ipv6addr\s*=", code, re.M):
            out += ["#" + line for line in lines[i:j]]
        else:
            kind = re.search(r"^\s*type\s*=\s*(\S+)", code, re.M).group(1)  # type: ignore[union-attr]
            port = ports.get(kind) or free_udp_port()
            block = re.sub(r"^(\s*)ipaddr\s*=.*$", r"\g<1>ipaddr = 127.0.0.1", block, flags=re.M)
            block = re.sub(r"^(\s*)port\s*=.*$", rf"\g<1>port = {port}", block, flags=re.M)
            out.append(block)
        i = j
    return "".join(out)
