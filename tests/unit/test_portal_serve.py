"""`jet portal serve` and `make portal`: the customer portal served like the staff console
(the same `streamlit run` command line, jet.cli.streamlit_serve), on port 8502."""

from __future__ import annotations

from click.testing import CliRunner

from jet.cli import main
from jet.cli.portal_serve import APP, PORT
from jet.cli.streamlit_serve import streamlit_command
from jet.config import PROJECT_ROOT, Settings
from tests.streamlit_served import health_over_https


def test_serve_runs_the_portal_app_on_8502_with_the_demo_certificate(
    settings: Settings,
) -> None:
    assert APP == PROJECT_ROOT / "apps/streamlit/portal/app.py" and APP.is_file()
    assert PORT == 8502
    help_text = CliRunner().invoke(main, ["portal", "serve", "--help"]).output
    assert "[default: 8502;" in help_text
    plain = streamlit_command(settings, APP, "127.0.0.1", PORT, None, None)
    assert plain[plain.index("run") + 1] == str(APP)
    assert plain[plain.index("--browser.gatherUsageStats") + 1] == "false"
    assert "--server.sslCertFile" not in plain
    CliRunner().invoke(main, ["console", "cert"])
    tls = streamlit_command(settings, APP, "127.0.0.1", PORT, None, None)
    assert tls[tls.index("--server.sslCertFile") + 1] == str(settings.root / "console/cert.pem")
    assert "jet portal serve" in (PROJECT_ROOT / "Makefile").read_text()


def test_serve_answers_over_https(settings: Settings) -> None:
    assert health_over_https(settings, "portal") == "ok"
