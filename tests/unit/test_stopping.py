"""The bound on a stop (ingest.stopping): a process that does not end by itself within
the grace is ended, and what `before` ends goes with it."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from jet.config import PROJECT_ROOT

STUCK = """
import subprocess, sys, time
from ingest.stopping import exit_after
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
print(child.pid, flush=True)
exit_after("the stuck server", grace=0.5, before=child.kill)
time.sleep(60)  # stuck in its stop
"""


def test_a_stuck_stop_ends_within_the_grace_with_its_children() -> None:
    began = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", STUCK], cwd=PROJECT_ROOT, capture_output=True, text=True,
        timeout=20, start_new_session=True,
    )  # fmt: skip
    assert time.monotonic() - began < 5
    assert done.returncode == 1
    assert "the stuck server did not stop within 0.5 s" in done.stderr
    child = int(done.stdout.split()[0])
    deadline = time.monotonic() + 5
    while _running(child):
        assert time.monotonic() < deadline, "the child outlived the process"
        time.sleep(0.05)


def _running(pid: int) -> bool:
    """Whether `pid` runs (a zombie waiting to be reaped does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
