"""Resources. `JET_ENV` picks the resource set; every path comes from Jet's settings."""

from __future__ import annotations

import os
from pathlib import Path

from dagster import ConfigurableResource

from jet.config import Settings
from jet.warehouse import DBT_DIR


class JetResource(ConfigurableResource):
    """Jet's settings for assets; empty fields fall back to JET_HOME / JET_DATABASE_URL."""

    home: str = ""
    database_url: str = ""

    def settings(self) -> Settings:
        values = {
            k: v for k, v in {"home": self.home, "database_url": self.database_url}.items() if v
        }
        settings = Settings(**values)
        settings.export()
        return settings


# Where `dbt parse` writes the manifest the assets are defined from.
MANIFEST_PATH = DBT_DIR / "target" / "manifest.json"


def _manifest_is_stale() -> bool:
    if not MANIFEST_PATH.exists():
        return True
    built = MANIFEST_PATH.stat().st_mtime
    sources = [DBT_DIR / "dbt_project.yml", DBT_DIR / "profiles.yml"]
    for folder in ("models", "macros", "tests"):
        sources += (DBT_DIR / folder).rglob("*")
    return any(path.stat().st_mtime > built for path in sources if path.is_file())


def dbt_manifest() -> Path:
    """dbt's manifest, parsed again whenever the project changed since it was written
    (a fresh clone has none; a stale one would not know the project's tests)."""
    if _manifest_is_stale():
        from dbt.cli.main import dbtRunner

        args = ["--quiet", "parse", "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR)]
        if not dbtRunner().invoke(args).success:
            raise RuntimeError(f"dbt could not parse {DBT_DIR}; run `dbt parse` there to see why")
    return MANIFEST_PATH


def resources() -> dict:
    """The resource set named by JET_ENV (only `local` so far: SQLite, DuckDB, local disk)."""
    env = os.environ.get("JET_ENV", "local")
    if env != "local":
        raise ValueError(f"JET_ENV={env!r} is not a known resource set; use 'local'")
    return {"jet": JetResource()}
