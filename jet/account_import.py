"""Many accounts at once, each with an optional plan: `jet import accounts` and the demo.

Every row goes through the checks of the one-account doors (`check_accounts`,
`subscription_problem` in `jet.accounts`) and is stored by their bulk halves
(`store_accounts`, `start_subscriptions`), so an imported account is the same as one
added by hand, audit entry and event included. All or nothing: one refused row refuses
the import, naming every refused row by its line in the file (the header is line 1).
Run again, an import adds nothing: an account stored with the same details is left as
it is, and so is a subscription to the same plan from the same day (docs/decisions.md,
"Account import")."""

from __future__ import annotations

import csv
import gc
import re
from array import array
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jet.accounts import (
    CHUNK,
    PROFILE,
    AccountError,
    check_accounts,
    start_subscriptions,
    store_accounts,
    subscription_problem,
)
from jet.audit import Actor
from jet.realms import RealmPlans
from jet.store.models import Account, Realm, Subscription

COLUMNS = ("login", *PROFILE, "realm", "plan", "plan_from")
LOGIN, REALM, PLAN, PLAN_FROM = (COLUMNS.index(c) for c in ("login", "realm", "plan", "plan_from"))
# Columns whose values repeat from row to row: held once, since an import holds every row.
_REPEATING = tuple(
    COLUMNS.index(c)
    for c in ("kind", "parent", "country", "delivery", "realm", "plan", "plan_from")
)
LISTED = 50  # refused rows an error lists; the rest are counted
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass
class RealmCounts:
    """What an import did in one realm."""

    accounts_added: int = 0
    accounts_there: int = 0  # stored already with the same details: left as they are
    subscriptions_added: int = 0
    subscriptions_there: int = 0  # the same account, plan and first day: left as they are


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why the row on `line` cannot be imported; `message` starts with the column."""

    line: int
    message: str


class ImportRefused(AccountError):
    """An import with refused rows: nothing was stored. `refusals` holds every one."""

    def __init__(self, refusals: list[Refusal]) -> None:
        self.refusals = sorted(refusals, key=lambda r: r.line)
        lines = len({r.line for r in self.refusals})
        shown = [f"  line {r.line}: {r.message}" for r in self.refusals[:LISTED]]
        if len(self.refusals) > LISTED:
            shown.append(f"  ... and {len(self.refusals) - LISTED} more")
        super().__init__(
            f"{lines} {'row' if lines == 1 else 'rows'} cannot be imported, so nothing was:\n"
            + "\n".join(shown)
            + "\ncorrect them and import the file again"
        )


@dataclass
class _Part:
    """One realm's rows: each one's line and values (in COLUMNS order)."""

    lines: array[int] = field(default_factory=lambda: array("l"))
    rows: list[tuple[str | None, ...]] = field(default_factory=list)


def import_accounts(
    s: Session, actor: Actor, rows: Iterable[Mapping[str, Any]], realm: str | None = None
) -> dict[str, RealmCounts]:
    """Add the accounts of `rows` (keys of COLUMNS with text values; a missing or empty
    one is not given) and subscribe those with a `plan` from `plan_from` (a date or
    YYYY-MM-DD), in `s`'s transaction; `realm` stands in for an empty `realm`. A row's
    `line` names it in refusals (default: its position + 2, as in a file with a header),
    and its `error`, if any, refuses it. ImportRefused lists every refused row, and
    nothing is stored. Returns what was added and what was there already, per realm."""
    with _without_cycle_collection():
        return _import(s, actor, rows, realm)


def _import(
    s: Session, actor: Actor, rows: Iterable[Mapping[str, Any]], realm: str | None
) -> dict[str, RealmCounts]:
    parts, refusals = _split(rows, realm)
    refusals += _across_realms(parts)
    counts: dict[str, RealmCounts] = {}
    accounts: dict[str, list[dict]] = {}
    subscriptions: list[tuple[str, str, date, None]] = []
    for realm_id, part in parts.items():
        counts[realm_id] = RealmCounts()
        accounts[realm_id] = _check_accounts(s, realm_id, part, counts[realm_id], refusals)
        if s.get(Realm, realm_id) is not None:  # else every row is refused already
            new = {row["id"] for row in accounts[realm_id]}
            subscriptions += _check_plans(s, realm_id, part, new, counts[realm_id], refusals)
        part.rows.clear()  # what is kept of them is in `accounts` and `subscriptions` now
    if refusals:
        raise ImportRefused(refusals)
    for realm_id, clean in accounts.items():
        store_accounts(s, realm_id, clean, actor)
    subscriptions.sort(key=lambda sub: sub[0])  # in login order, as the accounts
    start_subscriptions(s, actor, subscriptions)
    return counts


@contextmanager
def _without_cycle_collection() -> Iterator[None]:
    """No cyclic garbage collection while an import holds its rows: they hold no cycles,
    and each collection walked them all again (~40 % of an import of 100,000 rows)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def read_csv(path: Path) -> Iterator[dict[str, Any]]:
    """The rows of an accounts file: a header of COLUMNS' names (any order; only `login`
    is required), then a row per account, each given with its `line`; a row with another
    number of fields than the header carries an `error`. AccountError if the file
    cannot be read as such."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        try:
            names = [name.strip().lower() for name in next(reader, [])]
            unknown = [name for name in names if name not in COLUMNS]
            if unknown or "login" not in names or len(set(names)) < len(names):
                raise AccountError(
                    f"{path}: the header must name each column once, login among them "
                    f"(got: {', '.join(names) or 'nothing'}); the columns are " + ", ".join(COLUMNS)
                )
            end = reader.line_num
            for values in reader:
                line, end = end + 1, reader.line_num
                if not any(value.strip() for value in values):
                    continue  # a blank line
                row: dict[str, Any] = dict(zip(names, values, strict=False))
                row["line"] = line
                if len(values) != len(names):
                    row["error"] = (
                        f"has {len(values)} fields where the header has {len(names)}: "
                        "quote a value that holds a comma"
                    )
                yield row
        except UnicodeDecodeError:
            raise AccountError(
                f'{path} is not UTF-8 text: save it as UTF-8 (a spreadsheet\'s "CSV UTF-8")'
            ) from None
        except csv.Error as err:
            raise AccountError(f"{path}, line {reader.line_num}: {err}") from None


def _split(
    rows: Iterable[Mapping[str, Any]], realm: str | None
) -> tuple[dict[str, _Part], list[Refusal]]:
    """The rows by realm, held compactly, and those refused before any check."""
    parts: dict[str, _Part] = {}
    refusals: list[Refusal] = []
    shared: dict[str | None, str | None] = {}
    for i, row in enumerate(rows):
        line = int(row.get("line") or i + 2)
        if row.get("error"):
            refusals.append(Refusal(line, str(row["error"])))
            continue
        values = [value or None for value in map(row.get, COLUMNS)]
        if isinstance(values[PLAN_FROM], date):
            values[PLAN_FROM] = values[PLAN_FROM].isoformat()
        for k in _REPEATING:
            values[k] = shared.setdefault(values[k], values[k])
        named = values[REALM].strip() if values[REALM] else None
        if realm and named and named != realm:
            refusals.append(
                Refusal(line, f"realm: the row says {named}, but the import is for {realm}")
            )
            continue
        realm_id = named or realm
        if not realm_id:
            refusals.append(
                Refusal(line, "realm: give the account's realm (or one for the whole import)")
            )
            continue
        part = parts.setdefault(realm_id, _Part())
        part.lines.append(line)
        part.rows.append(tuple(values))
    return parts, refusals


def _check_accounts(
    s: Session, realm_id: str, part: _Part, counts: RealmCounts, refusals: list[Refusal]
) -> list[dict]:
    """The realm's accounts to add, parents first; refused rows go to `refusals`."""
    clean, bad = check_accounts(
        s,
        realm_id,
        (dict(zip(COLUMNS, row, strict=True)) for row in part.rows),
        same_is_added=True,
        where=lambda i: f"line {part.lines[i]}",
    )
    refusals += [Refusal(part.lines[b.index], b.message) for b in bad]
    counts.accounts_added = len(clean)
    counts.accounts_there = len(part.rows) - len({b.index for b in bad}) - len(clean)
    return clean


def _check_plans(
    s: Session,
    realm_id: str,
    part: _Part,
    new: set[str],
    counts: RealmCounts,
    refusals: list[Refusal],
) -> list[tuple[str, str, date, None]]:
    """The subscriptions of the realm's rows to start; those stored already are counted,
    refused ones go to `refusals`. The catalog is read once for all of them."""
    wanted: list[tuple[int, str, str, date]] = []
    days: dict[str, date | None] = {}
    for i, row in enumerate(part.rows):
        plan, start = ((row[k] or "").strip() or None for k in (PLAN, PLAN_FROM))
        if plan is None and start is None:
            continue
        line = part.lines[i]
        if start is None:
            refusals.append(Refusal(line, "plan_from: give the plan's first day (YYYY-MM-DD)"))
        elif plan is None:
            refusals.append(Refusal(line, f"plan: give the plan that starts on {start}"))
        elif (day := days.setdefault(start, _day(start))) is None:
            refusals.append(Refusal(line, f"plan_from: {start!r} is not a day: give YYYY-MM-DD"))
        else:
            wanted.append((line, (row[LOGIN] or "").strip(), plan, day))
    status, stored = _subscriptions(s, [login for _, login, _, _ in wanted if login not in new])
    plans = RealmPlans.load(s, realm_id)
    subscriptions = []
    for line, login, plan, day in wanted:
        if (login, plan, day) in stored:
            counts.subscriptions_there += 1
            continue
        state = status.get(login, "active")
        problem = subscription_problem(plans, login, state, plan, day, start_field="plan_from")
        if problem is not None:
            refusals.append(Refusal(line, problem[1]))
            continue
        subscriptions.append((login, plan, day, None))
    counts.subscriptions_added = len(subscriptions)
    return subscriptions


def _subscriptions(
    s: Session, logins: list[str]
) -> tuple[dict[str, str], set[tuple[str, str, date]]]:
    """The status of those of `logins` that are stored, and their subscriptions'
    (account, plan, first day)."""
    status: dict[str, str] = {}
    stored: set[tuple[str, str, date]] = set()
    for i in range(0, len(logins), CHUNK):
        chunk = logins[i : i + CHUNK]
        status.update(
            s.execute(select(Account.id, Account.status).where(Account.id.in_(chunk))).all()
        )
        stored.update(
            s.execute(
                select(
                    Subscription.account_id, Subscription.plan_id, Subscription.start_date
                ).where(Subscription.account_id.in_(chunk))
            ).tuples()
        )
    return status, stored


def _across_realms(parts: dict[str, _Part]) -> list[Refusal]:
    """A login given in two realms' rows (a login is unique in the whole store)."""
    if len(parts) < 2:
        return []
    rows = sorted(
        (line, realm_id, (row[LOGIN] or "").strip())
        for realm_id, part in parts.items()
        for line, row in zip(part.lines, part.rows, strict=True)
    )
    first: dict[str, tuple[int, str]] = {}
    refusals = []
    for line, realm_id, login in rows:
        other = first.setdefault(login, (line, realm_id))
        if login and other[1] != realm_id:
            message = (
                f"login: {login} is given twice (first at line {other[0]}, in realm {other[1]})"
            )
            refusals.append(Refusal(line, message))
    return refusals


def _day(text: str) -> date | None:
    text = text.strip()
    if not _DAY.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None
