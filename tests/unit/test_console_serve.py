"""`jet console cert` and `jet console serve`: a certificate for localhost, and the console
served over HTTPS with it, telemetry off."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography import x509

from jet.cli import main
from jet.cli.console import APP
from jet.cli.streamlit_serve import streamlit_command
from jet.config import PROJECT_ROOT, Settings
from tests.streamlit_served import health_over_https


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
    plain = streamlit_command(settings, APP, "127.0.0.1", 8501, None, None)
    assert "--server.sslCertFile" not in plain
    assert plain[plain.index("--browser.gatherUsageStats") + 1] == "false"
    assert plain[plain.index("--server.fileWatcherType") + 1] == "none"
    assert plain[plain.index("--runner.postScriptGC") + 1] == "false"
    assert plain[plain.index("--server.headless") + 1] == "true"
    CliRunner().invoke(main, ["console", "cert"])
    tls = streamlit_command(settings, APP, "127.0.0.1", 8501, None, None)
    assert tls[tls.index("--server.sslCertFile") + 1] == str(settings.root / "console/cert.pem")
    assert tls[tls.index("--server.sslKeyFile") + 1] == str(settings.root / "console/key.pem")
    config = (PROJECT_ROOT / ".streamlit" / "config.toml").read_text()
    assert "gatherUsageStats = false" in config


@pytest.mark.parametrize("app", ["console", "portal"])
def test_cert_without_key_is_a_usage_error(settings: Settings, tmp_path: Path, app: str) -> None:
    pem = tmp_path / "c.pem"
    pem.write_text("x")
    result = CliRunner().invoke(main, [app, "serve", "--cert", str(pem)])
    assert result.exit_code == 2
    assert "--cert and --key go together" in result.output


def test_serve_answers_over_https(settings: Settings) -> None:
    assert health_over_https(settings, "console") == "ok"
