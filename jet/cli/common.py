"""What every `jet` command shares: the settings, failing with a message, the server log."""

from __future__ import annotations

import sys
from typing import NoReturn

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
