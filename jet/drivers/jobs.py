"""Running Jet's Dagster jobs in this process, on the instance under JET_HOME, so the
runs show in `dagster dev` afterwards. What the run prints (Dagster's and dbt's logs)
goes to a log file under JET_HOME/logs; a failure names the step and the file."""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any
from uuid import uuid4

from jet.config import Settings
from jet.errors import JetError

DAGSTER_YAML = "telemetry:\n  enabled: false\n"
QUIET = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}


class JobFailed(JetError, RuntimeError):
    pass


@contextmanager
def _output_to(path: Path) -> Iterator[None]:
    """Send this process's stdout and stderr, and its children's, to `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with path.open("ab") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


@contextmanager
def _signals_kept() -> Iterator[None]:
    """Put SIGTERM and SIGINT back as they were after a Dagster run in this process.
    Dagster maps SIGTERM to SIGINT's handler for good; where SIGINT is ignored (a job
    started in the background) that left SIGTERM ignored, and every server this process
    started afterwards inherited it and could not be stopped while it started."""
    if threading.current_thread() is not threading.main_thread():
        yield  # Dagster changes them only from the main thread
        return
    kept = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in kept.items():
            signal.signal(sig, handler)


def run_job(
    settings: Settings,
    job_name: str,
    first: date,
    last: date,
    on_step: Callable[[str], None] | None = None,
) -> Path:
    """Run `job_name` over the bill dates [first, last] as one run; return its log file.
    `on_step` hears the key of each step as it succeeds (the console shows the progress)."""
    settings.export()
    config = settings.dagster_home / "dagster.yaml"
    if not config.exists():
        config.write_text(DAGSTER_YAML)
    from dagster import DagsterInstance

    from dagster_jet.definitions import defs

    job = defs.resolve_job_def(job_name)
    log = settings.root / "logs" / f"{job_name}-{first}-{last}.log"
    run_id = str(uuid4())
    with _output_to(log), _signals_kept(), DagsterInstance.get() as instance:
        run = partial(
            job.execute_in_process,
            instance=instance,
            run_config=QUIET,
            tags={
                "dagster/asset_partition_range_start": first.isoformat(),
                "dagster/asset_partition_range_end": last.isoformat(),
            },
            raise_on_error=False,
            run_id=run_id,
        )
        result = run() if on_step is None else _watched(run, instance, run_id, on_step)
    if not result.success:
        failures = [
            f"{e.step_key}: {_innermost(e.event_specific_data.error)}"
            for e in result.all_events
            if e.is_step_failure and e.event_specific_data and e.event_specific_data.error
        ]
        raise JobFailed(
            f"{job_name} {first}..{last} failed: " + "; ".join(failures) + f" (full log: {log})"
        )
    return log


def _watched(run: Callable[[], Any], instance: Any, run_id: str, on_step: Callable[[str], None]):
    """`run` in a thread of its own while this one reads the run's event log once a second
    and tells `on_step` each step that succeeded since."""
    from dagster import DagsterEventType

    told = 0
    with ThreadPoolExecutor(1, thread_name_prefix=f"run-{run_id[:8]}") as pool:
        running = pool.submit(run)
        while True:
            finished = not wait([running], timeout=1.0).not_done
            steps = instance.all_logs(run_id, of_type=DagsterEventType.STEP_SUCCESS)
            for entry in steps[told:]:
                on_step(entry.step_key)
            told = len(steps)
            if finished:
                return running.result()


def _innermost(error) -> str:
    """The message of the error at the bottom of Dagster's chain: the one that says why.
    A `Failure` is raised to be read by people, so its class name is left off."""
    while error.cause is not None:
        error = error.cause
    message = error.message.strip()
    if error.cls_name == "Failure":
        message = message.split(": ", 1)[-1]
    return message
