"""The layers of docs/architecture.md hold, and a break of them fails the build.

`lint-imports` checks the contracts in pyproject.toml (`make lint`, run by `.ci/run`
before the tests). These tests show that the contracts cover every module of `jet`, that
the build runs them, and that an upward import breaks them."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from jet.config import PROJECT_ROOT

LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
CONFIG = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
ENTRY_POINTS = {"cli", "drivers"}


def _layers() -> list[str]:
    [layers] = [c["layers"] for c in CONFIG["contracts"] if c["type"] == "layers"]
    return layers


def _core() -> set[str]:
    [core] = [layer for layer in _layers() if "jet.config" in layer]
    return {name.strip().removeprefix("jet.") for name in core.split(":")}


def test_every_module_of_jet_is_in_a_layer() -> None:
    children = {
        path.stem if path.is_file() else path.name
        for path in (PROJECT_ROOT / "jet").iterdir()
        if (path.suffix == ".py" and path.stem != "__init__") or (path / "__init__.py").exists()
    }
    assert children - ENTRY_POINTS == _core(), (
        "add each new module of jet to the core layer in pyproject.toml "
        "(or put it under jet/cli or jet/drivers)"
    )


def test_every_package_is_a_root_of_the_contracts() -> None:
    packages = {p.parent.name for p in PROJECT_ROOT.glob("*/__init__.py")} - {"tests", "bench"}
    assert packages <= set(CONFIG["root_packages"])


def test_make_lint_runs_the_contracts_and_ci_runs_make_lint() -> None:
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    lint = makefile.split("\nlint:", 1)[1].split("\n\n", 1)[0]
    assert "lint-imports" in lint
    ci = (PROJECT_ROOT / ".ci" / "run").read_text().splitlines()
    assert ci.index("make lint") < ci.index("make test")


def test_an_upward_import_breaks_the_build(tmp_path: Path) -> None:
    """A copy of the code with the core importing a collector fails `lint-imports`,
    naming the import; the same copy without it passes."""
    for package in CONFIG["root_packages"]:
        shutil.copytree(
            PROJECT_ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("*.pyc")
        )
    shutil.copy(PROJECT_ROOT / "pyproject.toml", tmp_path)

    def lint() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [LINT_IMPORTS, "--no-cache"], cwd=tmp_path, capture_output=True, text=True
        )

    assert lint().returncode == 0
    money = tmp_path / "jet" / "money.py"
    money.write_text(money.read_text() + "\nimport ingest.landing  # noqa\n")
    broken = lint()
    assert broken.returncode == 1
    assert "Layers: entry points" in broken.stdout and "BROKEN" in broken.stdout
    assert "jet.money -> ingest.landing" in broken.stdout
