"""`jet radius`: the RADIUS server, and Disconnect and CoA to NAS."""

from __future__ import annotations

import sys

import click

from jet.cli.common import fail, load_settings, log_to_stderr, stats_every

# Told after `jet account` and `jet realm remote` changes.
RADIUS_RELOAD = "a running `jet radius serve` takes it within --auth-refresh seconds or on SIGHUP"


@click.group()
def radius() -> None:
    """The RADIUS server (authentication, accounting landed), and Disconnect and CoA to NAS."""


@radius.command("serve")
@click.option("--host", default="0.0.0.0", show_default=True, help="Address to listen on.")
@click.option(
    "--acct-port",
    default=1813,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="UDP port for accounting; 0 picks a free one (logged at start).",
)
@click.option(
    "--auth-port",
    default=1812,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="UDP port for authentication; 0 picks a free one (logged at start).",
)
@click.option(
    "--auth-refresh",
    default=30.0,
    show_default=True,
    type=click.FloatRange(0.1),
    help="Seconds between reloads of the accounts authentication answers from.",
)
@click.option(
    "--require-message-authenticator",
    is_flag=True,
    help="Drop Access-Requests without a Message-Authenticator (once every NAS sends one).",
)
@click.option(
    "--batch-rows",
    default=2000,
    show_default=True,
    type=click.IntRange(1),
    help="Land a batch once it has this many requests.",
)
@click.option(
    "--batch-ms",
    default=0.0,
    show_default=True,
    type=click.FloatRange(0),
    help="Wait this long from a batch's first request before landing it (0: land as soon "
    "as the batch before it has landed; more: fewer, larger files, slower answers).",
)
@stats_every
@click.option(
    "--dispatch-every",
    default=5.0,
    show_default=True,
    type=click.FloatRange(0.1),
    help="Seconds between deliveries of the events that are due to every subscriber "
    "(Disconnect and CoA requests, the event feed), as `jet events dispatch` does.",
)
def radius_serve(
    host: str,
    acct_port: int,
    auth_port: int,
    auth_refresh: float,
    require_message_authenticator: bool,
    batch_rows: int,
    batch_ms: float,
    stats_every: float,
    dispatch_every: float,
) -> None:
    """Answer Access-Requests (PAP, CHAP) from the store, or proxy them to the home
    server of a remote realm, and land RADIUS accounting (copying remote realms' to their
    home servers), answering each Accounting-Request once it is on disk; deliver the
    events that changes announced to every subscriber, Disconnect and CoA requests
    among them (and retry them).

    Logs to stderr. SIGTERM or Ctrl-C lands and answers what is pending, then stops
    (within 4 s at the most: what is not answered by then its NAS resends); SIGHUP
    reloads the NAS clients, the accounts and the remote realms."""
    import asyncio
    import logging
    import threading

    from ingest.radius.server import serve
    from jet.deliveries import dispatch_forever
    from jet.drivers.subscribers import subscribers
    from jet.nas import client_secrets
    from jet.network_access import load_view
    from jet.store.db import upgrade

    log_to_stderr()
    settings = load_settings()
    upgrade(settings.db_url)  # before the dispatcher's thread and the server share the store
    stop_dispatching = threading.Event()
    threading.Thread(
        target=dispatch_forever,
        args=(
            settings,
            subscribers(settings),
            dispatch_every,
            stop_dispatching,
            logging.getLogger("jet.events"),
        ),
        name="radius-dispatch",
        daemon=True,
    ).start()
    try:
        asyncio.run(
            serve(
                settings.raw,
                lambda: client_secrets(settings.db_url),
                host,
                acct_port,
                batch_rows=batch_rows,
                batch_delay=batch_ms / 1000,
                stats_every=stats_every,
                load_view=lambda: load_view(settings.db_url),
                auth_port=auth_port,
                refresh_every=auth_refresh,
                require_message_authenticator=require_message_authenticator,
            )
        )
    finally:
        stop_dispatching.set()


@radius.command("disconnect")
@click.argument("user")
def radius_disconnect(user: str) -> None:
    """Send a Disconnect-Request (RFC 5176) for each of USER's open sessions (two devices,
    or two NAS) to the NAS that holds it, as the landed accounting shows, and print a
    line for each: its NAS, its Acct-Session-Id and the answer. USER is an account, or
    account@realm.

    Exits 0 when every session's NAS ACKed, or when USER has no open session (nothing is
    sent); 1 if any got a Disconnect-NAK or no answer, or is on a NAS that is not a
    client, naming those."""
    from ingest.radius.dispatcher import disconnect

    outcomes = disconnect(load_settings(), user.rpartition("@")[0] or user)
    for outcome in outcomes:
        click.secho(outcome.text, fg="red" if outcome.failed else None, err=outcome.failed)
    failed = [outcome.held for outcome in outcomes if outcome.failed and outcome.held]
    if failed:
        fail(
            f"{len(failed)} of {len(outcomes)} sessions may still be online: "
            + ", ".join(f"{held.acct_session_id} on NAS {held.nas_address}" for held in failed)
        )


@radius.command("dispatch")
def radius_dispatch() -> None:
    """Send the Disconnect and CoA requests that account changes queued and that are due
    (a running `jet radius serve` does this every few seconds).

    Exits 1 if any got a NAK or no answer (those without an answer are tried again)."""
    from ingest.radius import dispatcher
    from jet.deliveries import dispatch

    reports = dispatch(load_settings(), [dispatcher.subscriber()])
    for report in reports:
        click.echo(report.result.outcome)
    if not reports:
        click.echo("nothing to send")
    if any(r.went_wrong for r in reports):
        sys.exit(1)
