"""What every benchmark prints last: one line of JSON with its figures."""

from __future__ import annotations

import json
import os
import platform
import resource
import sys
from pathlib import Path


def peak_memory_mb() -> float:
    """Peak resident memory of this process and its finished children, in MiB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(max(own, children) / 1024, 1)


def machine() -> str:
    """CPU model, cores, memory and Python: what a figure means depends on them."""
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    models = [line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")]
    cpu = models[0] if models else platform.machine()
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{cpu}, {os.cpu_count()} cores, {mem_gb:.0f} GiB, Python {sys.version.split()[0]}"


def report(
    name: str, workload: str, seconds: float, baseline_name: str, baseline_seconds: float, **extra
) -> None:
    figures = {
        "name": name,
        "workload": workload,
        "seconds": round(seconds, 3),
        "baseline": baseline_name,
        "baseline_seconds": round(baseline_seconds, 3),
        "ratio": round(seconds / baseline_seconds, 2) if baseline_seconds else None,
        "peak_memory_mb": peak_memory_mb(),
        "machine": machine(),
        **extra,
    }
    print(json.dumps(figures))
