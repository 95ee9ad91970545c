"""Debian's OpenLDAP server (slapd) as a peer in tests: started in the foreground from a
slapd.conf under a temporary directory (an mdb database for dc=example,dc=org with the
core, cosine and inetOrgPerson schemas), on a loopback port, with the suffix and
ou=people made; stopped by the test."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import ldap3

from jet.ports import free_tcp_port
from tests.peers import processes

BINARY = "/usr/sbin/slapd"
SUFFIX = "dc=example,dc=org"
ADMIN = f"cn=admin,{SUFFIX}"
PASSWORD = "slapd-test-secret"


def available() -> bool:
    return os.access(BINARY, os.X_OK)


class Slapd:
    def __init__(self, root: Path) -> None:
        self.root, self.port = root, free_tcp_port()
        (root / "data").mkdir(parents=True, exist_ok=True)
        schemas = "".join(
            f"include /etc/ldap/schema/{name}.schema\n"
            for name in ("core", "cosine", "nis", "inetorgperson")
        )
        (root / "slapd.conf").write_text(
            f"{schemas}pidfile {root / 'slapd.pid'}\nargsfile {root / 'slapd.args'}\n"
            "modulepath /usr/lib/ldap\nmoduleload back_mdb\n"
            f'database mdb\nmaxsize 10485760\nsuffix "{SUFFIX}"\nrootdn "{ADMIN}"\n'
            f"rootpw {PASSWORD}\ndirectory {root / 'data'}\n"
        )
        self.url = f"ldap://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def connection(self) -> ldap3.Connection:
        return ldap3.Connection(ldap3.Server(self.url), ADMIN, PASSWORD, auto_bind=True)

    def __enter__(self) -> Slapd:
        log = (self.root / "slapd.log").open("w")
        self.proc = processes.start(
            [BINARY, "-f", str(self.root / "slapd.conf"), "-h", f"{self.url}/", "-d", "0"],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 15
        while True:
            try:
                with self.connection() as conn:
                    conn.add(
                        SUFFIX, ["dcObject", "organization"], {"o": "Example", "dc": "example"}
                    )
                    conn.add(f"ou=people,{SUFFIX}", ["organizationalUnit"], {"ou": "people"})
                return self
            except ldap3.core.exceptions.LDAPException as error:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.__exit__()
                    log = (self.root / "slapd.log").read_text()
                    raise RuntimeError(f"slapd did not start: {log}") from error
                time.sleep(0.1)

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            processes.stop(self.proc)
