"""What staff do from the console, each through the core function the matching `jet`
command calls, as the staff member (`Staff.actor`: the audit names them): the role is
checked first (`jet.roles.check`, refusals audited), never only by hiding a button."""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from apps.streamlit.data.guard import account_realm
from ingest.radius.dispatcher import Outcome
from ingest.radius.dispatcher import disconnect as send_disconnect
from jet import accounts
from jet.audit import Actor, record
from jet.catalog import load_yaml, parse_catalog
from jet.config import Settings
from jet.drivers.jobs import run_job
from jet.errors import JetError
from jet.preview import preview
from jet.quality.gate import waive as waive_check
from jet.quality.results import runs
from jet.realms import store_catalog
from jet.roles import Staff, check
from jet.store.db import session


def create_account(
    settings: Settings, staff: Staff, realm_id: str, login: str, name: str, email: str | None
) -> str:
    """A new account (the login its id), as `jet account add` adds one."""
    with session(settings.db_url) as s:
        check(s, staff, "account.create", realm_id, about=login)
        row = {"id": login, "name": name} | ({"email": email} if email else {})
        accounts.add_accounts(s, realm_id, [row], staff.actor)
    return login


def subscribe(settings: Settings, staff: Staff, account_id: str, plan: str, start: date) -> int:
    """Put the account on `plan` from `start`; the new subscription's id."""
    with session(settings.db_url) as s:
        account_realm(s, staff, "subscription.change", account_id)
        return accounts.subscribe(s, account_id, plan, start, actor=staff.actor).id


def change_plan(settings: Settings, staff: Staff, account_id: str, plan: str, on: date) -> int:
    """Move the account to `plan` from `on` (pro rata, billing-rules.md); the new
    subscription's id."""
    with session(settings.db_url) as s:
        account_realm(s, staff, "subscription.change", account_id)
        return accounts.change_plan(s, account_id, plan, on, actor=staff.actor).id


def plan_change_preview(
    settings: Settings, staff: Staff, account_id: str, plan: str, on: date
) -> dict[str, Any] | None:
    """The account's next invoice if its plan changed to `plan` on `on`: the change made
    in a copy of the store and rated there (`jet invoice preview`), nothing kept. None:
    no invoice. SQLite stores only (a PostgreSQL store is not copied)."""
    with session(settings.db_url) as s:
        account_realm(s, staff, "subscription.change", account_id)
    return what_if_plan(settings, account_id, plan, on, staff.actor)


def what_if_plan(
    settings: Settings, account_id: str, plan: str, on: date, actor: Actor
) -> dict[str, Any] | None:
    """`plan_change_preview` once the caller (staff, the portal's customer) may change
    the account's plan: the change made by `actor` in a copy of the store, rated there."""
    if not settings.db_url.startswith("sqlite:///"):
        raise JetError("the plan change preview copies a SQLite store; this store is not one")
    with tempfile.TemporaryDirectory(prefix="jet-plan-preview-") as tmp:
        copy = Path(tmp) / "jet.db"
        with session(settings.db_url) as s:
            s.connection().exec_driver_sql(f"vacuum into '{copy}'")
        what_if = settings.model_copy(update={"database_url": f"sqlite:///{copy}"})
        with session(what_if.db_url) as s:
            accounts.change_plan(s, account_id, plan, on, actor=actor)
        return preview(what_if, account_id, on)


def suspend(settings: Settings, staff: Staff, account_id: str) -> None:
    """Suspend: it may not log in, and its sessions are disconnected (`account.suspended`)."""
    _set_status(settings, staff, account_id, "suspended")


def reactivate(settings: Settings, staff: Staff, account_id: str) -> None:
    _set_status(settings, staff, account_id, "active")


def _set_status(settings: Settings, staff: Staff, account_id: str, status: str) -> None:
    with session(settings.db_url) as s:
        account_realm(s, staff, "account.suspend", account_id)
        accounts.update_account(s, account_id, status=status, actor=staff.actor)


def reset_password(settings: Settings, staff: Staff, account_id: str) -> str:
    """Give the account a new random RADIUS password and return it, to be shown once."""
    password = secrets.token_urlsafe(9)
    with session(settings.db_url) as s:
        account_realm(s, staff, "account.password", account_id)
        accounts.set_radius_password(s, account_id, password, staff.actor)
    return password


def disconnect(settings: Settings, staff: Staff, account_id: str) -> list[Outcome]:
    """A Disconnect-Request for each of the account's open sessions, as `jet radius
    disconnect` sends them; the request and its outcome are audited."""
    with session(settings.db_url) as s:
        account_realm(s, staff, "session.disconnect", account_id)
    outcomes = send_disconnect(settings, account_id)
    with session(settings.db_url) as s:
        record(
            s, staff.actor, "session.disconnect", "account", account_id, account_id=account_id,
            after={"outcomes": [o.text for o in outcomes]},
        )  # fmt: skip
    return outcomes


def load_catalog(settings: Settings, staff: Staff, text: str, name: str) -> str:
    """Check an uploaded catalog (YAML) as `jet catalog load` does, with its messages, and
    store it as a new version of its realm; what happened, in a line."""
    catalog = parse_catalog(load_yaml(text, name), name)
    with session(settings.db_url) as s:
        check(s, staff, "catalog.load", catalog.realm.id, about=name)
        version, created = store_catalog(s, catalog, f"console: {name}", staff.actor)
        when = version.effective_from
    verb = "stored" if created else "already stored"
    return f"{verb} the catalog of {catalog.realm.id} from {when}"


def run_billing(
    settings: Settings,
    staff: Staff,
    first: date,
    last: date,
    on_step: Callable[[str], None] | None = None,
) -> str:
    """The billing cycle for the bill dates [first, last] (the Dagster job `jet bill` runs),
    telling `on_step` each step done. It bills every realm, so it needs every realm."""
    with session(settings.db_url) as s:
        check(s, staff, "billing.run", None, about=f"{first}..{last}")
        record(s, staff.actor, "billing.run", "billing", f"{first}..{last}")
    log = run_job(settings, "billing_cycle", first, last, on_step)
    return f"billing cycle {first}..{last} done (log: {log})"


def waive(settings: Settings, staff: Staff, check_name: str, reason: str) -> list[date]:
    """Let the invoices `check_name` holds go out at the next billing run of their dates
    (`jet quality waive`). A waiver is of a check and a bill date, not of a realm: it lets
    out every realm's invoices the check holds in any kept run (the dates `waive` takes),
    so the staff member needs each of those realms (a hold of every realm: every realm).
    The dates waived now (none if each was waived already), audited as `quality.waived`."""
    with session(settings.db_url) as s:
        held = {
            hold.realm
            for findings in runs(s)
            for f in findings
            if f.check == check_name and not f.passed
            for hold in f.holds
        }
        for realm in sorted(held, key=lambda r: r or ""):
            check(s, staff, "billing.waive", realm, about=check_name)
        if not held:
            check(s, staff, "billing.waive", None, about=check_name)
        dates, _ = waive_check(s, check_name, reason, staff.email)
        if dates:  # the waiver's own row names them too; the audit log is where staff look
            record(
                s, staff.actor, "quality.waived", "quality_check", check_name,
                after={"bill_dates": ", ".join(map(str, dates)), "reason": reason.strip()},
            )  # fmt: skip
    return dates
