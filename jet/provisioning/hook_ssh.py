"""The `ssh` action: one command run on a remote host (a provisioning script, a router's
CLI), with key authentication and the host's key pinned: a host that shows another key is
refused before anything is sent. `command` is a template whose every value is quoted for
the remote shell (`hook_templates.render_shell`), so nothing in an account's details can
become a command of its own. Exit 0 is delivered with the end of the output; any other
exit, an unreachable host or a key that does not match is tried again."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any, ClassVar, Literal

import paramiko
from pydantic import Field

from jet.config import Settings
from jet.deliveries import Delivered, Failed, Result
from jet.provisioning.hook_base import Action, HookBase

_KEPT = 300  # characters of output kept with the outcome


class SshHook(HookBase):
    fixed: ClassVar[frozenset[str]] = frozenset({"host", "port", "user", "key_file", "host_key"})
    shell: ClassVar[frozenset[str]] = frozenset({"command"})

    action: Literal["ssh"]
    host: str
    port: int = 22
    user: str
    key_file: Path  # the private key Jet logs in with
    host_key: str  # the host's public key, as in known_hosts: "ssh-ed25519 AAAA..."
    command: str
    timeout: float = Field(default=30.0, gt=0, le=600)

    def runner(self, settings: Settings) -> Action:
        return run_remote

    @property
    def target(self) -> str:
        return f"ssh://{self.user}@{self.host}:{self.port}"


def run_remote(hook: SshHook, params: dict[str, Any], context: dict) -> Result:
    client = paramiko.SSHClient()
    kind, _, key = hook.host_key.strip().partition(" ")
    name = hook.host if hook.port == 22 else f"[{hook.host}]:{hook.port}"
    try:
        client.get_host_keys().add(name, kind, paramiko.PKey.from_type_string(kind, _b64(key)))
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        client.connect(
            hook.host, hook.port, username=hook.user, key_filename=str(hook.key_file),
            timeout=hook.timeout, allow_agent=False, look_for_keys=False,
        )  # fmt: skip
        _, stdout, stderr = client.exec_command(params["command"], timeout=hook.timeout)
        status = stdout.channel.recv_exit_status()
        output = (stdout.read() + stderr.read()).decode(errors="replace").strip()[-_KEPT:]
    except paramiko.BadHostKeyException:
        return Failed(f"{hook.host} showed another host key than the pinned one: nothing sent")
    except paramiko.SSHException as e:
        return Failed(f"SSH: {e}"[:400])
    except (TimeoutError, OSError) as e:
        return Failed(f"{type(e).__name__}: {e}"[:400])
    finally:
        client.close()
    said = f"exit {status}" + (f": {output}" if output else "")
    return Delivered(said) if status == 0 else Failed(said)


def _b64(text: str) -> bytes:
    return base64.b64decode(text.split()[0])
