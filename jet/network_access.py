"""Network access: who may log in through RADIUS, and what their NAS is told.

The RADIUS server answers from an in-memory :class:`AccessView` of the operational store
(accounts' passwords, status, expiry, prepaid credit and static address; the plans of
their subscriptions, those plans' reply attributes and price of connect time), loaded
by :func:`load_view` in a worker thread and swapped whole, so a login never waits on the
database. :func:`decide` is the decision for one login, in the order support explains
it: who you are, then whether your account may be online now, then what your plan gives
you.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jet.catalog import (
    RADIUS_INTEGER_MAX,
    UNIT_DIVISORS,
    Catalog,
    RadiusAttributes,
    parse_catalog,
    rate_limit_bps,
)
from jet.prepaid import credit_left
from jet.remote_realms import HomeServer, home_servers
from jet.store.db import session
from jet.store.models import Account, CatalogVersion, NasClient, Subscription

# The Reply-Message of each refusal. Unknown user and wrong password read the same, so a
# reply never tells whether an account exists.
LOGIN_INCORRECT = "Login incorrect"
SUSPENDED = "Account suspended: please contact support"
UNPAID = "Suspended for non-payment: please pay the overdue invoices to reconnect"
CLOSED = "Account closed: please contact support"
EXPIRED = "Account expired on {day}"
NO_BALANCE = "No prepaid balance left: please top up"
NO_PLAN = "No active plan: please contact support"

Reply = tuple[tuple[str, Any], ...]  # (attribute name, value) pairs of Jet's dictionary
PasswordCheck = Callable[[bytes], bool]  # does the request prove this clear password?

_NOT_A_PASSWORD = b"\0" * 16  # checked against for unknown users, so they take as long


@dataclass(frozen=True, slots=True)
class PlanPeriod:
    """A subscription as authentication sees it: [start, end), the plan's attributes, and
    what a second online costs on it (its duration products, tax included), if anything."""

    start: date
    end: date | None
    plan_id: str
    reply: Reply
    per_second: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Login:
    """One account as authentication sees it; `plans` latest start first; `balance` the
    credit a prepaid account has left (minus its ledger balance)."""

    account_id: str
    realm_id: str
    password: bytes | None
    status: str
    expires_at: date | None
    prepaid: bool
    balance: Decimal | None
    framed_ip: str | None
    plans: tuple[PlanPeriod, ...] = ()
    hold: str | None = None  # why Jet suspended it or the account it is billed to

    def plan_on(self, day: date) -> PlanPeriod | None:
        """The subscription in force on `day` (the latest started, if several are)."""
        for period in self.plans:
            if period.start <= day and (period.end is None or day < period.end):
                return period
        return None


@dataclass(frozen=True)
class AccessView:
    """Everything a login is decided on: accounts by id, NAS addresses' realms, and the
    home servers of the realms whose logins another RADIUS server decides."""

    logins: Mapping[str, Login] = field(default_factory=dict)
    nas_realms: Mapping[str, str] = field(default_factory=dict)
    remote_realms: Mapping[str, HomeServer] = field(default_factory=dict)
    loaded_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def home_server(self, nas: str, user_name: str) -> HomeServer | None:
        """The home server that decides `user_name` at the NAS `nas`, if its realm is remote."""
        if not self.remote_realms:
            return None
        return self.remote_realms.get(split_user_name(self, nas, user_name)[1] or "")


def split_user_name(view: AccessView, nas: str, user_name: str) -> tuple[str, str | None]:
    """(account, realm) of a User-Name, `account@realm` or `account` at the NAS `nas`,
    whose realm is then meant; the realm in lower case, None for an unknown NAS."""
    account_id, at, realm = user_name.rpartition("@")
    if not at:
        return user_name, view.nas_realms.get(nas)
    return account_id, realm.lower()


@dataclass(frozen=True, slots=True)
class Decision:
    """Accept or reject, the reply attributes, and `reason`, the counter it is counted
    under (`accepted`, or why not: `unknown_user`, `wrong_password`, `suspended`, ...)."""

    accepted: bool
    reason: str
    reply: Reply
    account_id: str | None = None


def decide(
    view: AccessView, nas: str, user_name: str, password_ok: PasswordCheck, today: date
) -> Decision:
    """Whether `user_name`, logging in at the NAS `nas` on the UTC date `today`, may go
    online, and with what.

    The name is `account` or `account@realm`; without a realm, the NAS's realm is meant.
    In order: an unknown account (or one of another realm, or without a password) and a
    wrong password are both "Login incorrect"; then a closed account, one suspended (by
    dunning, or under a cost-centre dunning suspended: "Suspended for non-payment"), an
    expired one (access ends at 00:00 UTC of `expires_at`), a prepaid one with no
    balance left (<= 0), and one with no subscription in force today are refused with a
    Reply-Message saying so. Otherwise it is accepted with its plan's reply attributes
    and its static address; a prepaid account on a plan that charges connect time gets the
    Session-Timeout its credit pays for (`prepaid_timeout`), refused if that is not a
    second. `password_ok` is called exactly once, whatever the outcome.
    """
    account_id, realm = split_user_name(view, nas, user_name)
    login = view.logins.get(account_id)
    wrong_realm = realm is not None and login is not None and login.realm_id != realm
    if login is None or login.password is None or wrong_realm:
        password_ok(_NOT_A_PASSWORD)
        return _reject("unknown_user", LOGIN_INCORRECT)
    if not password_ok(login.password):
        return _reject("wrong_password", LOGIN_INCORRECT, login)
    if login.status not in ("active", "suspended"):
        return _reject("closed", CLOSED, login)
    if login.hold:
        return _reject("suspended", UNPAID, login)
    if login.status == "suspended":
        return _reject("suspended", SUSPENDED, login)
    if login.expires_at is not None and today >= login.expires_at:
        return _reject("expired", EXPIRED.format(day=login.expires_at.isoformat()), login)
    if login.prepaid and (login.balance is None or login.balance <= 0):
        return _reject("no_balance", NO_BALANCE, login)
    plan = login.plan_on(today)
    if plan is None:
        return _reject("no_plan", NO_PLAN, login)
    reply = plan.reply
    if login.prepaid and plan.per_second is not None:
        seconds = prepaid_timeout(login.balance, plan.per_second, plan.reply)
        if seconds < 1:
            return _reject("no_balance", NO_BALANCE, login)
        reply = tuple(a for a in reply if a[0] != "Session-Timeout")
        reply += (("Session-Timeout", seconds),)
    if login.framed_ip is not None:
        reply += (("Framed-IP-Address", login.framed_ip),)
    return Decision(True, "accepted", reply, login.account_id)


def prepaid_timeout(credit: Decimal, per_second: Decimal, reply: Reply) -> int:
    """The whole seconds `credit` pays for at `per_second`, rounded down, and never more
    than the plan's own Session-Timeout (nor what a RADIUS integer holds)."""
    seconds = int((credit / per_second).to_integral_value(ROUND_FLOOR))
    plan = dict(reply).get("Session-Timeout", RADIUS_INTEGER_MAX)
    return min(seconds, plan, RADIUS_INTEGER_MAX)


def price_per_second(catalog: Catalog, plan_id: str) -> Decimal | None:
    """What a second online costs on the plan: the sum of its duration products' prices
    per second (a tiered one at its dearest tier, so the credit surely pays), tax included
    where taxable; None if the plan charges no connect time."""
    plan = catalog.plans.get(plan_id)
    total = None
    for product in (catalog.products[p] for p in plan.products) if plan else ():
        if product.type != "duration":
            continue
        price = product.price if product.price is not None else max(t.price for t in product.tiers)
        if product.taxable:
            price *= 1 + catalog.realm.tax_rate
        total = (total or Decimal(0)) + price / UNIT_DIVISORS[product.unit]
    return total if total else None


def _reject(reason: str, message: str, login: Login | None = None) -> Decision:
    account_id = None if login is None else login.account_id
    return Decision(False, reason, (("Reply-Message", message),), account_id)


def reply_attributes(radius: RadiusAttributes | None) -> Reply:
    """A plan's `radius` block as reply attributes: the timeouts, the rate limit as
    Mikrotik-Rate-Limit and as WISPr-Bandwidth-Max-Up/Down in bit/s (at most what a
    RADIUS integer holds, 4294967295)."""
    if radius is None:
        return ()
    reply: list[tuple[str, Any]] = []
    if radius.session_timeout is not None:
        reply.append(("Session-Timeout", radius.session_timeout))
    if radius.idle_timeout is not None:
        reply.append(("Idle-Timeout", radius.idle_timeout))
    if radius.rate_limit is not None:
        up, down = rate_limit_bps(radius.rate_limit)
        reply.append(("Mikrotik-Rate-Limit", radius.rate_limit))
        reply.append(("WISPr-Bandwidth-Max-Up", min(up, RADIUS_INTEGER_MAX)))
        reply.append(("WISPr-Bandwidth-Max-Down", min(down, RADIUS_INTEGER_MAX)))
    return tuple(reply)


def load_view(db_url: str) -> AccessView:
    """Read what authentication needs from the store, in one transaction: the accounts
    that have a RADIUS password (no other can log in), their subscriptions, the NAS
    clients' realms, the remote realms' home servers.

    A subscription's plan is read from the catalog version in effect on its start date
    (the first version, if it starts earlier), as it is priced: a customer keeps what
    they signed up for until they change plan."""
    with session(db_url) as s:
        catalogs: dict[str, _Versions] = {}
        versions = select(CatalogVersion).order_by(
            CatalogVersion.realm_id, CatalogVersion.effective_from
        )
        for version in s.scalars(versions):
            source = f"catalog {version.realm_id} from {version.effective_from}"
            catalog = parse_catalog(version.document, source)
            plans = {
                key: (reply_attributes(plan.radius), price_per_second(catalog, key))
                for key, plan in catalog.plans.items()
            }
            found = catalogs.setdefault(version.realm_id, _Versions([], []))
            found.since.append(version.effective_from)
            found.plans.append(plans)
        can_log_in = Account.radius_password.is_not(None)
        subscriptions = (
            select(
                Subscription.account_id,
                Account.realm_id,
                Subscription.plan_id,
                Subscription.start_date,
                Subscription.end_date,
            )
            .join(Account, Account.id == Subscription.account_id)
            .where(can_log_in)
            .order_by(Subscription.start_date.desc(), Subscription.id.desc())
        )
        periods: dict[str, list[PlanPeriod]] = {}
        for account_id, realm_id, plan_id, start, end in s.execute(subscriptions):
            reply, per_second = (
                catalogs[realm_id].reply(plan_id, start) if realm_id in catalogs else ((), None)
            )
            periods.setdefault(account_id, []).append(
                PlanPeriod(start, end, plan_id, reply, per_second)
            )
        accounts = select(
            Account.id,
            Account.realm_id,
            Account.radius_password,
            Account.status,
            Account.expires_at,
            Account.prepaid,
            Account.parent_id,
            Account.framed_ip,
        ).where(can_log_in)
        credits = credit_left(s)
        holds = _holds(s)
        logins = {
            row.id: Login(
                account_id=row.id,
                realm_id=row.realm_id,
                password=row.radius_password.encode(),
                status=row.status,
                expires_at=row.expires_at,
                prepaid=bool(row.prepaid),
                balance=credits.get(row.parent_id or row.id, Decimal(0)) if row.prepaid else None,
                framed_ip=row.framed_ip,
                plans=tuple(periods.get(row.id, ())),
                hold=holds(row.id),
            )
            for row in s.execute(accounts)
        }
        nas_realms = dict(s.execute(select(NasClient.address, NasClient.realm_id)).all())
        remote_realms = home_servers(s)
    return AccessView(logins, nas_realms, remote_realms)


def _holds(s: Session) -> Callable[[str], str | None]:
    """The hold of an account or of the nearest account above it: a cost-centre suspended
    for non-payment takes its users' logins with it."""
    held = dict(s.execute(select(Account.id, Account.hold).where(Account.hold.is_not(None))).all())
    if not held:
        return lambda account_id: None
    parents = dict(
        s.execute(select(Account.id, Account.parent_id).where(Account.parent_id.is_not(None))).all()
    )

    def hold(account_id: str) -> str | None:
        while account_id is not None:
            if account_id in held:
                return held[account_id]
            account_id = parents.get(account_id)
        return None

    return hold


@dataclass(slots=True)
class _Versions:
    """A realm's catalog versions: their effective dates, and each one's plans' replies and
    prices of a second online."""

    since: list[date]
    plans: list[dict[str, tuple[Reply, Decimal | None]]]

    def reply(self, plan_id: str, start: date) -> tuple[Reply, Decimal | None]:
        """The plan's reply attributes and price of a second in the version in effect on
        `start` (or the first)."""
        index = max(bisect.bisect_right(self.since, start) - 1, 0)
        return self.plans[index].get(plan_id, ((), None))
