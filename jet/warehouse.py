"""Running the dbt project against the DuckDB warehouse, and reading published marts."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from jet.config import PROJECT_ROOT, Settings

if TYPE_CHECKING:
    from dbt.cli.main import dbtRunnerResult
    from dbt_common.events.base_types import EventMsg

DBT_DIR = PROJECT_ROOT / "dbt_project"

# What a draft invoice needs: the models upstream of the drafts, no tests, no artifacts.
DRAFTS_ONLY = "run --select +fct_invoice_drafts --no-write-json"

# The report models (dbt_project/models/marts/reports) and lineage (marts/lineage): built
# on demand by `jet report run`, `jet invoice explain` and their jobs, never by the rating
# path, which they would slow (docs/reports.md).
REPORTS = "path:models/marts/reports"
LINEAGE = "path:models/marts/lineage"


class WarehouseError(RuntimeError):
    pass


def dbt_target(settings: Settings) -> Path:
    """Where Jet's dbt runs write their artifacts (manifest, run results, sources.json)."""
    return settings.root / "dbt" / "target"


def dbt_args(settings: Settings, command: str) -> list[str]:
    """The dbt command line Jet uses everywhere: project, profiles and target under JET_HOME."""
    return [
        *command.split(),
        "--project-dir",
        str(DBT_DIR),
        "--profiles-dir",
        str(DBT_DIR),
        "--target-path",
        str(dbt_target(settings)),
    ]


def write_as_of(settings: Settings, as_of: str) -> None:
    """Write the last bill date to rate where the models read it as they run (the `as_of`
    macro), next to the ops snapshot. Not dbt `--vars`: a var that changes every run makes
    dbt parse the whole project again."""
    directory = settings.ops_snapshot
    directory.mkdir(parents=True, exist_ok=True)
    table = pa.table({"as_of": pa.array([date.fromisoformat(as_of)], pa.date32())})
    tmp = directory / ".as_of.parquet.tmp"
    pq.write_table(table, tmp)
    os.replace(tmp, directory / "as_of.parquet")


def invoke_dbt(
    settings: Settings,
    command: str,
    *args: str,
    quiet: bool = True,
    callbacks: Sequence[Callable[[EventMsg], None]] = (),
) -> dbtRunnerResult:
    """Run dbt in this process (no interpreter start-up per run) and return dbt's result:
    for commands whose failures are findings (`source freshness`), not errors. `args`
    follow the command (a selection); `callbacks` get each of dbt's events."""
    from dbt.cli.main import dbtRunner

    settings.export()
    start_over_if_models_changed(settings)
    os.environ.setdefault("DBT_LOG_PATH", str(settings.root / "dbt" / "logs"))
    flags = ["--quiet"] if quiet else []
    try:
        return dbtRunner(callbacks=list(callbacks)).invoke(
            [*flags, *dbt_args(settings, command), *args]
        )
    finally:
        _release_warehouse()


def start_over_if_models_changed(settings: Settings) -> None:
    """Delete a warehouse built by other SQL of the incremental models (an older Jet): dbt
    adds rows to an incremental table as it stands and cannot migrate its columns, and
    the warehouse is derived data, rebuilt from the lake and the store by the next run.
    The stamp beside it is a digest of those models' SQL and the macros they run."""
    sources = sorted(
        path
        for path in DBT_DIR.glob("models/**/*.sql")
        if "materialized='incremental'" in path.read_text(encoding="utf-8")
    )
    digest = hashlib.sha256()
    for path in [*sources, DBT_DIR / "macros" / "changes.sql"]:
        digest.update(path.read_bytes())
    stamp = settings.warehouse.with_name(settings.warehouse.name + ".models")
    if stamp.exists() and stamp.read_text() == digest.hexdigest():
        return
    drop_warehouse(settings)
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(digest.hexdigest())


def drop_warehouse(settings: Settings) -> None:
    """Delete the warehouse and its write-ahead log: the next run builds it from nothing."""
    for path in (
        settings.warehouse,
        settings.warehouse.with_name(settings.warehouse.name + ".wal"),
    ):
        path.unlink(missing_ok=True)


def _release_warehouse() -> None:
    """Close the DuckDB that dbt-duckdb keeps open for the life of the process (in a class
    attribute; it has no public way to close it), so that the next run, here or in
    another process, can lock the warehouse file."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    env, DuckDBConnectionManager._ENV = DuckDBConnectionManager._ENV, None
    if env is not None:
        env.close()


def run_dbt(settings: Settings, command: str = "build", quiet: bool = True) -> None:
    """Run dbt in this process; raise with dbt's reason."""
    result = invoke_dbt(settings, command, quiet=quiet)
    if not result.success:
        raise dbt_failure(command, result)


def build_on_demand(settings: Settings, models: Sequence[str]) -> None:
    """Build `models` built on demand (reports, lineage), and the on-demand models they
    read (rpt_realm_settlement reads rpt_traffic), with their data tests, on the warehouse
    the last rating run left; raise with dbt's reason."""
    start_over_if_models_changed(settings)  # a new Jet's models: rate again first
    if not settings.warehouse.exists():
        raise WarehouseError(
            "no billing or rating run yet, so no marts to report on: run `jet bill` or "
            "`jet rate` first"
        )
    chosen = [f"+{model},{folder}" for model in models for folder in (REPORTS, LINEAGE)]
    command = "build --exclude-resource-type unit_test --select " + " ".join(chosen)
    run_dbt(settings, command)


def build_docs(settings: Settings) -> Path:
    """dbt's documentation site (models, columns, tests and the lineage graph) as one
    self-contained page, `$JET_HOME/docs/index.html`, that opens from disk: with the
    column types of this home's warehouse when it has one, else from a scratch home."""
    start_over_if_models_changed(settings)
    out = settings.root / "docs" / "index.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    if settings.warehouse.exists():
        run_dbt(settings, "docs generate --static")
        shutil.copyfile(dbt_target(settings) / "static_index.html", out)
        return out
    with scratch_home() as scratch:
        run_dbt(scratch, "parse")  # the manifest, which generating without compiling reads
        run_dbt(scratch, "docs generate --static --empty-catalog --no-compile")
        shutil.copyfile(dbt_target(scratch) / "static_index.html", out)
    settings.export()  # the scratch run exported its own home
    return out


def dbt_failure(command: str, result: dbtRunnerResult) -> WarehouseError:
    """What failed in a dbt run, node by node, else dbt's own error."""
    failed = []
    for r in getattr(result.result, "results", None) or []:
        if str(r.status) in ("error", "fail"):
            failed.append(f"{r.node.name}: {r.message}")
    reason = "; ".join(failed) or str(result.exception)
    return WarehouseError(f"dbt {command} failed: {reason}")


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
    write_as_of(settings, as_of)
    run_dbt(settings, f"{command} --exclude {REPORTS} {LINEAGE}")


@contextmanager
def scratch_home() -> Iterator[Settings]:
    """A home to rate in and throw away, for simulations and previews. Its store is in a
    temporary folder; its lake and warehouse are in the same folder every time
    (dbt_project/target/scratch), held by one call at a time and emptied before and after
    but for dbt's parse cache: those two paths are part of dbt's profile, and when they
    change dbt parses the whole project again instead of reusing its last parse."""
    folder = DBT_DIR / "target" / "scratch"
    folder.mkdir(parents=True, exist_ok=True)
    with (
        (folder / ".lock").open("w") as lock,
        tempfile.TemporaryDirectory(prefix="jet-scratch-") as store,
    ):
        fcntl.flock(lock, fcntl.LOCK_EX)
        _empty_but_dbt(folder)
        try:
            yield Settings(home=folder, database_url=f"sqlite:///{store}/jet.db")
        finally:
            _empty_but_dbt(folder)


def _empty_but_dbt(folder: Path) -> None:
    for path in folder.iterdir():
        if path.name in ("dbt", ".lock"):
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()


def marts(settings: Settings) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with a view per published mart: never touches the warehouse file."""
    con = duckdb.connect()
    for path in sorted(Path(settings.marts).glob("*.parquet")):
        con.execute(f"create view {path.stem} as select * from read_parquet('{path}')")
    return con
