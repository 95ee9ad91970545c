"""Accounts, their hierarchy and their subscriptions in the operational store, and what
RADIUS authentication reads of them (password, status, expiry, prepaid, static address).

Every function here is the one door for its change, whoever asks (a command, an import,
the console, the portal, dunning): it writes the change, its audit entry (`jet.audit`)
and its event (`jet.outbox`) in the caller's transaction, so all three happen or none.
A suspension or closure announces `account.suspended`/`account.closed`, which the RADIUS
subscriber turns into a Disconnect of the account's sessions; a plan change announces
`plan.changed` on the day it takes effect (a CoA)."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from jet import customer_fields as fields
from jet.audit import Actor, changed, entry, plain, record
from jet.errors import JetError
from jet.outbox import event_row, publish
from jet.realms import RealmPlans
from jet.store.bulk import insert_rows
from jet.store.models import Account, AuditEntry, Event, Realm, Subscription

PROFILE = (
    "name",
    "kind",
    "parent",
    "email",
    "phone",
    "address",
    "country",
    "tax_id",
    "delivery",
    "notes",
)


CHUNK = 10_000  # rows a statement reads or writes when many are handled at once
SUBSCRIPTIONS = Subscription.__table__
_SUBSCRIPTION = ("account_id", "plan_id", "start_date", "end_date")


class AccountError(JetError, ValueError):
    """An account change that cannot be made as asked; nothing was changed."""


@dataclass(frozen=True, slots=True)
class BadRow:
    """Why one of several accounts given at once cannot be added: its position (0-based),
    the field and the message."""

    index: int
    field: str
    message: str


def profile(account: Account) -> dict[str, Any]:
    """An account's details as `add_accounts` takes them."""
    values = {key: getattr(account, key) for key in PROFILE if key != "parent"}
    return {"id": account.id, "realm": account.realm_id, "parent": account.parent_id, **values}


def check_accounts(
    s: Session,
    realm_id: str,
    accounts: Iterable[dict],
    *,
    same_is_added: bool = False,
    where: Callable[[int], str] | None = None,
) -> tuple[list[dict], list[BadRow]]:
    """Every account of `accounts` checked as `add_accounts` would add it: the clean rows
    (parents before children) and what is wrong with the others. A parent may be in the
    store or anywhere in `accounts`. With `same_is_added`, an account already stored with
    the same details is left out, not refused (an import run again). `where` names a row
    in a message that points at another one (default its position from 1; an import
    gives its line)."""
    where = where or (lambda i: str(i + 1))
    realm = s.get(Realm, realm_id)
    bad: list[BadRow] = []
    if realm is None:
        return [], [BadRow(i, "realm", _no_realm(s, realm_id)) for i, _ in enumerate(accounts)]
    clean: dict[str, tuple[int, dict]] = {}
    refused: dict[str, int] = {}  # logins of rows that cannot be added, for their children
    for i, raw in enumerate(accounts):
        try:
            row = _clean(raw)
        except fields.FieldError as err:
            bad.append(BadRow(i, err.field, str(err)))
            refused.setdefault(str(raw.get("id") or raw.get("login") or "").strip(), i)
            continue
        if row["id"] in clean:
            first = where(clean[row["id"]][0])
            bad.append(BadRow(i, "login", f"login: {row['id']} is given twice (first at {first})"))
            continue
        clean[row["id"]] = (i, row)
    stored: dict[str, str] = {}  # the realm of each of them that is stored
    for there in _stored(s, [*clean, *{r["parent"] for _, r in clean.values() if r["parent"]}]):
        login = there["id"]
        stored[login] = there["realm"]
        if login not in clean:
            continue  # a parent
        i, row = clean.pop(login)
        if same_is_added and there == {**row, "realm": realm_id}:
            continue
        where_else = "" if there["realm"] == realm_id else f" (in realm {there['realm']})"
        bad.append(BadRow(i, "login", f"login: {login} is taken{where_else}: choose another"))
        refused[login] = i
    for login, (i, row) in list(clean.items()):
        parent = row["parent"]
        if parent is None:
            continue
        if parent in stored:
            if stored[parent] != realm_id:
                bad.append(
                    BadRow(
                        i,
                        "parent",
                        f"parent: {parent} is in realm "
                        f"{stored[parent]}, not {realm_id}: a hierarchy is one realm",
                    )
                )
                refused[login] = i
                del clean[login]
        elif parent not in clean:
            bad.append(BadRow(i, "parent", _missing_parent(parent, refused, where)))
            refused[login] = i
            del clean[login]
    ordered, pending, placed = [], clean, set(stored)
    while pending:
        ready = sorted(  # in login order: the store's indexes grow at one end
            login
            for login, (_, row) in pending.items()
            if row["parent"] is None or row["parent"] in placed
        )
        if not ready:
            bad.extend(_unplaced(pending, refused, where))
            break
        ordered.extend(pending.pop(login)[1] for login in ready)
        placed.update(ready)
    return ordered, sorted(bad, key=lambda b: b.index)


def _missing_parent(parent: str, refused: dict[str, int], where: Callable[[int], str]) -> str:
    if parent in refused:
        return f"parent: {parent} is refused at {where(refused[parent])}: correct that row first"
    return f"parent: there is no account {parent}: add it first, or earlier in the same file"


def _unplaced(
    pending: dict[str, tuple[int, dict]], refused: dict[str, int], where: Callable[[int], str]
) -> list[BadRow]:
    """Why the rows left over cannot be placed: a loop, or a refused account above them."""
    bad = []
    for login, (i, row) in pending.items():
        parent = above = row["parent"]
        seen: set[str] = set()
        while above in pending and above not in seen and above != login:
            seen.add(above)
            above = pending[above][1]["parent"]
        if above == login:
            message = f"parent: {parent} is under this account: a hierarchy cannot loop"
        else:
            if parent in pending:
                refused.setdefault(parent, pending[parent][0])
            message = _missing_parent(parent, refused, where)
        bad.append(BadRow(i, "parent", message))
    return bad


def add_accounts(
    s: Session,
    realm_id: str,
    accounts: Iterable[dict],
    actor: Actor | None = None,
    *,
    same_is_added: bool = False,
) -> int:
    """Add accounts (`id` (the login), `name`, and any of `kind`, `parent`, `email`,
    `phone`, `address`, `country`, `tax_id`, `delivery`, `notes`) to a realm, parents
    before children, each with its audit entry and `account.created` event; all or none:
    an AccountError lists every account that cannot be added. Returns how many were."""
    rows, bad = check_accounts(s, realm_id, accounts, same_is_added=same_is_added)
    if bad:
        raise AccountError("; ".join(b.message for b in bad) + "; nothing was added")
    return store_accounts(s, realm_id, rows, actor or Actor.here())


def store_accounts(s: Session, realm_id: str, rows: Sequence[dict], actor: Actor) -> int:
    """Insert accounts `check_accounts` found clean (parents first), each with its audit
    entry and `account.created` event, a chunk at a time (an import holds a million).
    Plain inserts, not the ORM's: what the session holds is flushed first, in order."""
    s.flush()
    now = datetime.now(UTC)
    for first in range(0, len(rows), CHUNK):
        accounts_rows, audits, events = [], [], []
        for row in rows[first : first + CHUNK]:
            login = row["id"]
            account = row.copy()
            account["parent_id"] = account.pop("parent")
            account.update(realm_id=realm_id, status="active", created_at=now)
            accounts_rows.append(account)
            details = {k: row[k] for k in PROFILE if row[k] is not None}
            announced = {"account": login, "realm": realm_id}
            audit, event = _added(
                actor, "account.created", "account", login, login, details, announced, now
            )
            audits.append(audit)
            events.append(event)
        for table, values in ((Account, accounts_rows), (AuditEntry, audits), (Event, events)):
            insert_rows(s, table.__table__, values)
    return len(rows)


def update_profile(s: Session, actor: Actor, account_id: str, **changes: Any) -> Account:
    """Change an account's details (any of PROFILE; None leaves one as it is, "" clears
    one that may be empty); an `account.updated` event with the new values."""
    account = get_account(s, account_id)
    given = {k: v for k, v in changes.items() if v is not None}
    unknown = set(given) - set(PROFILE)
    if unknown or not given:
        raise AccountError(
            "nothing to change: give any of "
            + ", ".join("--" + key.replace("_", "-") for key in PROFILE)
        )
    before = profile(account)
    try:
        if "name" in given:
            fields.name(given["name"])  # the login stands in for a name only when adding
        after = _clean({**before, **given})
    except fields.FieldError as err:
        raise AccountError(str(err)) from None
    if after["parent"] != before["parent"] and after["parent"] is not None:
        _check_parent(s, account, after["parent"])
    old, new = changed(before, {k: after[k] for k in PROFILE})
    if not new:
        raise AccountError(f"{account_id} has these details already: nothing changed")
    for key, value in new.items():
        setattr(account, "parent_id" if key == "parent" else key, value)
    _announce_update(s, actor, account_id, old, new)
    s.flush()
    return account


def close_account(s: Session, actor: Actor, account_id: str, on: date) -> list[Subscription]:
    """Close an account from `on`: its subscriptions in force end that day (billing
    refunds what was charged beyond it), it may no longer log in, and its sessions are
    disconnected (`account.closed`). The subscriptions it ended."""
    account = get_account(s, account_id)
    if account.status == "closed":
        raise AccountError(
            f"{account_id} was closed on {account.closed_on}: it is closed already "
            "(`jet account reopen` first to change that)"
        )
    later = s.scalars(
        select(Subscription).where(
            Subscription.account_id == account_id, Subscription.start_date > on
        )
    ).first()
    if later is not None:
        raise AccountError(
            f"{account_id} has a subscription to {later.plan_id} from "
            f"{later.start_date}, after {on}: close it from that day or later"
        )
    ended = [end_subscription(s, actor, sub, on) for sub in _in_force(s, account_id, on)]
    before = {"status": account.status, "closed_on": None}
    account.status, account.closed_on, account.hold = "closed", on, None
    record(
        s,
        actor,
        "account.closed",
        "account",
        account_id,
        account_id=account_id,
        before=before,
        after={"status": "closed", "closed_on": on},
    )
    publish(
        s,
        "account.closed",
        account_id,
        {"account": account_id, "status": "closed", "on": on.isoformat()},
    )
    s.flush()
    return ended


def reopen_account(s: Session, actor: Actor, account_id: str) -> Account:
    """Make a closed account active again (without a plan: subscribe it anew)."""
    account = get_account(s, account_id)
    if account.status != "closed":
        raise AccountError(f"{account_id} is {account.status}, not closed: nothing to reopen")
    before = {"status": "closed", "closed_on": account.closed_on}
    account.status, account.closed_on = "active", None
    record(
        s,
        actor,
        "account.reactivated",
        "account",
        account_id,
        account_id=account_id,
        before=before,
        after={"status": "active", "closed_on": None},
    )
    publish(s, "account.reactivated", account_id, {"account": account_id, "status": "active"})
    s.flush()
    return account


# --- subscriptions ----------------------------------------------------------------------


def subscribe(
    session: Session,
    account_id: str,
    plan_id: str,
    start: date,
    end: date | None = None,
    actor: Actor | None = None,
) -> Subscription:
    """Put an account on a plan over [start, end): the plan must be in the realm's
    catalog on `start`, and `start` on or after the catalog's first version."""
    account = get_account(session, account_id)
    plans = RealmPlans.load(session, account.realm_id)
    problem = subscription_problem(plans, account_id, account.status, plan_id, start, end)
    if problem is not None:
        raise AccountError(problem[1])
    [sub_id] = start_subscriptions(
        session, actor or Actor.here(), [(account_id, plan_id, start, end)]
    )
    return session.get_one(Subscription, sub_id)


def subscription_problem(
    plans: RealmPlans,
    account_id: str,
    status: str,
    plan_id: str,
    start: date,
    end: date | None = None,
    *,
    start_field: str = "from",
) -> tuple[str, str] | None:
    """Why `account_id` (in `status`) cannot be put on `plan_id` over [start, end), as
    (field, message), or None: what a subscription is checked for, alone or imported."""
    if status == "closed":
        return "login", (
            f"{account_id} is closed: `jet account reopen {account_id}` first, then subscribe it"
        )
    if end is not None and end <= start:
        return "to", f"subscription of {account_id} ends ({end}) on or before it starts ({start})"
    return plans.problem(plan_id, start, start_field)


def start_subscriptions(
    s: Session, actor: Actor, subs: Sequence[tuple[str, str, date, date | None]]
) -> list[int]:
    """Insert subscriptions (account, plan, start, end) that `subscription_problem` let
    through, each with its audit entry and `subscription.started` event, a chunk at a
    time (plain inserts, after flushing what the session holds); their ids, in order."""
    s.flush()
    now = datetime.now(UTC)
    ids: list[int] = []
    for first in range(0, len(subs), CHUNK):
        chunk = subs[first : first + CHUNK]
        new_ids = insert_rows(
            s, SUBSCRIPTIONS, [dict(zip(_SUBSCRIPTION, sub, strict=True)) for sub in chunk], "id"
        )
        audits, events = [], []
        for sub_id, (account_id, plan_id, start, end) in zip(new_ids, chunk, strict=True):
            details = {"plan": plan_id, "start": start, "end": end}
            announced = {"account": account_id, "subscription": sub_id}
            audit, event = _added(
                actor, "subscription.started", "subscription", str(sub_id), account_id, details,
                announced, now,
            )  # fmt: skip
            audits.append(audit)
            events.append(event)
        insert_rows(s, AuditEntry.__table__, audits)
        insert_rows(s, Event.__table__, events)
        ids.extend(new_ids)
    return ids


def end_subscription(session: Session, actor: Actor, sub: Subscription, on: date) -> Subscription:
    """End a subscription at `on` (exclusive: its last day is the day before)."""
    if on <= sub.start_date:
        raise AccountError(
            f"{sub.plan_id} of {sub.account_id} starts on {sub.start_date}: it "
            "cannot end on or before that day"
        )
    if sub.end_date is not None and sub.end_date <= on:
        raise AccountError(f"{sub.plan_id} of {sub.account_id} ends on {sub.end_date} already")
    before = sub.end_date
    sub.end_date = on
    record(
        session,
        actor,
        "subscription.ended",
        "subscription",
        str(sub.id),
        account_id=sub.account_id,
        before={"end": before},
        after={"end": on},
    )
    publish(
        session,
        "subscription.ended",
        sub.account_id,
        {
            "account": sub.account_id,
            "subscription": sub.id,
            "plan": sub.plan_id,
            "end": on.isoformat(),
        },
    )
    return sub


def end_plan(
    s: Session, actor: Actor, account_id: str, plan_id: str, on: date
) -> list[Subscription]:
    """End `account_id`'s subscription to `plan_id` at `on`: each one running over that
    day (started before it, not ended by it). What it ended."""
    get_account(s, account_id)
    subs = s.scalars(
        select(Subscription)
        .where(Subscription.account_id == account_id, Subscription.plan_id == plan_id)
        .order_by(Subscription.start_date)
    ).all()
    running = [x for x in subs if x.start_date < on and (x.end_date is None or x.end_date > on)]
    if not running:
        spans = ", ".join(f"{sub.start_date} to {sub.end_date or 'open'}" for sub in subs)
        raise AccountError(
            f"on: {account_id} has no subscription to {plan_id} running on {on}"
            + (f" (it has {spans}): give a day inside one" if subs else "")
            + f"; `jet subscription list {account_id}` shows its plans"
        )
    return [end_subscription(s, actor, sub, on) for sub in running]


def change_plan(
    session: Session, account_id: str, plan_id: str, day: date, actor: Actor | None = None
) -> Subscription:
    """Move `account_id` to `plan_id` from `day`: the subscription in force on that day
    ends there and the new one starts (billing-rules.md: a plan change), and
    `plan.changed` is announced on that day (the NAS gets a CoA with the new plan's reply
    attributes). The plan must be in the realm's catalog in effect on `day`."""
    actor = actor or Actor.here()
    account = get_account(session, account_id)
    _check_plan(session, account.realm_id, plan_id, day)
    subscriptions = session.scalars(
        select(Subscription).where(
            Subscription.account_id == account_id,
            or_(Subscription.end_date.is_(None), Subscription.end_date > day),
        )
    ).all()
    later = [sub for sub in subscriptions if sub.start_date > day]
    current = [sub for sub in subscriptions if sub.start_date <= day]
    if later:
        raise AccountError(
            f"{account_id} has a subscription to {later[0].plan_id} from "
            f"{later[0].start_date}, after {day}: change the plan from that day or later"
        )
    if len(current) > 1:
        plans = ", ".join(sub.plan_id for sub in current)
        raise AccountError(
            f"{account_id} has {len(current)} subscriptions in force on {day} ({plans}): "
            "a plan change needs exactly one"
        )
    for sub in current:
        if sub.plan_id == plan_id:
            raise AccountError(f"{account_id} is already on {plan_id} on {day}")
        if sub.start_date == day:
            raise AccountError(
                f"{account_id} started {sub.plan_id} on {day}: change the plan from a later day"
            )
        end_subscription(session, actor, sub, day)
    new = subscribe(session, account_id, plan_id, day, actor=actor)
    old = current[0].plan_id if current else None
    record(
        session,
        actor,
        "plan.changed",
        "account",
        account_id,
        account_id=account_id,
        before={"plan": old},
        after={"plan": plan_id, "from": day},
    )
    start = datetime.combine(day, time(), UTC)
    publish(
        session,
        "plan.changed",
        account_id,
        {"account": account_id, "plan": plan_id, "previous": old, "from": day.isoformat()},
        due_at=start if start > datetime.now(UTC) else None,
    )
    session.flush()
    return new


def _added(
    actor: Actor,
    action: str,
    entity: str,
    entity_id: str,
    account_id: str,
    details: dict[str, Any],
    announced: dict[str, Any],
    now: datetime,
) -> tuple[dict, dict]:
    """The audit entry and the event (`action` both) of an account or a subscription
    added with `details`; the event says `announced` and the details."""
    audit = entry(actor, action, entity, entity_id, account_id, None, details, now)
    return audit, event_row(action, account_id, {**announced, **audit["after"]}, at=now)


def _check_plan(s: Session, realm_id: str, plan_id: str, day: date) -> None:
    problem = RealmPlans.load(s, realm_id).problem(plan_id, day)
    if problem is not None:
        raise AccountError(problem[1])


def _in_force(s: Session, account_id: str, day: date) -> list[Subscription]:
    return list(
        s.scalars(
            select(Subscription).where(
                Subscription.account_id == account_id,
                Subscription.start_date <= day,
                or_(Subscription.end_date.is_(None), Subscription.end_date > day),
            )
        )
    )


def _clean(raw: dict) -> dict[str, Any]:
    """A row's details checked and in their stored form (FieldError on the first wrong)."""
    country = fields.country(raw.get("country"))
    parent = (raw.get("parent") or "").strip() or None
    return {
        "id": fields.login(raw.get("id") or raw.get("login") or ""),
        "name": fields.name(raw.get("name") or raw.get("id") or raw.get("login")),
        "kind": fields.choice("kind", raw.get("kind"), fields.KINDS),
        "parent": fields.login(parent) if parent else None,
        "email": fields.email(raw.get("email")),
        "phone": fields.phone(raw.get("phone")),
        "address": fields.text("address", raw.get("address"), 500),
        "country": country,
        "tax_id": fields.tax_id(raw.get("tax_id"), country),
        "delivery": fields.choice("delivery", raw.get("delivery"), fields.DELIVERIES),
        "notes": fields.text("notes", raw.get("notes"), 10_000),
    }


def _stored(s: Session, logins: list[str]) -> Iterator[dict[str, Any]]:
    """The stored details of those of `logins` that exist, as `profile` gives them, read
    as plain rows a chunk at a time (an import run again reads a million)."""
    columns = [Account.id, Account.realm_id, Account.parent_id]
    columns += [getattr(Account, k) for k in PROFILE if k != "parent"]
    for i in range(0, len(logins), CHUNK):
        chunk = logins[i : i + CHUNK]
        for login, realm_id, parent_id, *values in s.execute(
            select(*columns).where(Account.id.in_(chunk))
        ):
            yield {
                "id": login,
                "realm": realm_id,
                "parent": parent_id,
                **dict(zip((k for k in PROFILE if k != "parent"), values, strict=True)),
            }


def _check_parent(s: Session, account: Account, parent_id: str) -> None:
    parent = s.get(Account, parent_id)
    if parent is None:
        raise AccountError(f"parent: there is no account {parent_id}")
    if parent.realm_id != account.realm_id:
        raise AccountError(
            f"parent: {parent_id} is in realm {parent.realm_id}, not "
            f"{account.realm_id}: a hierarchy is one realm"
        )
    seen = parent
    while seen is not None:
        if seen.id == account.id:
            raise AccountError(
                f"parent: {parent_id} is under {account.id}: a hierarchy cannot loop"
            )
        seen = s.get(Account, seen.parent_id) if seen.parent_id else None


def _no_realm(s: Session, realm_id: str) -> str:
    known = ", ".join(sorted(s.scalars(select(Realm.id)))) or "none; load a catalog first"
    return f"realm: there is no realm {realm_id!r} (realms: {known})"


# --- what RADIUS authentication reads ---------------------------------------------------

STATUSES = ("active", "suspended", "closed")
MAX_PASSWORD = 128  # octets: the most a User-Password carries (RFC 2865 section 5.2)
_CLEAR = ("none", "never")


def set_radius_password(
    session: Session, account_id: str, password: str | None, actor: Actor | None = None
) -> Account:
    """Set the clear password `account_id` logs in with through RADIUS; None removes it,
    so that the account cannot log in. The audit entry says that it changed, never what
    it is."""
    account = get_account(session, account_id)
    if password is not None:
        check_radius_password(password)
    had = account.radius_password is not None
    account.radius_password = password
    state = "removed" if password is None else "set"
    record(
        session,
        actor or Actor.here(),
        "password.changed",
        "account",
        account_id,
        account_id=account_id,
        before={"password": "set" if had else "none"},
        after={"password": state},
    )
    publish(session, "password.changed", account_id, {"account": account_id, "password": state})
    return account


def check_radius_password(password: str) -> None:
    """Refuse a RADIUS password a NAS cannot carry."""
    size = len(password.encode())
    if not password:
        raise AccountError("the password is empty: give one, or --remove to remove it")
    if size > MAX_PASSWORD:
        raise AccountError(f"the password has {size} bytes; RADIUS carries at most {MAX_PASSWORD}")
    if "\0" in password:
        raise AccountError("the password holds a NUL character, which PAP cannot carry")


def update_account(
    session: Session,
    account_id: str,
    *,
    status: str | None = None,
    expires: str | None = None,
    framed_ip: str | None = None,
    prepaid: bool | None = None,
    actor: Actor | None = None,
) -> Account:
    """Change what decides whether an account may log in; None leaves a field as it is.
    Suspending an active account announces `account.suspended` (its sessions are
    disconnected), making a suspended one active `account.reactivated`; closing is
    `close_account` from today, and reopening `reopen_account`.

    `expires` is a YYYY-MM-DD date (access ends at 00:00 UTC of it) or "never";
    `framed_ip` an IPv4 address no other account has, or "none". A prepaid account's
    credit is its ledger's: a top-up adds to it (`jet payment topup`, docs/prepaid.md)."""
    actor = actor or Actor.here()
    if all(v is None for v in (status, expires, framed_ip, prepaid)):
        raise AccountError(
            "nothing to change: give --status, --expires, --framed-ip or --prepaid/--postpaid "
            "(a prepaid balance is topped up with `jet payment topup`)"
        )
    account = get_account(session, account_id)
    if status is not None and status not in STATUSES:
        raise AccountError(f"unknown status {status!r}; expected one of {', '.join(STATUSES)}")
    if status == "closed" and account.status != "closed":
        close_account(session, actor, account_id, datetime.now(UTC).date())
    elif status == "active" and account.status == "closed":
        reopen_account(session, actor, account_id)
    elif status is not None and (status != account.status or account.hold):
        _set_status(session, actor, account, status, hold=None)  # a person decides now
    before = _access(account)
    if expires is not None:
        account.expires_at = None if expires.lower() in _CLEAR else _expiry(expires)
    if framed_ip is not None:
        account.framed_ip = (
            None if framed_ip.lower() in _CLEAR else _free_ip(session, account, framed_ip)
        )
    if prepaid is not None:
        account.prepaid = prepaid
    old, new = changed(before, _access(account))
    if new:
        _announce_update(session, actor, account_id, old, new)
    session.flush()
    return account


NON_PAYMENT = "non-payment"
HELD = {"status": "suspended", "hold": NON_PAYMENT}


def hold_for_non_payment(s: Session, actor: Actor, overdue: dict[str, list[str]]) -> list[str]:
    """Suspend each active account of `overdue` (account -> its overdue invoice numbers)
    for non-payment (dunning): its sessions are disconnected and its logins told why,
    until what is overdue is paid (`lift_non_payment_hold`). An account that is not active
    is left as it is (a person's suspension stays theirs). The accounts suspended."""
    now = datetime.now(UTC)
    held: list[str] = []
    ids = sorted(overdue)
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        active = s.scalars(
            select(Account.id).where(Account.id.in_(chunk), Account.status == "active")
        ).all()
        if not active:
            continue
        s.execute(
            update(Account)
            .where(Account.id.in_(active))
            .values(status="suspended", hold=NON_PAYMENT)
        )
        was = {"status": "active", "hold": None}
        rows = [
            _status_rows(actor, a, was, {**HELD, "invoices": ", ".join(overdue[a])}, now)
            for a in active
        ]
        insert_rows(s, AuditEntry.__table__, [audit for audit, _ in rows])
        insert_rows(s, Event.__table__, [event for _, event in rows])
        held += active
    return held


def lift_non_payment_hold(s: Session, actor: Actor, account_id: str) -> bool:
    """Make an account that Jet suspended for non-payment active again; a suspension a
    person made is left alone. Whether it was lifted."""
    account = get_account(s, account_id)
    if account.status != "suspended" or account.hold != NON_PAYMENT:
        return False
    _set_status(s, actor, account, "active", hold=None)
    return True


def _set_status(
    s: Session, actor: Actor, account: Account, status: str, *, hold: str | None
) -> None:
    """Suspend or reactivate, with its audit entry and `account.suspended` (its sessions
    are disconnected) or `account.reactivated` event."""
    before = {"status": account.status, "hold": account.hold}
    audit, event = _status_rows(actor, account.id, before, {"status": status, "hold": hold})
    s.add(AuditEntry(**audit))
    s.add(Event(**event))
    account.status, account.hold = status, hold


def _status_rows(
    actor: Actor, account_id: str, before: dict, after: dict, at: datetime | None = None
) -> tuple[dict, dict]:
    """The audit row and the event of a status change."""
    topic = "account.suspended" if after["status"] == "suspended" else "account.reactivated"
    audit = entry(actor, topic, "account", account_id, account_id, before, after, at)
    said = {k: v for k, v in plain(after).items() if v is not None}  # no hold: none said
    return audit, event_row(topic, account_id, {"account": account_id, **said}, at=at)


def _announce_update(
    s: Session, actor: Actor, account_id: str, old: dict[str, Any], new: dict[str, Any]
) -> None:
    """The audit entry and the `account.updated` event of a change to an account's fields."""
    record(
        s, actor, "account.updated", "account", account_id,
        account_id=account_id, before=old, after=new,
    )  # fmt: skip
    publish(s, "account.updated", account_id, {"account": account_id, **plain(new)})


def _access(account: Account) -> dict[str, Any]:
    return {
        "expires_at": account.expires_at,
        "framed_ip": account.framed_ip,
        "prepaid": account.prepaid,
    }


def describe_access(account: Account, credit: Decimal | None = None) -> str:
    """One line of what decides the account's logins (never the password itself); `credit`
    what a prepaid one has left (`jet.prepaid.credit_left`)."""
    if account.prepaid:
        paying = f"prepaid (balance {credit if credit is not None else 0})"
    else:
        paying = "postpaid"
    return (
        f"{account.id}: {account.status}, "
        f"expires {account.expires_at or 'never'}, {paying}, "
        f"static IP {account.framed_ip or 'none'}, "
        f"{'has a' if account.radius_password else 'no'} RADIUS password"
    )


def get_account(session: Session, account_id: str) -> Account:
    """The account, or an AccountError that says how to find its login."""
    account = session.get(Account, account_id)
    if account is None:
        raise AccountError(
            f"no account {account_id!r}: give its login (`jet account list --search TEXT` finds it)"
        )
    return account


def paying_account(session: Session, account_id: str, doing: str, error: type[JetError]) -> Account:
    """The account, if it pays its own invoices and is open: payments, cards and
    mandates belong to the account the invoices go to, never to a user billed to a
    parent. `doing` says what the caller was asked ("store the card"), `error` is the
    caller's kind of failure."""
    account = get_account(session, account_id)
    if account.parent_id is not None:
        raise error(
            f"{account_id} is billed to {account.parent_id}: {doing} for "
            f"{account.parent_id}, which pays its invoices"
        )
    if account.status == "closed":
        raise error(
            f"{account_id} is closed: reopen it (`jet account reopen {account_id}`) "
            f"before you {doing}"
        )
    return account


def _expiry(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise AccountError(
            f"--expires {text!r} is not a date: give YYYY-MM-DD (access ends at 00:00 UTC of "
            "that day) or never"
        ) from None


def _free_ip(session: Session, account: Account, text: str) -> str:
    """The canonical form of a static address that can be given to `account`."""
    try:
        address = ipaddress.IPv4Address(text.strip())
    except ValueError:
        raise AccountError(
            f"--framed-ip {text!r} is not an IPv4 address: give one like 100.64.0.10, or none"
        ) from None
    if address.is_unspecified or address.is_multicast or address.is_loopback or address.is_reserved:
        raise AccountError(f"{address} cannot be a customer's address: give a unicast address")
    holder = session.scalar(
        select(Account.id).where(Account.framed_ip == str(address), Account.id != account.id)
    )
    if holder is not None:
        raise AccountError(
            f"{address} is already the static address of {holder}: give it up there first "
            f"with `jet account set {holder} --framed-ip none`"
        )
    return str(address)
