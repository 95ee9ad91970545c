"""`jet portal serve`: the customer portal (Streamlit) over HTTPS, as `jet console serve`
serves the staff console (jet.cli.streamlit_serve), on its own port."""

from __future__ import annotations

from pathlib import Path

import click

from jet.cli.streamlit_serve import serve_app, serve_options
from jet.config import PROJECT_ROOT

APP = PROJECT_ROOT / "apps" / "streamlit" / "portal" / "app.py"
PORT = 8502


@click.command("serve")
@serve_options(default_port=PORT)
def serve(host: str, port: int, cert: Path | None, key: Path | None) -> None:
    """Serve the customer portal until stopped (Ctrl-C); https://HOST:PORT when there is a
    certificate, else plain http with a warning. Each realm's portal answers on the host
    names of its catalog's `portal.hosts`; one host serves any realm by ?realm=ID."""
    serve_app(APP, "Customer portal", host, port, cert, key)
