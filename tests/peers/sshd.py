"""Debian's OpenSSH server as a peer in tests: started in the foreground (`sshd -D -e`) from
a configuration under a temporary directory, on a loopback port, with a host key and an
authorized client key of its own (ssh-keygen), stopped by the test."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from jet.ports import free_tcp_port
from tests.peers import processes

BINARY = "/usr/sbin/sshd"


def available() -> bool:
    return os.access(BINARY, os.X_OK)


class Sshd:
    """`root/host_key` (its public half is `host_key_line`), `root/client_key` logs in as
    the user running the tests; `port` on 127.0.0.1."""

    def __init__(self, root: Path) -> None:
        self.root, self.port = root, free_tcp_port()
        root.mkdir(parents=True, exist_ok=True)
        for name in ("host_key", "client_key"):
            subprocess.run(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(root / name)], check=True
            )
        (root / "authorized_keys").write_text((root / "client_key.pub").read_text())
        self.config = root / "sshd_config"
        self.config.write_text(
            f"Port {self.port}\nListenAddress 127.0.0.1\nHostKey {root / 'host_key'}\n"
            f"PidFile {root / 'sshd.pid'}\nAuthorizedKeysFile {root / 'authorized_keys'}\n"
            "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n"
            "StrictModes no\nPermitRootLogin prohibit-password\n"
        )
        self.proc: subprocess.Popen | None = None

    @property
    def host_key_line(self) -> str:
        return " ".join((self.root / "host_key.pub").read_text().split()[:2])

    @property
    def client_key(self) -> Path:
        return self.root / "client_key"

    def __enter__(self) -> Sshd:
        Path("/run/sshd").mkdir(exist_ok=True)  # its privilege separation directory
        log = (self.root / "sshd.log").open("w")
        self.proc = processes.start([BINARY, "-D", "-e", "-f", str(self.config)], stderr=log)
        deadline = time.monotonic() + 15
        while "Server listening" not in (self.root / "sshd.log").read_text():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.__exit__()
                raise RuntimeError(f"sshd did not start: {(self.root / 'sshd.log').read_text()}")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            processes.stop(self.proc)
