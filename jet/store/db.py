"""Engine, sessions and migrations of the operational store."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

ALEMBIC_DIR = Path(__file__).with_name("alembic")


@cache
def engine(url: str) -> Engine:
    """One engine per URL; SQLite runs in WAL mode with foreign keys on."""
    eng = create_engine(url)
    if eng.dialect.name == "sqlite":
        Path(eng.url.database).parent.mkdir(parents=True, exist_ok=True)

        @event.listens_for(eng, "connect")
        def _pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=10000")
            cur.close()

    return eng


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(ALEMBIC_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str) -> None:
    """Apply every migration not yet applied (safe to call on each start)."""
    eng = engine(url)
    with eng.begin() as connection:
        cfg = alembic_config(url)
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")


@contextmanager
def session(url: str, migrate: bool = True):
    """A transaction on the store: committed when the block ends, rolled back on error."""
    if migrate:
        with _migrating:  # threads that open their first session together migrate once
            _migrated(url)
    maker = sessionmaker(engine(url), expire_on_commit=False)
    with maker.begin() as s:
        yield s


_migrating = threading.Lock()


@cache
def _migrated(url: str) -> bool:
    upgrade(url)
    return True


__all__ = ["Session", "engine", "session", "upgrade", "alembic_config"]
