"""`jet import line-items`: external charges and credits from a CSV file, all or nothing."""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from ingest.csv.line_items import LineItemsError, read_line_items
from jet.accounts import add_accounts
from jet.catalog import load_catalog_file
from jet.cli import main
from jet.config import PROJECT_ROOT
from jet.realms import store_catalog
from jet.store.db import session
from jet.store.models import LineItem

HEADER = "account,date,description,amount,taxable\n"

GOOD = (
    HEADER
    + "alice,2026-02-10,Static IP block /29,15.00,true\n"
    + 'bob,2026-02-12,"Install fee, contractor",120.123456,no\n'
    + "alice,2026-02-20,Goodwill credit,-10.50,\n"
)


@pytest.fixture
def store(settings):
    """The acme realm with accounts alice and bob."""
    catalog = load_catalog_file(PROJECT_ROOT / "examples" / "catalogs" / "acme.yaml")
    with session(settings.db_url) as s:
        store_catalog(s, catalog, "acme.yaml")
        add_accounts(
            s, catalog.realm.id, [{"id": "alice", "name": "Alice"}, {"id": "bob", "name": "Bob"}]
        )
    return settings


def _write(tmp_path: Path, text: str, name: str = "items.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode())
    return path


def _import(path: Path):
    return CliRunner().invoke(main, ["import", "line-items", str(path)])


def _items(settings) -> list[LineItem]:
    with session(settings.db_url) as s:
        return list(s.scalars(select(LineItem).order_by(LineItem.source_line)))


def _count(settings) -> int:
    with session(settings.db_url) as s:
        return s.scalar(select(func.count()).select_from(LineItem))


def test_read_gives_exact_decimals_and_taxable_flags(tmp_path):
    rows = read_line_items(_write(tmp_path, GOOD))
    assert [(r.line, r.account, r.date, r.description, r.amount, r.taxable) for r in rows] == [
        (2, "alice", date(2026, 2, 10), "Static IP block /29", Decimal("15.00"), True),
        (3, "bob", date(2026, 2, 12), "Install fee, contractor", Decimal("120.123456"), False),
        (4, "alice", date(2026, 2, 20), "Goodwill credit", Decimal("-10.50"), True),
    ]
    assert all(isinstance(r.amount, Decimal) for r in rows)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("true", True),
        ("TRUE", True),
        ("yes", True),
        ("1", True),
        ("", True),
        ("false", False),
        ("No", False),
        ("0", False),
    ],
)
def test_taxable_spellings(tmp_path, value, expected):
    rows = read_line_items(_write(tmp_path, HEADER + f"alice,2026-02-10,Fee,1.00,{value}\n"))
    assert rows[0].taxable is expected


def test_import_stores_every_row_exactly(store, tmp_path):
    path = _write(tmp_path, GOOD)
    result = _import(path)
    assert result.exit_code == 0, result.output
    assert result.output == f"imported 3 line items from {path}\n"

    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    items = _items(store)
    assert [
        (i.account_id, i.item_date, i.description, i.amount, i.taxable, i.source, i.source_line)
        for i in items
    ] == [
        (
            "alice",
            date(2026, 2, 10),
            "Static IP block /29",
            Decimal("15.00"),
            True,
            f"items.csv#sha256:{digest}",
            2,
        ),
        (
            "bob",
            date(2026, 2, 12),
            "Install fee, contractor",
            Decimal("120.123456"),
            False,
            f"items.csv#sha256:{digest}",
            3,
        ),
        (
            "alice",
            date(2026, 2, 20),
            "Goodwill credit",
            Decimal("-10.50"),
            True,
            f"items.csv#sha256:{digest}",
            4,
        ),
    ]
    assert all(isinstance(i.amount, Decimal) for i in items)


def test_importing_the_same_file_twice_loads_it_once(store, tmp_path):
    path = _write(tmp_path, GOOD)
    assert _import(path).exit_code == 0
    again = _import(path)
    assert again.exit_code == 0, again.output
    assert again.output == f"already imported: {path}\n"
    assert _count(store) == 3


def test_a_changed_file_is_a_new_import(store, tmp_path):
    assert _import(_write(tmp_path, GOOD)).exit_code == 0
    changed = _write(tmp_path, HEADER + "bob,2026-03-02,Static IP block /30,7.50,yes\n")
    result = _import(changed)
    assert result.output == f"imported 1 line items from {changed}\n"
    assert _count(store) == 4


def test_a_file_with_bad_rows_is_refused_whole(store, tmp_path):
    path = _write(
        tmp_path,
        HEADER
        + "alice,2026-02-10,Static IP block /29,15.00,true\n"  # 2 good
        + "bob,2026-02-10,Install fee,12,50,true\n"  # 3 decimal comma: 6 columns
        + "bob,2026-02-11,Install fee,120.00,no\n"  # 4 good
        + "alice,2026-02-30,Static IP block /29,15.00,true\n"  # 5 no such day
        + "alice,2026-02-12,Static IP block /29,15.00,maybe\n"  # 6 bad taxable
        + "bob,2026-02-13,Credit,-5.00,no\n",  # 7 good
    )
    result = _import(path)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"{path}: refused, nothing was imported",
        "  line 3: expected 5 columns (account,date,description,amount,taxable), got 6; "
        "quote a description that holds a comma",
        "  line 5: date '2026-02-30' is not a calendar date; expected YYYY-MM-DD",
        "  line 6: taxable 'maybe' is not a yes or no; "
        "expected true/false, yes/no, 1/0 or empty (true)",
    ]
    assert _count(store) == 0


def test_the_refusal_is_red_on_stderr(store, tmp_path):
    path = _write(tmp_path, HEADER + "alice,2026-02-10,Fee,abc,true\n")
    result = CliRunner().invoke(main, ["import", "line-items", str(path)], color=True)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"\x1b[31m{path}: refused, nothing was imported")


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (",2026-02-10,Fee,1.00,true", "account is empty; expected the id of an account"),
        ("alice,10/02/2026,Fee,1.00,true", "date '10/02/2026' is not a date; expected YYYY-MM-DD"),
        ("alice,20260210,Fee,1.00,true", "date '20260210' is not a date; expected YYYY-MM-DD"),
        ("alice,2026-02-10,,1.00,true", "description is empty"),
        ("alice,2026-02-10," + "x" * 201 + ",1.00,true", "description has 201 characters"),
        ('alice,2026-02-10,Fee,"12,50",true', "amount '12,50' is not a decimal number"),
        ("alice,2026-02-10,Fee,abc,true", "amount 'abc' is not a decimal number"),
        ("alice,2026-02-10,Fee,1e3,true", "amount '1e3' is not a decimal number"),
        ("alice,2026-02-10,Fee,NaN,true", "amount 'NaN' is not a decimal number"),
        ("alice,2026-02-10,Fee,,true", "amount '' is not a decimal number"),
        ("alice,2026-02-10,Fee,1.1234567,true", "amount '1.1234567' has 7 decimal places"),
        ("alice,2026-02-10,Fee,1000000000000,true", "amount '1000000000000' is too large"),
        ("alice,2026-02-10,Fee,1.00,y", "taxable 'y' is not a yes or no"),
        ("alice,2026-02-10,Fee,1.00", "expected 5 columns"),
    ],
)
def test_each_bad_value_is_named_with_its_line(tmp_path, row, reason):
    path = _write(tmp_path, HEADER + "alice,2026-02-10,Fee,1.00,true\n" + row + "\n")
    with pytest.raises(LineItemsError) as refused:
        read_line_items(path)
    first, *rest = str(refused.value).splitlines()
    assert first == f"{path}: refused, nothing was imported"
    assert len(rest) == 1 and rest[0].startswith(f"  line 3: {reason}")


def test_every_problem_of_a_row_is_on_its_line(tmp_path):
    path = _write(tmp_path, HEADER + ",2026-13-01,,1e3,maybe\n")
    with pytest.raises(LineItemsError) as refused:
        read_line_items(path)
    assert refused.value.problems == [
        (
            2,
            "account is empty; expected the id of an account; "
            "date '2026-13-01' is not a calendar date; expected YYYY-MM-DD; "
            "description is empty; expected what the charge is for; "
            "amount '1e3' is not a decimal number; expected digits with a point and at most "
            "6 decimal places, such as 15.00 or -10.50 for a credit; "
            "taxable 'maybe' is not a yes or no; expected true/false, yes/no, 1/0 or empty (true)",
        )
    ]


def test_an_unknown_account_is_refused_with_its_line(store, tmp_path):
    path = _write(
        tmp_path,
        HEADER
        + "alice,2026-02-10,Static IP block /29,15.00,true\n"
        + "carol,2026-02-11,Install fee,120.00,no\n"
        + "bob,2026-02-12,Install fee,120.00,no\n",
    )
    result = _import(path)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{path}: refused, nothing was imported",
        "  line 3: account 'carol' does not exist; expected the id of an account in the store "
        "(add the account first, or correct the id)",
    ]
    assert _count(store) == 0


def test_unknown_accounts_are_listed_with_the_other_bad_rows(store, tmp_path):
    path = _write(
        tmp_path,
        HEADER + "carol,2026-02-11,Install fee,abc,no\nalice,2026-02-10,Fee,1.1234567,true\n",
    )
    result = _import(path)
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 3
    assert lines[1].startswith("  line 2: amount 'abc' is not a decimal number")
    assert "account 'carol' does not exist" in lines[1]
    assert lines[2].startswith("  line 3: amount '1.1234567' has 7 decimal places")


def test_a_credit_is_accepted(store, tmp_path):
    path = _write(tmp_path, HEADER + "bob,2026-02-03,Outage credit,-25.000001,false\n")
    result = _import(path)
    assert result.exit_code == 0, result.output
    [item] = _items(store)
    assert (item.amount, item.taxable) == (Decimal("-25.000001"), False)


def test_line_numbers_are_physical_lines(tmp_path):
    text = (
        "\ufeff"  # a spreadsheet's byte order mark
        + "account, date, description, amount, taxable\r\n"
        + 'alice,2026-02-10,"Two-line\r\ndescription",1.00,true\r\n'
        + "\r\n"
        + ",,,,\r\n"
        + "alice,2026-02-10,Fee,oops,true\r\n"
    )
    with pytest.raises(LineItemsError) as refused:
        read_line_items(_write(tmp_path, text))
    assert [line for line, _ in refused.value.problems] == [6]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "  line 1: the file is empty; expected the header line"),
        (HEADER, "  line 1: the file has no line items"),
        ("account,date,amount\nalice,2026-02-10,1.00\n", "  line 1: expected the header line"),
        (HEADER + 'alice,2026-02-10,"Fee,1.00,true\n', "  line 2: not readable as CSV"),
    ],
)
def test_a_file_that_is_not_a_line_items_file(tmp_path, text, message):
    with pytest.raises(LineItemsError) as refused:
        read_line_items(_write(tmp_path, text))
    assert str(refused.value).splitlines()[1].startswith(message)


def test_a_file_that_is_not_utf8(tmp_path):
    path = tmp_path / "items.csv"
    path.write_bytes(HEADER.encode() + "alice,2026-02-10,Caf\u00e9,1.00,true\n".encode("latin-1"))
    with pytest.raises(LineItemsError, match="line 2: the file is not UTF-8 text"):
        read_line_items(path)
