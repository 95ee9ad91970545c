"""The `freeradius_sql` action: keeps FreeRADIUS's own tables (radcheck, radreply,
radusergroup, as its schema.sql makes them) in step with Jet, so an ISP that keeps
FreeRADIUS in front of its NAS fleet uses Jet as the source of truth. Each event rewrites
the account's rows in one transaction from the account as it is now (idempotent: a
repeated delivery writes the same rows):

- active, on a plan, with a password: `Cleartext-Password := <password>`, the plan's
  reply attributes, and the plan as the user's group;
- refused (suspended, on hold for non-payment, expired, on no plan): `Auth-Type :=
  Reject` with the Reply-Message Jet's own server gives;
- closed, or no RADIUS password: no rows at all."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from jet.config import Settings
from jet.deliveries import Delivered, Failed, Result
from jet.provisioning.hook_base import Action, HookBase

TABLES = ("radcheck", "radreply", "radusergroup")


class FreeradiusSqlHook(HookBase):
    fixed: ClassVar[frozenset[str]] = frozenset({"url"})

    action: Literal["freeradius_sql"]
    url: str  # a SQLAlchemy URL of FreeRADIUS's database (sqlite:///..., postgresql+psycopg://...)
    user_name: str = "{{ account.id }}"

    def runner(self, settings: Settings) -> Action:
        return FreeradiusSql(self.url)

    @property
    def target(self) -> str:
        return self.url.split("@")[-1]  # never a password in the URL


def radius_rows(account: dict[str, Any]) -> dict[str, list[tuple[str, str]]]:
    """The account's (attribute, value) rows per table; none for a closed account or one
    with no RADIUS password."""
    radius = account["radius"]
    if account["status"] == "closed" or not account["password"]:
        return {table: [] for table in TABLES}
    if radius["refused"]:
        return {
            "radcheck": [("Auth-Type", "Reject")],
            "radreply": [("Reply-Message", radius["refused"])],
            "radusergroup": [],
        }
    return {
        "radcheck": [("Cleartext-Password", account["password"])],
        "radreply": [(name, str(value)) for name, value in radius["reply"]],
        "radusergroup": [(account["plan"], "1")],
    }


class FreeradiusSql:
    """One engine (a connection pool) per hook."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._engine: Engine | None = None

    def __call__(self, hook: FreeradiusSqlHook, params: dict[str, Any], context: dict) -> Result:
        account = context["account"]
        if account is None:
            return Delivered("no account: nothing to keep")
        user, rows = params["user_name"], radius_rows(account)
        self._engine = self._engine or create_engine(self._url)
        try:
            with self._engine.begin() as con:
                for table in TABLES:
                    con.execute(text(f"delete from {table} where username = :u"), {"u": user})
                insert = "insert into {} (username, attribute, op, value) values (:u, :a, ':=', :v)"
                for table in ("radcheck", "radreply"):
                    if rows[table]:
                        con.execute(
                            text(insert.format(table)),
                            [{"u": user, "a": a, "v": v} for a, v in rows[table]],
                        )
                if rows["radusergroup"]:
                    con.execute(
                        text("insert into radusergroup (username, groupname, priority) "
                             "values (:u, :g, :p)"),
                        [{"u": user, "g": g, "p": int(p)} for g, p in rows["radusergroup"]],
                    )  # fmt: skip
        except SQLAlchemyError as e:
            return Failed(f"{type(e).__name__}: {getattr(e, 'orig', e)}"[:400])
        kept = sum(len(r) for r in rows.values())
        return Delivered(f"{user}: {kept} row(s)" if kept else f"{user}: removed")
