"""`jet events`: the outbox's deliveries to subscribers (RADIUS, the event feed)."""

from __future__ import annotations

import json
import sys

import click

from jet.cli.common import load_settings, log_to_stderr
from jet.delivery_states import STATUSES


@click.group()
def events() -> None:
    """Events announced by account and invoice changes, and their deliveries."""


@events.command("list")
@click.option(
    "--status",
    type=click.Choice(STATUSES),
    default=None,
    help="Only deliveries in this state (pending: not tried yet, or told to wait; failed: "
    "tried, failed and to be tried again; dead: given up on until `jet events retry`).",
)
@click.option("--account", default=None, help="Only this account's events.")
@click.option("--limit", default=200, show_default=True, help="The newest this many.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per delivery.")
def events_list(status: str | None, account: str | None, limit: int, as_json: bool) -> None:
    """List deliveries, newest first: event, topic, account, subscriber, state, attempts,
    and how the last attempt went."""
    from rich.table import Table

    from jet.deliveries import open_deliveries
    from jet.delivery_states import deliveries, status_of
    from jet.drivers.console import console
    from jet.drivers.subscribers import subscribers

    settings = load_settings()
    db_url = settings.db_url
    for subscriber in subscribers(settings):  # events no dispatcher has looked at yet are pending
        open_deliveries(db_url, subscriber)
    rows = deliveries(db_url, status, account, limit)
    if as_json:
        for d, e in rows:
            record = {
                "event": e.id, "topic": e.topic, "account": e.account_id,
                "created_at": e.created_at.isoformat(), "subscriber": d.subscriber,
                "status": status_of(d), "attempts": d.attempts, "outcome": d.outcome,
                "next_attempt_at": d.next_attempt_at and d.next_attempt_at.isoformat(),
            }  # fmt: skip
            click.echo(json.dumps(record))
        return
    table = Table(title_justify="left")
    for column in ("event", "topic", "account", "subscriber", "status", "tries", "outcome"):
        table.add_column(column, overflow="fold")
    for d, e in rows:
        table.add_row(str(e.id), e.topic, e.account_id or "-", d.subscriber, status_of(d),
                      str(d.attempts), d.outcome or "")  # fmt: skip
    console.print(table if rows else "no deliveries")


@events.command("retry")
@click.argument("event_id", metavar="ID", type=int)
@click.option("--subscriber", default=None, help="Only this subscriber's delivery.")
def events_retry(event_id: int, subscriber: str | None) -> None:
    """Make event ID's dead or failed deliveries due now, with their attempts counted
    afresh (after fixing what made them fail). Exit 1 if the event has none."""
    from jet.delivery_states import retry

    again = retry(load_settings().db_url, event_id, subscriber)
    if not again:
        click.secho(f"event {event_id} has no dead or failed delivery", fg="red", err=True)
        sys.exit(1)
    click.echo(f"{again} deliveries of event {event_id} are due again")


@events.command("dispatch")
@click.option("--forever", is_flag=True, help="Keep delivering until SIGTERM or Ctrl-C.")
@click.option("--every", default=2.0, show_default=True, type=click.FloatRange(0.1),
              help="Seconds between passes, with --forever.")  # fmt: skip
def events_dispatch(forever: bool, every: float) -> None:
    """Deliver the events that are due to every subscriber, once or --forever.

    Exits 1 if a delivery failed (it is retried later), died, or was refused (a NAK)."""
    from jet.deliveries import describe, dispatch
    from jet.drivers.subscribers import subscribers

    settings = load_settings()
    if forever:
        _forever(settings, every)
        return
    reports = dispatch(settings, subscribers(settings))
    for report in reports:
        click.echo(describe(report))
    if not reports:
        click.echo("nothing to deliver")
    if any(r.went_wrong for r in reports):
        sys.exit(1)


def _forever(settings, every: float) -> None:
    import logging
    import signal
    import threading

    from ingest.stopping import exit_after
    from jet.deliveries import dispatch_forever
    from jet.drivers.subscribers import subscribers

    log_to_stderr()
    stop = threading.Event()

    def stopping(*_) -> None:
        if not stop.is_set():
            stop.set()
            exit_after("the event dispatcher")  # a delivery may be waiting on a NAS

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, stopping)
    dispatch_forever(settings, subscribers(settings), every, stop, logging.getLogger("jet.events"))
