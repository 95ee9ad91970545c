"""What every `jet` command shares: the settings, failing with a message, the server log."""

from __future__ import annotations

import json
import sys
from typing import Any, NoReturn

import click

from jet.config import Settings


def load_settings() -> Settings:
    settings = Settings()
    settings.export()
    return settings


def log_to_stderr() -> None:
    """What the servers log, timestamped on stderr (a service manager keeps it)."""
    import logging

    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(message)s"
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)


# What the commands that change the store say of their exit codes (`--help`, README).
EXIT_CODES = (
    "Exit codes: 0 done; 1 refused (a message says what was wrong and what to do, and "
    "nothing was stored); 2 a usage error (an unknown option, a missing argument)."
)
# ... and those that only read it.
READ_EXIT_CODES = "Exit codes: 0 shown; 1 no such account; 2 a usage error (an unknown option)."
DAY = click.DateTime(["%Y-%m-%d"])
password_stdin = click.option(
    "--password-stdin", is_flag=True, help="Read the password from stdin's first line."
)


def read_password(from_stdin: bool) -> str:
    """A password for `--password-stdin` (stdin's first line), else asked for twice."""
    if from_stdin:
        return sys.stdin.readline().removesuffix("\n").removesuffix("\r")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


def echo_json(value: Any) -> None:
    """For scripts: dates and amounts arrive as text already (jet.account_views)."""
    click.echo(json.dumps(value, indent=2, default=str))


def fail(message: str) -> NoReturn:
    click.secho(message, fg="red", err=True)
    sys.exit(1)


# The servers' (`jet radius serve`, `jet netflow serve`) shared option.
stats_every = click.option(
    "--stats-every",
    default=60.0,
    show_default=True,
    type=click.FloatRange(0.1),
    help="Seconds between the counters in the log.",
)
