"""`jet console`: serve the staff console (Streamlit) over HTTPS, and make its certificate."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from jet.cli.common import load_settings
from jet.config import PROJECT_ROOT, Settings

APP = PROJECT_ROOT / "apps" / "streamlit" / "console" / "app.py"


@click.group()
def console() -> None:
    """The staff console: a web app for admins, sales and helpdesk (docs/console.md)."""


def serve_command(
    settings: Settings, host: str, port: int, cert: Path | None, key: str | Path | None
) -> list[str]:
    """The `streamlit run` command line: headless, telemetry off, TLS with `cert` and
    `key`, else with the demo's certificate under $JET_HOME/console where there is one."""
    from jet.drivers.self_signed import CERT_FILE, KEY_FILE, console_dir

    if cert is None:
        folder = console_dir(settings.root)
        if (folder / CERT_FILE).is_file() and (folder / KEY_FILE).is_file():
            cert, key = folder / CERT_FILE, folder / KEY_FILE
    argv = [sys.executable, "-m", "streamlit", "run", str(APP)]
    argv += ["--server.address", host, "--server.port", str(port), "--server.headless", "true"]
    argv += ["--browser.gatherUsageStats", "false"]
    if cert is not None:
        argv += ["--server.sslCertFile", str(cert), "--server.sslKeyFile", str(key)]
    return argv


@console.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8501, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--cert",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="TLS certificate (PEM); default: $JET_HOME/console/cert.pem made by `jet demo` "
    "or `jet console cert`.",
)
@click.option(
    "--key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The certificate's private key (PEM); needed with --cert.",
)
def serve(host: str, port: int, cert: Path | None, key: Path | None) -> None:
    """Serve the staff console until stopped (Ctrl-C); https://HOST:PORT when there is a
    certificate, else plain http with a warning."""
    if (cert is None) != (key is None):
        raise click.UsageError("--cert and --key go together: give both, or neither")
    settings = load_settings()
    argv = serve_command(settings, host, port, cert, key)
    if "--server.sslCertFile" in argv:
        click.echo(f"Staff console: https://{_shown_host(host)}:{port}", err=True)
    else:
        click.secho(
            "No certificate: serving plain http. Run `jet console cert` (or `jet demo`) "
            "for one, or give --cert and --key.",
            fg="yellow",
            err=True,
        )
    sys.stdout.flush()
    sys.stderr.flush()
    # Streamlit takes our place: Ctrl-C and a service manager's SIGTERM reach it directly.
    os.execve(argv[0], argv, {**os.environ, **settings.env()})


def _shown_host(host: str) -> str:
    return "localhost" if host in ("127.0.0.1", "0.0.0.0", "::") else host


@console.command("cert")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write cert.pem and key.pem into; default $JET_HOME/console.",
)
def cert(out: Path | None) -> None:
    """Make a self-signed certificate for localhost (one year), which `jet console serve`
    then uses; a browser asks once to accept it."""
    from jet.drivers.self_signed import console_dir, write_self_signed

    folder = out or console_dir(load_settings().root)
    cert_path, key_path = write_self_signed(folder)
    click.echo(f"certificate {cert_path}\nprivate key {key_path} (readable only by you)")
