"""The `ldap` action: keeps the account's entry in a directory (ldap3). On every event the
entry is made to match the account as it is now: added if missing, else its attributes
replaced (an attribute rendered empty is removed), so a repeated delivery changes nothing;
a closed account's entry is deleted (one already gone is done). The bind password is read
from the environment variable `password_env`. The directory's refusal (no right to write,
a value its schema rejects) is final; an unreachable server is tried again."""

from __future__ import annotations

import os
from typing import Any, ClassVar, Literal

import ldap3
from ldap3.core.exceptions import LDAPException
from pydantic import Field

from jet.config import Settings
from jet.deliveries import Delivered, Failed, Result
from jet.provisioning.hook_base import Action, HookBase

_NO_SUCH_OBJECT = 32
_TRY_AGAIN = {51, 52, 53, 80}  # busy, unavailable, unwilling to perform, other


class LdapHook(HookBase):
    fixed: ClassVar[frozenset[str]] = frozenset({"url", "bind_dn", "password_env"})

    action: Literal["ldap"]
    url: str  # ldap://host:389 or ldaps://host:636
    bind_dn: str
    password_env: str
    dn: str  # template, e.g. uid={{ account.id }},ou=people,dc=example,dc=org
    object_classes: tuple[str, ...] = ("inetOrgPerson",)
    attributes: dict[str, Any] = {}  # templates; a list is a multi-valued attribute
    timeout: float = Field(default=10.0, gt=0, le=120)

    def runner(self, settings: Settings) -> Action:
        return keep_entry

    @property
    def target(self) -> str:
        return self.url


def keep_entry(hook: LdapHook, params: dict[str, Any], context: dict) -> Result:
    password = os.environ.get(hook.password_env)
    if not password:
        return Failed(f"{hook.password_env} is not set: the bind password")
    dn, account = params["dn"], context["account"]
    wanted = params["attributes"]
    try:
        server = ldap3.Server(hook.url, connect_timeout=int(hook.timeout))
        with ldap3.Connection(
            server, hook.bind_dn, password, auto_bind=True, receive_timeout=int(hook.timeout)
        ) as conn:
            if account is None or account["status"] == "closed":
                conn.delete(dn)
                done = "deleted"
            elif conn.search(dn, "(objectClass=*)", ldap3.BASE, attributes=[]):
                changes = {
                    name: [(ldap3.MODIFY_REPLACE, _values(value))] for name, value in wanted.items()
                }
                conn.modify(dn, changes)
                done = "updated"
            else:
                present = {k: _values(v) for k, v in wanted.items() if _values(v)}
                conn.add(dn, list(hook.object_classes), present)
                done = "added"
            code, said = conn.result["result"], conn.result["description"]
    except LDAPException as e:
        return Failed(f"{type(e).__name__}: {e}"[:400])
    if code == 0 or (done == "deleted" and code == _NO_SUCH_OBJECT):
        return Delivered(f"{done} {dn}")
    if code in _TRY_AGAIN:
        return Failed(f"{done} {dn}: {said}")
    return Delivered(f"refused ({said}): {dn}"[:400], refused=True)


def _values(value: Any) -> list[str]:
    """An attribute's values: a list as its items, one value as itself; empty ones left out."""
    items = value if isinstance(value, list) else [value]
    return [str(v) for v in items if v not in (None, "")]
