"""The `command` action: a local program run with its arguments (no shell, so nothing in
an account's details can become a command), an environment of the hook's variables plus
PATH and JET_EVENT (the event as JSON), and a time limit. Exit 0 is delivered; any other
exit, a program that is missing or one that outlives its limit is tried again. The
outcome keeps the exit code and the end of the output."""

from __future__ import annotations

import json
import os
import subprocess
from typing import Any, Literal

from pydantic import Field

from jet.config import Settings
from jet.deliveries import Delivered, Failed, Result
from jet.provisioning.hook_base import Action, HookBase

_KEPT = 300  # characters of output kept with the outcome


class CommandHook(HookBase):
    """Run a program with arguments (no shell), an environment and a time limit."""

    action: Literal["command"]
    argv: tuple[str, ...] = Field(min_length=1)
    env: dict[str, str] = {}
    timeout: float = Field(default=30.0, gt=0, le=600)

    def runner(self, settings: Settings) -> Action:
        return run_command

    @property
    def target(self) -> str:
        return " ".join(self.argv)


def run_command(hook: CommandHook, params: dict[str, Any], context: dict[str, Any]) -> Result:
    argv = params["argv"]
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        **params["env"],
        "JET_EVENT": json.dumps(context["event"], default=str),
    }
    try:
        done = subprocess.run(
            argv, env=env, capture_output=True, timeout=hook.timeout, stdin=subprocess.DEVNULL
        )
    except FileNotFoundError:
        return Failed(f"no program {argv[0]}")
    except subprocess.TimeoutExpired:
        return Failed(f"{argv[0]} still ran after {hook.timeout:g} s: stopped")
    output = (done.stdout + done.stderr).decode(errors="replace").strip()[-_KEPT:]
    said = f"exit {done.returncode}" + (f": {output}" if output else "")
    return Delivered(said) if done.returncode == 0 else Failed(said)
