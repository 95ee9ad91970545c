"""One settings object for the CLI, Dagster, dbt (through env vars) and the apps."""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Every path derives from `JET_HOME`; `JET_DATABASE_URL` moves the store to PostgreSQL."""

    model_config = SettingsConfigDict(env_prefix="JET_", frozen=True)

    home: Path = Path("var")
    database_url: str | None = None
    # The data contracts run on every billing and rating run; JET_QUALITY_CHECKS=false
    # skips them (to measure what they cost). What they recorded before still holds.
    quality_checks: bool = True
    # Great Expectations' validation results and their Data Docs pages are kept this many
    # days (hourly rating writes about 2 GB a year); the latest result of every check is
    # kept however old. The store's findings and waivers are not affected.
    quality_retention_days: int = Field(default=90, ge=1)
    # Where invoices and notices (reminders, usage warnings) are sent from and through:
    # JET_SMTP_HOST unset means no mail server, and they wait until one is set.
    # JET_SMTP_TLS=true upgrades the connection with STARTTLS; JET_SMTP_USER and
    # JET_SMTP_PASSWORD log in (docs/invoice-delivery.md).
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_tls: bool = False
    smtp_user: str | None = None
    smtp_password: str | None = None
    mail_from: str = "billing@localhost"

    @cached_property
    def root(self) -> Path:
        return self.home.expanduser().resolve()

    @property
    def lake(self) -> Path:
        return self.root / "lake"

    @property
    def raw(self) -> Path:
        return self.lake / "raw"

    @property
    def ops_snapshot(self) -> Path:
        return self.lake / "ops"

    @property
    def marts(self) -> Path:
        return self.lake / "marts"

    @property
    def profiles(self) -> Path:
        """The operator's usage-file profiles (`jet import usage --profile NAME`)."""
        return self.root / "profiles"

    @property
    def quarantine(self) -> Path:
        """Rows of imported usage files that could not be landed, with their reasons."""
        return self.root / "quarantine"

    @property
    def quality(self) -> Path:
        """Great Expectations' project: the suites, the validation results (see
        `quality_retention_days`), Data Docs."""
        return self.root / "quality"

    @property
    def quality_docs(self) -> Path:
        """The Data Docs site's index page: every validation, browsable as static HTML."""
        return self.quality / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse.duckdb"

    @property
    def pdf_dir(self) -> Path:
        return self.root / "invoices"

    @property
    def dagster_home(self) -> Path:
        return self.root / "dagster"

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.root / 'jet.db'}"

    def env(self) -> dict[str, str]:
        """The variables dbt's profiles.yml and Dagster read, derived from these settings."""
        return {
            "JET_HOME": str(self.root),
            "JET_LAKE": str(self.lake),
            "JET_WAREHOUSE": str(self.warehouse),
            "DAGSTER_HOME": str(self.dagster_home),
            # One "materialization planned" event per asset for a run over a range of bill
            # dates, not one per asset and day: ~1,200 SQLite commits (15-30 s) less per
            # monthly run. Dagster's opt-in; the cost: an asset's partition view does not
            # show a running or failed run's days as in progress or failed (the run does).
            "DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS": "true",
            "DO_NOT_TRACK": "1",
        }

    def export(self) -> None:
        """Put `env()` into this process so dbt and Dagster children agree with us."""
        os.environ.update(self.env())
        for path in (self.root, self.raw, self.ops_snapshot, self.marts, self.dagster_home):
            path.mkdir(parents=True, exist_ok=True)


def settings() -> Settings:
    return Settings()
