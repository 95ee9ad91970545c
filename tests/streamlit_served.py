"""Serving one of Jet's Streamlit apps for real (`jet console serve`, `jet portal serve`)
with the demo's certificate, and asking it whether it is up over HTTPS."""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from click.testing import CliRunner

from jet.cli import main
from jet.config import Settings
from jet.ports import free_tcp_port

JET = Path(sys.executable).parent / "jet"


def health_over_https(settings: Settings, app: str) -> str:
    """Start `jet APP serve` with the certificate of `jet console cert` on a free port,
    and return what its health check answered over TLS trusting only that certificate."""
    CliRunner().invoke(main, ["console", "cert"])
    port = free_tcp_port()
    server = subprocess.Popen(
        [str(JET), app, "serve", "--port", str(port)],
        env={**os.environ, "JET_HOME": str(settings.root)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    trusted = ssl.create_default_context(cafile=str(settings.root / "console" / "cert.pem"))
    try:
        deadline, answer = time.monotonic() + 60, ""
        while not answer and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(
                    f"https://127.0.0.1:{port}/_stcore/health", context=trusted, timeout=2
                ) as reply:
                    answer = reply.read().decode()
            except OSError:
                assert server.poll() is None, server.stdout.read().decode()
                time.sleep(0.5)
        return answer
    finally:
        server.terminate()
        server.wait(timeout=20)
