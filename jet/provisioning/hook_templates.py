"""Hook parameters as sandboxed Jinja2 templates over what a hook may know: `event` (id,
topic, account, at, payload), `account` (the account as the store holds it when the hook
runs: its RADIUS password, current plan and what a RADIUS server should answer included)
and `realm`. The sandbox refuses attribute access beyond plain data; a name not given is
an error, never an empty string."""

from __future__ import annotations

import shlex
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateSyntaxError, meta
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy.orm import Session

from jet.provisioning.radius_entry import AccountLookup, radius_entry
from jet.store.models import Account, Event

NAMES = frozenset({"event", "account", "realm"})
_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
# For commands a remote shell runs: each value a template puts in is one quoted word.
_SHELL = SandboxedEnvironment(
    undefined=StrictUndefined, finalize=lambda value: shlex.quote(str(value))
)


def template_problems(value: Any, where: str = "") -> list[tuple[str, str]]:
    """Each string in `value` that does not parse or names what a hook cannot know, as
    (key path below the parameter, what is wrong)."""
    if isinstance(value, str):
        try:
            unknown = meta.find_undeclared_variables(_ENV.parse(value)) - NAMES
        except TemplateSyntaxError as e:
            return [(where, f"template error: {e.message} (line {e.lineno})")]
        if unknown:
            return [(where, f"unknown name {', '.join(sorted(unknown))}; a template knows "
                            f"{', '.join(sorted(NAMES))}")]  # fmt: skip
        return []
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in template_problems(v, f"{where}.{k}")]
    if isinstance(value, list | tuple):
        return [p for i, v in enumerate(value) for p in template_problems(v, f"{where}[{i}]")]
    return []


@lru_cache(maxsize=1024)
def _compiled(source: str, shell: bool = False) -> Template:
    """A template compiled once: compiling costs more than rendering."""
    return (_SHELL if shell else _ENV).from_string(source)


def render_shell(source: str, context: dict[str, Any]) -> str:
    """A command line from a template, every value in it quoted for the shell."""
    return _compiled(source, shell=True).render(context)


def render(value: Any, context: dict[str, Any]) -> Any:
    """`value` with every string in it rendered (mappings and lists kept as they are)."""
    if isinstance(value, str):
        return _compiled(value).render(context)
    if isinstance(value, dict):
        return {k: render(v, context) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [render(v, context) for v in value]
    return value


def hook_context(s: Session, event: Event, lookup: AccountLookup | None = None) -> dict[str, Any]:
    """What a hook's templates see for `event` (`lookup`: its batch's accounts, read
    together; else its account is read alone)."""
    at = event.created_at if event.created_at.tzinfo else event.created_at.replace(tzinfo=UTC)
    if lookup is None:
        ids = {event.account_id} if event.account_id else set()
        lookup = AccountLookup(s, ids, datetime.now(UTC).date())
    account = lookup.accounts.get(event.account_id) if event.account_id else None
    return {
        "event": {
            "id": event.id,
            "topic": event.topic,
            "account": event.account_id,
            "at": at.isoformat(),
            "payload": event.payload,
        },
        "account": _account(lookup, account) if account else None,
        "realm": account.realm_id if account else None,
    }


def _account(lookup: AccountLookup, a: Account) -> dict[str, Any]:
    radius = radius_entry(lookup, a)
    return {
        "id": a.id,
        "realm": a.realm_id,
        "name": a.name,
        "kind": a.kind,
        "status": a.status,
        "email": a.email,
        "phone": a.phone,
        "address": a.address,
        "country": a.country,
        "parent": a.parent_id,
        "password": a.radius_password,
        "framed_ip": a.framed_ip,
        "expires": a.expires_at.isoformat() if a.expires_at else None,
        "prepaid": a.prepaid,
        "plan": radius.plan,
        # what a RADIUS server should answer: the Reply-Message of a refusal, else the
        # plan's reply attributes as [name, value] pairs
        "radius": {"refused": radius.refused, "reply": [list(pair) for pair in radius.reply]},
    }
