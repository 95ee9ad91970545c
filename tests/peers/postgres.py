"""Debian's PostgreSQL as a peer in tests: a throw-away cluster, made by `initdb` under a
temporary directory and started by `pg_ctl` on a free loopback TCP port for the test
session, then stopped and removed.

PostgreSQL refuses to run as root, so a root test run hands the cluster to the
`postgres` user that Debian's package creates (`runuser`). The `postgres` fixture is the
server; `postgres_url` a new empty database of it for one test, as a
`postgresql+psycopg://` URL for `JET_DATABASE_URL`."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from jet.ports import free_tcp_port

HOST = "127.0.0.1"
SUPERUSER = "jet"


def bin_dir() -> Path | None:
    """The newest installed PostgreSQL's programs (/usr/lib/postgresql/<major>/bin)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parts[-3]))
    return found[-1].parent if found else None


def available() -> bool:
    if bin_dir() is None:
        return False
    try:
        return os.geteuid() != 0 or bool(pwd.getpwnam("postgres"))
    except KeyError:
        return False


class PostgreSQL:
    """A cluster of its own under `root`; a context manager that starts and stops it."""

    def __init__(self, root: Path) -> None:
        self.root, self.data, self.port = root, root / "data", free_tcp_port(HOST)
        self.log = root / "postgres.log"

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{SUPERUSER}@{HOST}:{self.port}/{database}"

    def create_database(self) -> str:
        """A new empty database; its SQLAlchemy URL."""
        name = f"jet_{uuid.uuid4().hex[:12]}"
        dsn = f"host={HOST} port={self.port} user={SUPERUSER} dbname=postgres"
        with psycopg.connect(dsn, autocommit=True) as con:
            con.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def __enter__(self) -> PostgreSQL:
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
        self._run("initdb", "-D", self.data, "-U", SUPERUSER, "-A", "trust", "-E", "UTF8",
                  "--no-locale", "--no-sync")  # fmt: skip
        options = f"-h {HOST} -p {self.port} -k {self.root} -c fsync=off"
        self._run("pg_ctl", "-D", self.data, "-l", self.log, "-o", options, "-w", "start")
        return self

    def __exit__(self, *exc: object) -> None:
        self._run("pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop")

    def _run(self, program: str, *args: object) -> None:
        command = [str(bin_dir() / program), *map(str, args)]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, cwd=self.root)
        if done.returncode != 0:
            log = self.log.read_text(errors="replace") if self.log.exists() else ""
            raise RuntimeError(f"{program} failed:\n{done.stdout}{done.stderr}{log}")


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgreSQL]:
    if not available():
        pytest.skip("needs PostgreSQL (Debian postgresql)")
    # not under pytest's tmp_path: its folders are private to the user running the tests
    root = Path(tempfile.mkdtemp(prefix="jet-postgres-"))
    try:
        with PostgreSQL(root) as server:
            yield server
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres: PostgreSQL) -> str:
    return postgres.create_database()
