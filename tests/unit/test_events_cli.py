"""`jet events`: listing deliveries by state, dispatching, and retrying what failed,
with the event feed as the subscriber (its folder blocked by a file, then freed)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from jet.cli import main
from jet.outbox import publish
from jet.store.db import session


def jet(*args: str):
    return CliRunner().invoke(main, list(args))


def listed(*options: str) -> list[tuple[int, str, str]]:
    """`jet events list --json`: event, subscriber and state of each delivery."""
    records = map(json.loads, jet("events", "list", "--json", *options).output.splitlines())
    return [(r["event"], r["subscriber"], r["status"]) for r in records]


def test_list_dispatch_and_retry(settings) -> None:
    with session(settings.db_url) as s:
        publish(s, "account.updated", "alice", {"account": "alice"})
        publish(s, "account.updated", "bob", {"account": "bob"})
    (settings.root / "events").write_text("in the way")
    assert listed() == [(2, "feed", "pending"), (1, "feed", "pending")]

    failed = jet("events", "dispatch")
    assert failed.exit_code == 1
    assert "event 1 account.updated (alice) to feed: failed, will retry: " in failed.output
    assert "FileExistsError" in failed.output
    assert listed("--status", "failed", "--account", "bob") == [(2, "feed", "failed")]
    assert jet("events", "list", "--status", "pending").output == "no deliveries\n"

    (settings.root / "events").unlink()
    assert jet("events", "dispatch").output == "nothing to deliver\n"  # backing off
    retried = jet("events", "retry", "1")
    assert retried.exit_code == 0 and retried.output == "1 deliveries of event 1 are due again\n"
    done = jet("events", "dispatch")
    assert done.exit_code == 0, done.output
    assert done.output.startswith("event 1 account.updated (alice) to feed: delivered")
    assert listed() == [(2, "feed", "failed"), (1, "feed", "delivered")]
    assert "│ delivered │" in jet("events", "list", "--status", "delivered").output

    again = jet("events", "retry", "1")
    assert again.exit_code == 1 and "event 1 has no dead or failed delivery" in again.output
    unknown = jet("events", "retry", "99")
    assert unknown.exit_code == 1 and "there is no event 99" in unknown.output
