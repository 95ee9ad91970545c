"""`jet hooks`: check a realm's hooks file, list what is configured, and show what a hook
would send for an event without sending it (docs/hooks.md)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click

from jet.cli.common import load_settings


@click.group()
def hooks() -> None:
    """Provisioning hooks: $JET_HOME/hooks/<realm>.yaml."""


@hooks.command("check")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def hooks_check(file: Path) -> None:
    """Check FILE whole: YAML, keys, events, actions and every template; each problem is
    named by its key path. Nothing is sent or stored."""
    from jet.provisioning.hook_config import parse_hooks

    checked = parse_hooks(file.read_text(), str(file))
    click.echo(f"{file}: {len(checked.hooks)} hook(s), all well formed")
    for hook in checked.hooks:
        click.echo(f"  {hook.name}: {hook.action} on {', '.join(hook.events)}")


@hooks.command("list")
def hooks_list() -> None:
    """Every realm's hooks: action, events and target."""
    from jet.drivers.console import print_table
    from jet.provisioning.hook_config import realm_hooks

    rows = [
        (realm, h.name, h.action, ", ".join(h.events), h.target)
        for realm, configured in realm_hooks(load_settings()).items()
        for h in configured
    ]
    print_table(None, ["realm", "hook", "action", "events", "target"], rows)


@hooks.command("test")
@click.argument("topic")
@click.argument("account_id", metavar="ACCOUNT")
@click.option("--payload", default="{}", help="The event's payload, as JSON (default {}).")
def hooks_test(topic: str, account_id: str, payload: str) -> None:
    """Render what each hook of ACCOUNT's realm that takes TOPIC would send for such an
    event, from the account as stored now; nothing is sent and no event is stored."""
    from jet.errors import JetError
    from jet.provisioning.hook_base import HOOK_TOPICS
    from jet.provisioning.hook_config import realm_hooks
    from jet.provisioning.hook_subscribers import rendered
    from jet.provisioning.hook_templates import hook_context
    from jet.store.db import session
    from jet.store.models import Account, Event

    if topic not in HOOK_TOPICS:
        raise JetError(f"unknown event {topic}; hooks take: {', '.join(HOOK_TOPICS)}")
    settings = load_settings()
    event = Event(
        id=0, topic=topic, account_id=account_id, payload=json.loads(payload),
        created_at=datetime.now(UTC),
    )  # fmt: skip
    with session(settings.db_url) as s:
        account = s.get(Account, account_id)
        if account is None:
            raise JetError(f"no account {account_id}")
        context = hook_context(s, event)
    chosen = [h for h in realm_hooks(settings).get(account.realm_id, ()) if topic in h.events]
    if not chosen:
        click.echo(f"no hook of realm {account.realm_id} takes {topic}")
    for hook in chosen:
        click.echo(f"{hook.name} ({hook.action}) would send:")
        click.echo(json.dumps(rendered(hook, context), indent=2, default=str))
