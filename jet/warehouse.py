"""Running the dbt project against the DuckDB warehouse, and reading published marts."""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb

from jet.config import PROJECT_ROOT, Settings

DBT_DIR = PROJECT_ROOT / "dbt_project"


class WarehouseError(RuntimeError):
    pass


def dbt_args(settings: Settings, command: str, as_of: str | None = None) -> list[str]:
    """The dbt command line Jet uses everywhere: project, profiles and target under JET_HOME."""
    args = [
        command,
        "--project-dir",
        str(DBT_DIR),
        "--profiles-dir",
        str(DBT_DIR),
        "--target-path",
        str(settings.root / "dbt" / "target"),
    ]
    if as_of:
        args += ["--vars", json.dumps({"as_of": as_of})]
    return args


def run_dbt(
    settings: Settings, command: str = "build", as_of: str | None = None, quiet: bool = True
) -> None:
    """Run dbt in this process (no interpreter start-up per run); raise with dbt's reason."""
    from dbt.cli.main import dbtRunner

    settings.export()
    os.environ.setdefault("DBT_LOG_PATH", str(settings.root / "dbt" / "logs"))
    flags = ["--quiet"] if quiet else []
    result = dbtRunner().invoke([*flags, *dbt_args(settings, command, as_of)])
    if not result.success:
        failed = []
        for r in getattr(result.result, "results", None) or []:
            if str(r.status) in ("error", "fail"):
                failed.append(f"{r.node.name}: {r.message}")
        reason = "; ".join(failed) or str(result.exception)
        raise WarehouseError(f"dbt {command} failed: {reason}")


def rate(
    settings: Settings, as_of: str, command: str = "build", store: Settings | None = None
) -> None:
    """Snapshot the store (of `store`, default the same home) and run dbt up to `as_of`:
    the rating path without Dagster, for simulations, previews and tests."""
    from jet.snapshot import write_snapshot
    from jet.store.db import session
    from schemas.raw import write_schema_files

    write_schema_files(settings.raw)
    with session((store or settings).db_url) as s:
        write_snapshot(s, settings.ops_snapshot)
    run_dbt(settings, command, as_of=as_of)


def marts(settings: Settings) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with a view per published mart: never touches the warehouse file."""
    con = duckdb.connect()
    for path in sorted(Path(settings.marts).glob("*.parquet")):
        con.execute(f"create view {path.stem} as select * from read_parquet('{path}')")
    return con
