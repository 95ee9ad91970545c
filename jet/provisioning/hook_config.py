"""A realm's hooks file: which events trigger which action with which parameters. Read
and checked whole before any hook runs; every problem is named by its key path
(`hooks[2].url`), as a catalog's are."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Union, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from jet.config import Settings
from jet.errors import JetError
from jet.provisioning.hook_command import CommandHook
from jet.provisioning.hook_freeradius_sql import FreeradiusSqlHook
from jet.provisioning.hook_ftp import FtpHook
from jet.provisioning.hook_http import HttpHook
from jet.provisioning.hook_ldap import LdapHook
from jet.provisioning.hook_smtp import SmtpHook
from jet.provisioning.hook_sql import SqlHook
from jet.provisioning.hook_ssh import SshHook
from jet.provisioning.hook_templates import template_problems
from jet.provisioning.hook_users_file import RadiusUsersFileHook


class HookError(JetError):
    def __init__(self, source: str, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        lines = "\n".join(f"  {where}: {what}" for where, what in problems)
        super().__init__(f"{source}: {len(problems)} problem(s), nothing was changed\n{lines}")


# Every action, by the model of its hooks (each in the module that runs it).
HOOKS = (
    HttpHook,
    CommandHook,
    FreeradiusSqlHook,
    RadiusUsersFileHook,
    SqlHook,
    SmtpHook,
    FtpHook,
    SshHook,
    LdapHook,
)
ACTIONS = tuple(get_args(h.model_fields["action"].annotation)[0] for h in HOOKS)
FIXED = {action: hook.fixed for action, hook in zip(ACTIONS, HOOKS, strict=True)}
Hook = Annotated[Union[HOOKS], Field(discriminator="action")]  # noqa: UP007 (a tuple of models)


class HookFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    hooks: tuple[Hook, ...] = ()


def hooks_dir(settings: Settings) -> Path:
    return settings.root / "hooks"


def parse_hooks(text: str, source: str) -> HookFile:
    """A hooks document checked whole: its YAML, its keys and types, unique names, and
    every template (it must parse and use only the event, the account and the realm)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise HookError(source, [("(document)", f"not YAML: {e}")]) from None
    problems = _raw_problems(data)
    try:
        parsed = HookFile.model_validate(data if data is not None else {})
    except ValidationError as exc:
        problems = [(_path(e["loc"]), _message(e)) for e in exc.errors()] + problems
    if problems:
        raise HookError(source, problems)
    return parsed


def _raw_problems(data: Any) -> list[tuple[str, str]]:
    """What the models do not check, read from the document itself so that a hook with
    a wrong key still has its templates checked: names used twice, templates that do
    not parse or name what a hook cannot know."""
    items = data.get("hooks") if isinstance(data, dict) else None
    problems: list[tuple[str, str]] = []
    seen: set[str] = set()
    for i, item in enumerate(items if isinstance(items, list) else []):
        if not isinstance(item, dict):
            continue
        if item.get("name") in seen:
            problems.append((f"hooks[{i}].name", f"{item['name']} names another hook too"))
        seen.add(item.get("name"))
        fixed = FIXED.get(item.get("action"), frozenset())
        for key, value in item.items():
            if key not in ("name", "events", "action") and key not in fixed:
                problems += template_problems(value, f"hooks[{i}].{key}")
    return problems


def realm_hooks(settings: Settings) -> dict[str, tuple[Hook, ...]]:
    """Every realm's hooks, from `$JET_HOME/hooks/<realm>.yaml`."""
    folder = hooks_dir(settings)
    return (
        {
            path.stem: parse_hooks(path.read_text(), str(path)).hooks
            for path in sorted(folder.glob("*.yaml"))
        }
        if folder.is_dir()
        else {}
    )


def _path(loc: tuple) -> str:
    """("hooks", 1, "http", "url") -> "hooks[1].url" (the action's tag left out)."""
    parts = [str(loc[0])] if loc else ["(document)"]
    for i, part in enumerate(loc[1:], 1):
        if isinstance(part, int):
            parts.append(f"[{part}]")
        elif not (i == 2 and part in ACTIONS):
            parts.append(f".{part}")
    return "".join(parts)


def _message(error: dict) -> str:
    kind, message = error["type"], error["msg"]
    if kind == "value_error":
        return message.removeprefix("Value error, ")
    if kind == "missing":
        return "required, but missing"
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "union_tag_invalid":
        return f"unknown action {error['input'].get('action')!r}; expected {', '.join(ACTIONS)}"
    if kind == "union_tag_not_found":
        return f"needs an action: {', '.join(ACTIONS)}"
    return f"{message.replace('Input should be ', 'expected ', 1)}, got {error['input']!r}"
