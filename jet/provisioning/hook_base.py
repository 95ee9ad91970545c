"""What every hook has, whatever its action: a name, the events it takes, and the action
that runs it (`runner`, made once per dispatcher with the settings: an action may keep
connections)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from jet.config import Settings
from jet.deliveries import Result
from jet.outbox import TOPICS

# The topics a hook may take: the account's lifecycle, its usage and its money.
HOOK_TOPICS = (
    "account.created",
    "account.updated",
    "account.suspended",
    "account.reactivated",
    "account.closed",
    "password.changed",
    "plan.changed",
    "usage.threshold_crossed",
    "invoice.issued",
    "payment.recorded",
)
assert set(HOOK_TOPICS) <= set(TOPICS)

# (the hook, its parameters rendered for the event, the templates' context) -> outcome
Action = Callable[[Any, dict[str, Any], dict[str, Any]], Result]


class HookBase(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    # fields given as they are, never templates: where to connect, a file's path, SQL
    # (account details reach SQL only as bound parameters)
    fixed: ClassVar[frozenset[str]] = frozenset()
    # fields run by a shell: every value their templates put in is quoted for it
    shell: ClassVar[frozenset[str]] = frozenset()

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=40)
    events: tuple[str, ...] = Field(min_length=1)  # not `on`: YAML 1.1 reads that as true

    @field_validator("events")
    @classmethod
    def _topics(cls, events: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [t for t in events if t not in HOOK_TOPICS]
        if unknown:
            raise ValueError(
                f"unknown event {', '.join(unknown)}; expected some of: {', '.join(HOOK_TOPICS)}"
            )
        return events

    def runner(self, settings: Settings) -> Action:
        raise NotImplementedError

    @property
    def target(self) -> str:
        """Where it acts, for `jet hooks list`."""
        raise NotImplementedError
