"""Accounts files for `jet import accounts` of any size, as an operator moving over from
another system would have them: companies (with an ABN) whose cost-centres hold users on
the business plan, and people at home on the home plan, with phones and addresses.
About every other company's rows come children first, since a parent may be anywhere in
the file. Used by tests/integration/test_account_import.py and bench/."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from pathlib import Path

from jet.account_import import COLUMNS

ABN = "51 824 753 556"  # a valid Australian Business Number (the ATO's example)
FIRST_DAY = date(2026, 1, 1)  # the acme catalog's first day (examples/catalogs/acme.yaml)
USERS = 8  # per cost-centre
CENTRES = 2  # per company


def account_rows(n: int, realm: str = "acme") -> Iterator[dict[str, str]]:
    """`n` rows: of every 50, a company with two cost-centres of eight users each (19),
    and 31 people."""
    for group in range((n + 49) // 50):
        rows = _company(group, realm) + [_person(group, k, realm) for k in range(31)]
        yield from rows[: n - 50 * group]


def write_csv(path: Path, rows: Iterable[dict[str, str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        out = csv.DictWriter(f, COLUMNS)
        out.writeheader()
        out.writerows(rows)
    return path


def _company(group: int, realm: str) -> list[dict[str, str]]:
    company = f"co{group:06d}"
    rows = [
        _row(company, f"Company {group} Pty Ltd", realm, kind="company", tax_id=ABN,
             country="AU", delivery="paper", address=f"{group} Harbour St, Sydney")
    ]  # fmt: skip
    for c in range(CENTRES):
        centre = f"{company}-cc{c}"
        rows.append(
            _row(centre, f"Company {group} centre {c}", realm, kind="company", parent=company)
        )
        for u in range(USERS):
            login = f"{centre}-u{u}"
            rows.append(_row(login, f"User {u} of {centre}", realm, parent=centre,
                             plan="business", plan_from=_day(group + u)))  # fmt: skip
    return rows[::-1] if group % 2 else rows  # children first in every other company


def _person(group: int, k: int, realm: str) -> dict[str, str]:
    return _row(f"p{group:06d}-{k:02d}", f"Person {group} {k}", realm, plan="home",
                plan_from=_day(group * 31 + k), country="AU",
                phone=f"+61 4{group % 100:02d} {k:03d} {group % 1000:03d}",
                address=f"{k} Wattle Rd, Fitzroy VIC 3065")  # fmt: skip


def _row(login: str, name: str, realm: str, **values: str) -> dict[str, str]:
    return {"login": login, "name": name, "email": f"{login}@example.net", "realm": realm} | values


def _day(n: int) -> str:
    return (FIRST_DAY + timedelta(days=n % 180)).isoformat()
