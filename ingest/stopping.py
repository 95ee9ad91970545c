"""A bound on how long a collector takes to stop: after SIGTERM or Ctrl-C it lands and
answers what it holds, but whatever that waits on (a landing that keeps failing, a
flood that never lets the socket drain, a thread on a busy store), the process is gone
within `GRACE` seconds, so a supervisor or a test never waits on it.

Nothing acknowledged is lost when the bound cuts a stop short: a RADIUS request is
answered only once landed, so its NAS resends what was not answered (and a resend that
was landed after all counts once: int_radius_records_deduped); NetFlow has no
acknowledgement, so what was still buffered is lost, as it would be by a crash."""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable

log = logging.getLogger("jet.stopping")

GRACE = 4.0  # seconds from the stop request to the end of the process, at the most


def exit_after(what: str, grace: float = GRACE, before: Callable[[], None] = lambda: None) -> None:
    """Arm a watchdog: if this process still runs `grace` seconds from now, log it, call
    `before` (to end child processes) and exit with code 1. Call it once the stop is
    asked for; a process that ends first takes its daemon watchdog with it."""

    def expire() -> None:
        log.error(
            "%s did not stop within %g s of being asked to: exiting now; what was not "
            "landed is not acknowledged",
            what,
            grace,
        )
        try:
            before()
        finally:
            logging.shutdown()
            sys.stderr.flush()
            os._exit(1)

    timer = threading.Timer(grace, expire)
    timer.daemon = True
    timer.name = "stop-watchdog"
    timer.start()
