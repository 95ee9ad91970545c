"""One `jet demo` home for the whole test session, for tests that only read what the demo
built (reports, lineage) or add models of their own to it: a demo takes about two minutes,
too long to make per module."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from jet.config import Settings

DEMO_ACCOUNTS = 60


@pytest.fixture(scope="session")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A home after `jet demo --accounts 60`; callers must not change its store."""
    home = tmp_path_factory.mktemp("demo") / "home"
    jet = Path(sys.executable).parent / "jet"
    subprocess.run(
        [str(jet), "demo", "--accounts", str(DEMO_ACCOUNTS)],
        env={"PATH": str(jet.parent) + ":/usr/bin:/bin", "JET_HOME": str(home), "HOME": str(home)},
        check=True,
        capture_output=True,
        timeout=900,
    )
    settings = Settings(home=home)
    settings.export()
    return settings
