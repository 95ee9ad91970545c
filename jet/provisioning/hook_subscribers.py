"""Each configured hook as a subscriber of the outbox, named `hook:<realm>:<name>`: it
takes its topics' events of its realm's accounts (others are passed over as delivered),
renders its parameters for the event and runs its action."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from jinja2 import TemplateError

from jet.config import Settings
from jet.deliveries import Delivered, Failed, Result, Subscriber
from jet.provisioning.hook_base import Action
from jet.provisioning.hook_config import Hook, realm_hooks
from jet.provisioning.hook_templates import hook_context, render, render_shell
from jet.provisioning.radius_entry import AccountLookup
from jet.store.db import session
from jet.store.models import Event

BATCH = 50  # deliveries claimed and recorded together: a crash repeats at most these
_NOT_RENDERED = {"name", "events", "action", "timeout", "secret_env", "method"}


def hook_subscribers(settings: Settings) -> list[Subscriber]:
    return [
        _subscriber(settings, realm, hook)
        for realm, hooks in realm_hooks(settings).items()
        for hook in hooks
    ]


def _subscriber(settings: Settings, realm: str, hook: Hook) -> Subscriber:
    """Deliveries claimed and recorded BATCH at a time (an action that writes once per
    batch, the users file, sets its own `batch` and `flush`), each claim long enough for
    a batch of attempts that all time out; the batch's contexts read in one transaction."""
    action = hook.runner(settings)
    batch = getattr(action, "batch", BATCH)
    timeout = getattr(hook, "timeout", 30.0)
    contexts = _Contexts()
    return Subscriber(
        f"hook:{realm}:{hook.name}",
        frozenset(hook.events),
        partial(_deliver, realm, hook, action, contexts),
        claim=max(timedelta(minutes=2), timedelta(seconds=batch * timeout)),
        batch=batch,
        flush=getattr(action, "flush", None),
        prepare=contexts.prepare,
    )


class _Contexts:
    """The templates' contexts of a batch's events, read together before it is delivered:
    one transaction, a few queries (radius_entry.AccountLookup)."""

    def __init__(self) -> None:
        self._ready: dict[int, dict[str, Any]] = {}

    def prepare(self, settings: Settings, events: list[Event]) -> None:
        with session(settings.db_url) as s:
            ids = {e.account_id for e in events if e.account_id}
            lookup = AccountLookup(s, ids, datetime.now(UTC).date())
            self._ready = {e.id: hook_context(s, e, lookup) for e in events}

    def take(self, settings: Settings, event: Event) -> dict[str, Any]:
        ready = self._ready.pop(event.id, None)
        if ready is not None:
            return ready
        with session(settings.db_url) as s:
            return hook_context(s, event)


def rendered(hook: Hook, context: dict[str, Any]) -> dict[str, Any]:
    """The hook's parameters rendered for one event: what `jet hooks test` shows."""
    fields = hook.model_dump(exclude=_NOT_RENDERED | hook.fixed)
    return {
        key: render_shell(value, context) if key in hook.shell else render(value, context)
        for key, value in fields.items()
    }


def _deliver(
    realm: str,
    hook: Hook,
    action: Action,
    contexts: _Contexts,
    settings: Settings,
    event: Event,
    progress: dict,
) -> Result:
    context = contexts.take(settings, event)
    if context["realm"] != realm:
        return Delivered(f"not of realm {realm}: passed over")
    try:
        params = rendered(hook, context)
    except TemplateError as e:
        return Failed(f"template: {e}")
    return action(hook, params, context)
