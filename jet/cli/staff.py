"""`jet staff`: the people who sign in to the console, their roles, realms and passwords."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from jet.cli.common import EXIT_CODES, fail, load_settings, password_stdin, read_password
from jet.roles import ROLES

T = TypeVar("T")


@click.group()
def staff() -> None:
    """Staff of the console: admin, sales and helpdesk, each in their realms (docs/staff.md)."""


@staff.command("add", epilog=EXIT_CODES)
@click.argument("email")
@click.option(
    "--role",
    required=True,
    type=click.Choice(ROLES),
    help="What they may do: docs/staff.md has the table.",
)
@click.option("--realm", "realms", multiple=True, help="A realm they work in (repeat for more).")
@click.option("--all-realms", is_flag=True, help="Every realm, those added later too.")
@click.option("--name", default="", help="Their name, as the console shows it.")
@password_stdin
def staff_add(
    email: str,
    role: str,
    realms: tuple[str, ...],
    all_realms: bool,
    name: str,
    password_stdin: bool,
) -> None:
    """Let EMAIL sign in to the console as ROLE in the realms given.

    Asks for the password twice (at least 12 characters) unless --password-stdin is given;
    only its argon2 hash is stored."""
    from jet.audit import Actor
    from jet.staff import add_staff
    from jet.store.db import session

    if bool(realms) == all_realms:
        fail("give --realm R (once for each realm) or --all-realms, not both or neither")
    password = read_password(password_stdin)
    with session(load_settings().db_url) as s:
        member = add_staff(
            s,
            Actor.here(),
            email,
            role,
            realms=None if all_realms else list(realms),
            password=password,
            name=name,
        )
    where = "every realm" if member.realms is None else ", ".join(sorted(member.realms))
    click.echo(f"added {member.email} ({member.role}) in {where}; they sign in to the console")


@staff.command("list")
def staff_list() -> None:
    """Print every staff member: role, realms, whether disabled or locked, TOTP, last sign-in."""
    from jet.drivers.console import print_table
    from jet.staff import list_staff
    from jet.store.db import session

    with session(load_settings().db_url) as s:
        members = list_staff(s)
    if not members:
        click.echo("no staff yet; add one with `jet staff add EMAIL --role admin --all-realms`")
        return
    print_table(
        None,
        ["email", "name", "role", "realms", "status", "TOTP", "last sign-in"],
        (
            (
                m["email"],
                m["name"],
                m["role"],
                "all" if m["realms"] is None else ", ".join(m["realms"]),
                _status(m),
                "on" if m["totp"] else "off",
                m["last_login"] and f"{m['last_login']:%Y-%m-%d %H:%M} UTC",
            )
            for m in members
        ),
    )


@staff.command("disable", epilog=EXIT_CODES)
@click.argument("email")
def staff_disable(email: str) -> None:
    """Stop EMAIL signing in; their open console sessions end at once."""
    from jet.staff import disable_staff

    _change(disable_staff, email)
    click.echo(f"disabled {email}: their sessions are ended; `jet staff enable {email}` undoes it")


@staff.command("enable", epilog=EXIT_CODES)
@click.argument("email")
def staff_enable(email: str) -> None:
    """Let EMAIL sign in again (this also lifts a lockout)."""
    from jet.staff import enable_staff

    _change(enable_staff, email)
    click.echo(f"enabled {email}: they may sign in")


@staff.command("password", epilog=EXIT_CODES)
@click.argument("email")
@password_stdin
def staff_password(email: str, password_stdin: bool) -> None:
    """Give EMAIL a new password (asked twice unless --password-stdin); their open
    sessions end and a lockout is lifted."""
    from jet.staff import set_staff_password

    _change(set_staff_password, email, read_password(password_stdin))
    click.echo(f"set the password of {email}; their sessions are ended")


@staff.command("totp", epilog=EXIT_CODES)
@click.argument("email")
def staff_totp(email: str) -> None:
    """Require a TOTP code at EMAIL's sign-ins, under a new secret; print the otpauth://
    URI for their authenticator app (show it to them only: it is the secret)."""
    from jet.staff import enable_totp

    click.echo(_change(enable_totp, email))


def _change(change: Callable[..., T], email: str, *args: Any) -> T:
    """`change(session, actor, email, *args)` in a transaction, by this system's user."""
    from jet.audit import Actor
    from jet.store.db import session

    with session(load_settings().db_url) as s:
        return change(s, Actor.here(), email, *args)


def _status(member: dict) -> str:
    if member["disabled"]:
        return "disabled"
    if member["locked_until"] is not None:
        return f"locked until {member['locked_until']:%H:%M} UTC"
    return "active"
