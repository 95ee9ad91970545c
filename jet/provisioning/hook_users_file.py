"""The `radius_users_file` action: keeps a FreeRADIUS `users` file (the `files` module)
in step with Jet, one entry per account, then has the server reload it. Entries are
those of `freeradius_sql` (hook_freeradius_sql.radius_rows) in the file's syntax, each
after a `# jet: <user>` line, kept in user order; lines before the first entry are the
site's own and stay. The file is written whole to a temporary file, synced and renamed
over the old one, once per batch of events, then `reload` runs (e.g. `systemctl reload
freeradius`, or `radmin -e "hup files"`): a reader never sees half a file. FreeRADIUS
ignores a module's reload within 2 s of its last one (and a SIGHUP rereads only the
files its own configuration names), so reloads are spaced RELOAD_GAP apart, by every
process that writes the file: the time of the last one is a stamp file's beside it."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, ClassVar, Literal

from jet.config import Settings
from jet.deliveries import Delivered, Result
from jet.provisioning.hook_base import Action, HookBase
from jet.provisioning.hook_freeradius_sql import radius_rows

MARK = "# jet: "
RELOAD_GAP = 3.0  # seconds between reloads: FreeRADIUS drops a module HUP within 2 s


class RadiusUsersFileHook(HookBase):
    fixed: ClassVar[frozenset[str]] = frozenset({"path", "reload"})

    action: Literal["radius_users_file"]
    path: Path
    reload: tuple[str, ...] = ()  # a program and its arguments, run after each write
    user_name: str = "{{ account.id }}"

    def runner(self, settings: Settings) -> Action:
        return UsersFile(self.path, self.reload)

    @property
    def target(self) -> str:
        return str(self.path)


def entry(user: str, account: dict[str, Any]) -> str | None:
    """The account's entry, or None if it has none (closed, no password)."""
    rows = radius_rows(account)
    if not rows["radcheck"]:
        return None
    check = ", ".join(f"{a} := {_value(v)}" for a, v in rows["radcheck"])
    replies = [f"\t{a} = {_value(v)}" for a, v in rows["radreply"]]
    return (
        f"{MARK}{user}\n{_value(user)}\t{check}\n" + ",\n".join(replies) + ("\n" if replies else "")
    )


def _value(value: str) -> str:
    """A number as it is, anything else quoted with `\\` and `"` escaped."""
    if value.isdigit():
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class UsersFile:
    """The file's entries, read once, changed per event, written once per batch."""

    batch = 500

    def __init__(self, path: Path, reload: tuple[str, ...]) -> None:
        self.path, self.reload = path, reload
        self._head: str | None = None
        self._entries: dict[str, str] = {}
        self._dirty = False

    def __call__(self, hook: RadiusUsersFileHook, params: dict[str, Any], context: dict) -> Result:
        account = context["account"]
        if account is None:
            return Delivered("no account: nothing to keep")
        if any(c in (account["password"] or "") for c in "\r\n\0"):
            return Delivered("its password has a line break: no users file can hold it",
                             refused=True)  # fmt: skip
        if self._head is None:
            self._read()
        user = params["user_name"]
        text = entry(user, account)
        if text is None:
            self._entries.pop(user, None)
        else:
            self._entries[user] = text
        self._dirty = True
        return Delivered(f"{user}: {'entry written' if text else 'entry removed'}")

    def flush(self) -> None:
        """Write the file and reload the server, if anything changed; raise if either
        fails (the batch's deliveries are then tried again)."""
        if not self._dirty:
            return
        body = self._head + "".join(self._entries[u] + "\n" for u in sorted(self._entries))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
        try:
            with os.fdopen(fd, "w") as f:
                f.write(body)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o640)  # passwords: the server's group may read, nobody else
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self._dirty = False
        if self.reload:
            stamp = self.path.with_name(f".{self.path.name}.reloaded")
            last = stamp.stat().st_mtime if stamp.exists() else 0.0
            time.sleep(max(0.0, last + RELOAD_GAP - time.time()))
            done = subprocess.run(self.reload, capture_output=True, timeout=30)
            stamp.touch()
            if done.returncode != 0:
                said = (done.stdout + done.stderr).decode(errors="replace").strip()[-200:]
                raise OSError(f"{' '.join(self.reload)} exited {done.returncode}: {said}")

    def _read(self) -> None:
        text = self.path.read_text() if self.path.exists() else ""
        self._head, mark, rest = text.partition(MARK)
        for chunk in (mark + rest).split(MARK)[1:]:
            user = chunk.split("\n", 1)[0]
            self._entries[user] = (MARK + chunk).rstrip("\n") + "\n"
