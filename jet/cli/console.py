"""`jet console`: serve the staff console (Streamlit) over HTTPS, and make its certificate."""

from __future__ import annotations

from pathlib import Path

import click

from jet.cli.common import load_settings
from jet.cli.streamlit_serve import serve_app, serve_options
from jet.config import PROJECT_ROOT

APP = PROJECT_ROOT / "apps" / "streamlit" / "console" / "app.py"


@click.group()
def console() -> None:
    """The staff console: a web app for admins, sales and helpdesk (docs/console.md)."""


@console.command("serve")
@serve_options(default_port=8501)
def serve(host: str, port: int, cert: Path | None, key: Path | None) -> None:
    """Serve the staff console until stopped (Ctrl-C); https://HOST:PORT when there is a
    certificate, else plain http with a warning."""
    serve_app(APP, "Staff console", host, port, cert, key)


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
