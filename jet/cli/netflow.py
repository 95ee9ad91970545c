"""`jet netflow`: the NetFlow v5/v9/IPFIX collector."""

from __future__ import annotations

import click

from jet.cli.common import fail, load_settings, log_to_stderr, stats_every


@click.group()
def netflow() -> None:
    """The NetFlow v5/v9/IPFIX collector: routers' flow records landed for billing."""


@netflow.command("serve")
@click.option("--host", default="0.0.0.0", show_default=True, help="Address (IPv4 or IPv6).")
@click.option(
    "--port",
    default=2055,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="UDP port; 0 picks a free one (logged at start).",
)
@click.option(
    "--batch-flows",
    default=100_000,
    show_default=True,
    type=click.IntRange(1),
    help="Land a batch once it holds this many flows.",
)
@click.option(
    "--batch-seconds",
    default=1.0,
    show_default=True,
    type=click.FloatRange(0.01),
    help="Land a batch once its first flow has waited this long.",
)
@stats_every
def netflow_serve(
    host: str, port: int, batch_flows: int, batch_seconds: float, stats_every: float
) -> None:
    """Collect NetFlow v5, v9 and IPFIX from any exporter and land the flows.

    Logs to stderr. SIGTERM or Ctrl-C lands what is buffered, then stops (within 4 s
    at the most)."""

    from ingest.netflow.collector import serve

    log_to_stderr()
    try:
        serve(
            load_settings().raw,
            host,
            port,
            batch_flows=batch_flows,
            batch_seconds=batch_seconds,
            stats_every=stats_every,
        )
    except OSError as err:
        fail(f"cannot listen on UDP {host}:{port}: {err.strerror or err}")
