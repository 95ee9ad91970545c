"""`jet console cert` and `jet console serve`: a certificate for localhost, and the console
served over HTTPS with it, telemetry off."""

from __future__ import annotations

import os
import socket
import ssl
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from click.testing import CliRunner
from cryptography import x509

from jet.cli import main
from jet.cli.console import serve_command
from jet.config import PROJECT_ROOT, Settings

JET = Path(sys.executable).parent / "jet"


def test_cert_is_for_localhost_for_a_year_and_its_key_private(settings: Settings) -> None:
    result = CliRunner().invoke(main, ["console", "cert"])
    assert result.exit_code == 0, result.output
    folder = settings.root / "console"
    cert = x509.load_pem_x509_certificate((folder / "cert.pem").read_bytes())
    assert cert.subject.rfc4514_string() == "CN=localhost"
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    days = (cert.not_valid_after_utc - cert.not_valid_before_utc).days
    assert 365 <= days <= 366
    assert stat.S_IMODE((folder / "key.pem").stat().st_mode) == 0o600


def test_serve_uses_the_demo_certificate_and_turns_telemetry_off(settings: Settings) -> None:
    plain = serve_command(settings, "127.0.0.1", 8501, None, None)
    assert "--server.sslCertFile" not in plain
    assert plain[plain.index("--browser.gatherUsageStats") + 1] == "false"
    assert plain[plain.index("--server.headless") + 1] == "true"
    CliRunner().invoke(main, ["console", "cert"])
    tls = serve_command(settings, "127.0.0.1", 8501, None, None)
    assert tls[tls.index("--server.sslCertFile") + 1] == str(settings.root / "console/cert.pem")
    assert tls[tls.index("--server.sslKeyFile") + 1] == str(settings.root / "console/key.pem")
    config = (PROJECT_ROOT / ".streamlit" / "config.toml").read_text()
    assert "gatherUsageStats = false" in config


def test_cert_without_key_is_a_usage_error(settings: Settings, tmp_path: Path) -> None:
    pem = tmp_path / "c.pem"
    pem.write_text("x")
    result = CliRunner().invoke(main, ["console", "serve", "--cert", str(pem)])
    assert result.exit_code == 2
    assert "--cert and --key go together" in result.output


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_answers_over_https_with_the_certificate(settings: Settings) -> None:
    CliRunner().invoke(main, ["console", "cert"])
    port = _free_port()
    server = subprocess.Popen(
        [str(JET), "console", "serve", "--port", str(port)],
        env={**os.environ, "JET_HOME": str(settings.root)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    trusted = ssl.create_default_context(cafile=str(settings.root / "console" / "cert.pem"))
    try:
        deadline, answer = time.monotonic() + 60, None
        while answer is None and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(
                    f"https://127.0.0.1:{port}/_stcore/health", context=trusted, timeout=2
                ) as reply:
                    answer = reply.read().decode()
            except OSError:
                assert server.poll() is None, server.stdout.read().decode()
                time.sleep(0.5)
        assert answer == "ok"
    finally:
        server.terminate()
        server.wait(timeout=20)
