"""Shared fixtures: every test gets its own JET_HOME; nothing touches ./var."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from jet.config import PROJECT_ROOT, Settings

os.environ.setdefault("DO_NOT_TRACK", "1")

# The golden scenarios: shared/golden beside the project (CI has it) and the copies
# shipped in examples/scenarios (a fresh clone has those). A name in both is one scenario.
GOLDEN_DIRS = [PROJECT_ROOT.parent / "shared" / "golden", PROJECT_ROOT / "examples" / "scenarios"]


def golden_files() -> list[Path]:
    found: dict[str, Path] = {}
    for folder in GOLDEN_DIRS:
        for path in sorted(folder.glob("*.yaml")):
            found.setdefault(path.name, path)
    return [found[name] for name in sorted(found)]


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("JET_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("JET_DATABASE_URL", raising=False)
    s = Settings()
    s.export()
    return s
