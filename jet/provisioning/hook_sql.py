"""The `sql` action: one parameterised statement on any database SQLAlchemy reaches (an
upsert into a partner's table, a stored procedure's call). The statement is fixed in the
hooks file; the account's details reach it only as bound parameters (`:name`), each a
template, so nothing a customer typed can change the SQL. The database is `url`, or the
URL in the environment variable `url_env`, so a password can stay out of the file."""

from __future__ import annotations

import os
from typing import Any, ClassVar, Literal

from pydantic import model_validator
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DataError, IntegrityError, ProgrammingError, SQLAlchemyError

from jet.config import Settings
from jet.deliveries import Delivered, Failed, Result
from jet.provisioning.hook_base import Action, HookBase


class SqlHook(HookBase):
    fixed: ClassVar[frozenset[str]] = frozenset({"url", "url_env", "statement"})

    action: Literal["sql"]
    url: str | None = None
    url_env: str | None = None
    statement: str
    parameters: dict[str, Any] = {}

    @model_validator(mode="after")
    def _one_database(self) -> SqlHook:
        if (self.url is None) == (self.url_env is None):
            raise ValueError("give the database as url or url_env (one of them)")
        return self

    def runner(self, settings: Settings) -> Action:
        return SqlStatement()

    @property
    def target(self) -> str:
        return self.url.split("@")[-1] if self.url else f"${self.url_env}"


class SqlStatement:
    """One engine (a connection pool) per hook, made at its first event."""

    def __init__(self) -> None:
        self._engine: Engine | None = None

    def __call__(self, hook: SqlHook, params: dict[str, Any], context: dict) -> Result:
        url = hook.url or os.environ.get(hook.url_env)
        if not url:
            return Failed(f"{hook.url_env} is not set: the database's URL")
        self._engine = self._engine or create_engine(url)
        try:
            with self._engine.begin() as con:
                done = con.execute(text(hook.statement), params["parameters"])
        except (IntegrityError, ProgrammingError, DataError) as e:
            # the database refused the statement (a constraint, a type): final, not retried
            return Delivered(f"refused: {e.orig}"[:400], refused=True)
        except SQLAlchemyError as e:  # unreachable, locked, timed out: tried again
            return Failed(f"{type(e).__name__}: {e}"[:400])
        return Delivered(f"{done.rowcount} row(s)" if done.rowcount >= 0 else "done")
