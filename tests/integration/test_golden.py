"""Every golden scenario gives exactly its `expect` block through `jet simulate --json`."""

from __future__ import annotations

import json

import pytest
import yaml
from click.testing import CliRunner

from jet.cli import main
from tests.conftest import golden_files


def _canonical(invoices: list[dict]) -> list[dict]:
    """Invoices in a fixed order with their lines as a sorted list (line order is free)."""

    def text(value):
        return None if value is None else str(value)

    out = []
    for inv in invoices:
        lines = sorted(
            json.dumps({k: text(v) for k, v in line.items()}, sort_keys=True)
            for line in inv["lines"]
        )
        head = {k: text(v) for k, v in inv.items() if k != "lines"}
        out.append({**head, "lines": lines})
    return sorted(out, key=lambda inv: (inv["account"], inv["bill_date"]))


@pytest.mark.parametrize("path", golden_files(), ids=lambda p: p.stem)
def test_golden_scenario(path):
    expected = yaml.safe_load(path.read_text())["expect"]["invoices"]
    result = CliRunner().invoke(main, ["simulate", str(path), "--json"])
    assert result.exit_code == 0, result.output
    got = json.loads(result.output)["invoices"]
    assert _canonical(got) == _canonical(expected)


def test_golden_folder_is_found():
    assert len(golden_files()) >= 5
