"""Servers and peers that tests start: each in a process group of its own, and always
stopped when the test ends, passed or failed, with a kill after a grace period, so no
server outlives the test run (a `jet radius serve` once ran on for an hour and a half
after a failed test)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

GRACE = 5.0  # seconds a server has to stop after SIGTERM before it is killed


def start(args: list[str], **popen) -> subprocess.Popen:
    """Start `args` in a new process group (its children die with it in `stop`)."""
    return subprocess.Popen(args, start_new_session=True, **popen)


def stop(proc: subprocess.Popen, grace: float = GRACE) -> int | None:
    """SIGTERM, then SIGKILL to the whole group if it has not exited within `grace`; any
    child left in its group is killed either way. The exit code it stopped with on its
    own, None if it had to be killed."""
    code = proc.poll()
    if code is None:
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            code = None
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    return code


@contextlib.contextmanager
def running(args: list[str], grace: float = GRACE, **popen) -> Iterator[subprocess.Popen]:
    """`start`, and `stop` on the way out whatever happened."""
    proc = start(args, **popen)
    try:
        yield proc
    finally:
        stop(proc, grace)


def group_alive(pgid: int) -> list[int]:
    """The processes of the group still running (zombies waiting to be reaped are not)."""
    return [pid for pid, state, _, group in _processes() if group == pgid and state != "Z"]


def children(pid: int) -> list[int]:
    """The running children of `pid` (a server's landing process)."""
    return [child for child, state, parent, _ in _processes() if parent == pid and state != "Z"]


def _processes() -> list[tuple[int, str, int, int]]:
    """Every process as (pid, state, parent pid, process group), from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # it ended meanwhile
            continue
        found.append((int(stat.parent.name), fields[0], int(fields[1]), int(fields[2])))
    return found


def wait_group_gone(pgid: int, timeout: float) -> bool:
    """Whether every process of the group has ended within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while group_alive(pgid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True
