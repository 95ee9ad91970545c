"""`jet account show` and `jet account list`: what staff look up about customers, as
tables, or as JSON for scripts (the values `jet.account_views` reads)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import click

from jet.cli.common import READ_EXIT_CODES, echo_json, load_settings


@click.command("show", epilog=READ_EXIT_CODES)
@click.argument("account_id", metavar="ACCOUNT")
@click.option("--json", "as_json", is_flag=True, help="Print it as JSON, for scripts.")
def show(account_id: str, as_json: bool) -> None:
    """ACCOUNT's profile, parent and children, subscriptions, open RADIUS sessions, IP
    addresses, balance, last invoices and recent audit entries."""
    from ingest.radius.open_sessions import open_sessions
    from jet.account_views import account_detail
    from jet.store.db import session

    settings = load_settings()
    with session(settings.db_url) as s:
        detail = account_detail(s, account_id, datetime.now(UTC).date())
    detail["sessions"] = [
        {
            "user": held.user_name,
            "session": held.acct_session_id,
            "nas": held.nas_address,
            "framed_ip": held.framed_ip,
            "last_seen": held.last_seen.isoformat(),
        }
        for held in open_sessions(settings.raw / "radius", account_id)
    ]
    if as_json:
        echo_json(detail)
    else:
        _print_detail(detail)


@click.command("list", epilog=READ_EXIT_CODES)
@click.option("--realm", default=None, help="Only this realm's accounts.")
@click.option(
    "--status",
    type=click.Choice(["active", "suspended", "closed"]),
    default=None,
    help="Only these.",
)
@click.option(
    "--search",
    default=None,
    help="Text in the login, name, e-mail, parent, static IP or assigned network; or an "
    "IP address inside an assigned network.",
)
@click.option("--json", "as_json", is_flag=True, help="Print them as JSON, for scripts.")
def list_(realm: str | None, status: str | None, search: str | None, as_json: bool) -> None:
    """The accounts, by realm and login."""
    from jet.account_views import find_accounts
    from jet.drivers.console import console, print_table
    from jet.store.db import session

    with session(load_settings().db_url) as s:
        found = find_accounts(s, realm, status, search)
    if as_json:
        echo_json(found)
    elif not found:
        console.print("no accounts match; `jet account add REALM LOGIN --name N` adds one")
    else:
        columns = ("login", "realm", "name", "kind", "status", "parent", "email", "static IP")
        keys = ("id", "realm", "name", "kind", "status", "parent", "email", "framed_ip")
        print_table(None, columns, ([row[k] for k in keys] for row in found))


def _print_detail(d: dict[str, Any]) -> None:
    from jet.drivers.console import console, print_fields, print_table

    a = d["account"]
    status = a["status"] + (f" on {a['closed_on']}" if a["closed_on"] else "")
    billed = d["billing_account"]
    print_fields(
        f"{a['id']}: {a['name']}",
        [
            ("realm", a["realm"]),
            ("kind", a["kind"]),
            ("status", status),
            ("parent", a["parent"]),
            ("invoiced to", "itself" if billed == a["id"] else billed),
            ("children", ", ".join(c["id"] for c in d["children"]) or None),
            ("e-mail", a["email"]),
            ("phone", a["phone"]),
            ("address", a["address"]),
            ("country", a["country"]),
            ("tax id", a["tax_id"]),
            ("delivery", a["delivery"]),
            ("notes", a["notes"]),
            ("static IP", d["addresses"]["framed_ip"]),
            ("networks", ", ".join(d["addresses"]["assigned"]) or None),
            ("balance", _balance(d["balance"])),
            ("created", a["created_at"][:19]),
        ],
    )
    subs = d["subscriptions"]
    if subs:
        rows = ([x["plan"], x["start"], x["end"] or "open", x["state"]] for x in subs)
        print_table("subscriptions", ("plan", "from", "to (exclusive)", "state"), rows)
    else:
        console.print(f"no subscriptions; `jet subscription add {a['id']} PLAN --from D`")
    if d["sessions"]:
        columns = ("user", "session", "NAS", "framed IP", "last seen")
        keys = ("user", "session", "nas", "framed_ip", "last_seen")
        print_table("open RADIUS sessions", columns, ([x[k] for k in keys] for x in d["sessions"]))
    else:
        console.print("no open RADIUS sessions")
    if d["invoices"]:
        rows = (
            [i["number"], i["kind"], i["account"], i["bill_date"], f"{i['total']} {i['currency']}"]
            for i in d["invoices"]
        )
        print_table("last invoices", ("number", "kind", "account", "bill date", "total"), rows)
    if d["audit"]:
        rows = (
            [e["at"][:19], e["actor"], e["channel"], e["action"], change(e)] for e in d["audit"]
        )
        print_table("recent changes", ("at (UTC)", "who", "via", "what", "change"), rows)


def change(entry: dict[str, Any]) -> str:
    """An audit entry's values as "field: before -> after", one a line."""
    before, after = entry["before"] or {}, entry["after"] or {}
    lines = []
    for key in dict.fromkeys([*before, *after]):
        old, new = (_text(values.get(key)) for values in (before, after))
        lines.append(f"{key}: {new}" if key not in before else f"{key}: {old} -> {new}")
    return "\n".join(lines)


def _text(value: Any) -> str:
    return "none" if value is None else str(value)


def _balance(balance: dict[str, Any]) -> str:
    if balance["kind"] == "prepaid":
        return f"prepaid, {balance['amount'] or 'none'} left"
    return f"postpaid, owes {balance['amount']} (negative: in credit)"
