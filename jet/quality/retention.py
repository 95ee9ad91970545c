"""How long Great Expectations' validation results are kept: the last
`JET_QUALITY_RETENTION_DAYS` days, and the latest result of every check however old, so
that `jet quality status` and the Data Docs can always show where each check stands.

Results are removed through GX's validation results store; their Data Docs pages go
when the site's index is next built (GX drops the page of every result its store no
longer has), so pruning runs before a run builds its docs. GX leaves each removed file's
folder behind, empty (its `rrmdir` never removes one), so those folders are removed
here. Nothing outside `$JET_HOME/quality` is touched; the operational store (findings,
waivers) never is.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

Key = TypeVar("Key", bound=Hashable)


class RetentionError(RuntimeError):
    """The results store is not where pruning may delete."""


def expired(
    results: list[tuple[str, datetime, Key]],
    checks: Callable[[Key], set[str]],
    cutoff: datetime,
) -> list[Key]:
    """The results, `(suite, run time, key)`, that may go: older than `cutoff` and not
    the newest result of any check. `checks` reads a result's check names; it is called
    for each suite's newest result and for the old ones only, since reading every result
    of the window on every run would cost more than the pruning saves. An old result
    whose check only an unread newer one holds is kept until that one ages out too."""
    by_suite: dict[str, list[tuple[datetime, Key]]] = defaultdict(list)
    for suite, run_time, key in results:
        by_suite[suite].append((run_time, key))
    gone = []
    for found in by_suite.values():
        found.sort(key=lambda r: r[0], reverse=True)
        covered = checks(found[0][1])
        for run_time, key in found[1:]:
            if run_time >= cutoff:
                continue
            held = checks(key)
            if held <= covered:
                gone.append(key)
            else:
                covered |= held
    return gone


def prune(context, quality: Path, keep_days: int) -> list:
    """Remove the expired validation results of the file project `context`, whose root
    is `quality`, and their folders; returns their keys. Build the Data Docs afterwards
    to drop their pages from the site and its index, then `remove_empty_folders` of the
    site's validations."""
    store = context.validation_results_store
    folder = getattr(store.store_backend, "full_base_directory", None)
    if folder is None or not Path(folder).resolve().is_relative_to(quality.resolve()):
        raise RetentionError(
            f"Great Expectations keeps validation results in {folder or 'no folder'}, not "
            f"under {quality}; nothing was pruned. Point validation_results_store's "
            f"base_directory back under it in {quality / 'gx' / 'great_expectations.yml'}"
        )
    cutoff = datetime.now(UTC) - timedelta(days=keep_days)
    results = [
        (key.expectation_suite_identifier.name, key.run_id.run_time, key)
        for key in store.list_keys()
    ]
    gone = expired(results, lambda key: _checks(store.get(key)), cutoff)
    for key in gone:
        store.remove_key(key)
    remove_empty_folders(Path(folder), gone)
    return gone


def remove_empty_folders(base: Path, keys: list) -> None:
    """Remove the folders under `base` that held the results `keys` (`suite/run/time/`),
    and their parents below `base`, where empty. Another run may be writing or pruning
    the same folders: one that changed under us is left."""
    for key in keys:
        folder = base.joinpath(*key.to_tuple()[:-1])
        while folder != base and folder.is_relative_to(base):
            try:
                folder.rmdir()  # only ever removes an empty folder
            except OSError:
                break
            folder = folder.parent


def _checks(result) -> set[str]:
    """The checks a validation result holds, by the name jet gives them in each
    expectation's meta (validation._expectation)."""
    return {r.expectation_config.meta.get("check", "") for r in result.results}
