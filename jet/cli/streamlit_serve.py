"""Serving a Streamlit app of Jet's (the staff console, the customer portal): one
`streamlit run` command line for both, headless, telemetry off, over TLS with the
demo's certificate unless given one, and the options both `serve` commands take."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

import click

from jet.cli.common import load_settings
from jet.config import Settings


def streamlit_command(
    settings: Settings,
    app: Path,
    host: str,
    port: int,
    cert: Path | None,
    key: str | Path | None,
) -> list[str]:
    """The `streamlit run app` command line: headless, telemetry off, TLS with `cert` and
    `key`, else with the demo's certificate under $JET_HOME/console where there is one."""
    from jet.drivers.self_signed import CERT_FILE, KEY_FILE, console_dir

    if cert is None:
        folder = console_dir(settings.root)
        if (folder / CERT_FILE).is_file() and (folder / KEY_FILE).is_file():
            cert, key = folder / CERT_FILE, folder / KEY_FILE
    argv = [sys.executable, "-m", "streamlit", "run", str(app)]
    argv += ["--server.address", host, "--server.port", str(port), "--server.headless", "true"]
    argv += ["--browser.gatherUsageStats", "false"]
    # A served app is not edited in place: no watching its files (CPU for nothing). And no
    # full garbage collection after every click: with DuckDB, Polars and SQLAlchemy loaded it
    # was half the server's CPU under load (bench/README.md); Python still collects itself.
    argv += ["--server.fileWatcherType", "none", "--runner.postScriptGC", "false"]
    if cert is not None:
        argv += ["--server.sslCertFile", str(cert), "--server.sslKeyFile", str(key)]
    return argv


def serve_options(default_port: int) -> Callable:
    """--host, --port (default `default_port`), --cert and --key, as both apps take them."""

    def decorate(command: Callable) -> Callable:
        for option in reversed(
            (
                click.option(
                    "--host", default="127.0.0.1", show_default=True, help="Address to listen on."
                ),
                click.option(
                    "--port",
                    default=default_port,
                    show_default=True,
                    type=click.IntRange(1, 65535),
                ),
                click.option(
                    "--cert",
                    type=click.Path(exists=True, dir_okay=False, path_type=Path),
                    help="TLS certificate (PEM); default: $JET_HOME/console/cert.pem made by "
                    "`jet demo` or `jet console cert`.",
                ),
                click.option(
                    "--key",
                    type=click.Path(exists=True, dir_okay=False, path_type=Path),
                    help="The certificate's private key (PEM); needed with --cert.",
                ),
            )
        ):
            command = option(command)
        return command

    return decorate


def serve_app(
    app: Path, what: str, host: str, port: int, cert: Path | None, key: Path | None
) -> None:
    """Replace this process with Streamlit serving `app` (`what` names it in the address
    printed): https://HOST:PORT when there is a certificate, else plain http with a
    warning."""
    if (cert is None) != (key is None):
        raise click.UsageError("--cert and --key go together: give both, or neither")
    settings = load_settings()
    argv = streamlit_command(settings, app, host, port, cert, key)
    if "--server.sslCertFile" in argv:
        click.echo(f"{what}: https://{_shown_host(host)}:{port}", err=True)
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
