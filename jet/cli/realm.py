"""`jet realm`: remote realms, whose logins Jet proxies."""

from __future__ import annotations

import click

from jet.cli.common import load_settings
from jet.cli.radius import RADIUS_RELOAD


@click.group()
def realm() -> None:
    """Realms: where their logins are decided."""


@realm.group("remote")
def realm_remote() -> None:
    """Remote realms: logins another RADIUS server decides, Jet proxying them to it."""


@realm_remote.command("add")
@click.argument("name", metavar="REALM")
@click.option(
    "--server", required=True, help="The home server, ADDRESS[:PORT] (port 1812 if none)."
)
@click.option("--secret", required=True, help="The RADIUS secret the home server expects.")
@click.option(
    "--acct-port",
    default=None,
    type=int,
    help="Also copy the realm's accounting to this port of the home server.",
)
@click.option(
    "--timeout",
    default=2.0,
    show_default=True,
    type=float,
    help="Seconds before a request is sent again.",
)
@click.option(
    "--retries",
    default=2,
    show_default=True,
    type=int,
    help="Times a request is sent again before Jet gives up (a login is then rejected).",
)
def realm_remote_add(
    name: str, server: str, secret: str, acct_port: int | None, timeout: float, retries: int
) -> None:
    """Proxy the logins of users named user@REALM (or of any user at a NAS of REALM) to
    the RADIUS server SERVER, and relay its answers."""
    from jet.remote_realms import add_remote_realm
    from jet.store.db import session

    settings = load_settings()
    with session(settings.db_url) as s:
        remote = add_remote_realm(
            s, name, server, secret, acct_port=acct_port, timeout=timeout, retries=retries
        )
    click.echo(
        f"realm {remote.realm} is remote: logins go to {remote.address}:{remote.auth_port}"
        + (f", accounting is copied to port {remote.acct_port}" if remote.acct_port else "")
        + f"; {RADIUS_RELOAD}"
    )


@realm_remote.command("list")
def realm_remote_list() -> None:
    """Print the remote realms (secrets are not shown)."""
    from jet.remote_realms import remote_realms
    from jet.store.db import session

    with session(load_settings().db_url) as s:
        remotes = remote_realms(s)
    if not remotes:
        click.echo("no remote realms; add one with `jet realm remote add REALM --server ...`")
    for r in remotes:
        accounting = f"accounting port {r.acct_port}" if r.acct_port else "no accounting copy"
        click.echo(
            f"{r.realm:<24}  {r.address}:{r.auth_port:<5}  {accounting:<24}  "
            f"timeout {r.timeout:g} s, {r.retries} retries"
        )


@realm_remote.command("remove")
@click.argument("name", metavar="REALM")
def realm_remote_remove(name: str) -> None:
    """Decide the logins of REALM in Jet again."""
    from jet.remote_realms import remove_remote_realm
    from jet.store.db import session

    settings = load_settings()
    with session(settings.db_url) as s:
        remote = remove_remote_realm(s, name)
    click.echo(f"realm {remote.realm} is no longer remote; {RADIUS_RELOAD}")


@realm.command("brand")
@click.argument("name", metavar="REALM")
@click.option("--logo", type=click.Path(dir_okay=False), help="A PNG or JPEG, copied beside.")
@click.option("--primary-colour", help="Headings and the seller's name, as #RRGGBB.")
@click.option("--accent-colour", help="The table heading's fill, as #RRGGBB.")
@click.option("--locale", help="Dates and money as this locale writes them: en_AU, de_DE ...")
@click.option("--footer", help="The footer of every page (a Jinja2 template).")
@click.option("--terms", help="The terms under the totals (a Jinja2 template).")
@click.option("--font-regular", type=click.Path(dir_okay=False), help="A TTF for text.")
@click.option("--font-bold", type=click.Path(dir_okay=False), help="A TTF for bold text.")
@click.option("--einvoice/--no-einvoice", default=None, help="Embed the EN 16931 e-invoice.")
def realm_brand(name: str, **changes: object) -> None:
    """Set how REALM's documents look, in $JET_HOME/realms/REALM/brand.yaml (it overrides
    the catalog's `branding`); nothing given: print the file. A refused value changes
    nothing."""
    from jet.realm_branding import brand_path, write_brand

    home = load_settings().root
    if all(v is None for v in changes.values()):
        path = brand_path(home, name)
        click.echo(path.read_text(encoding="utf-8") if path.is_file() else f"{path}: none yet")
        return
    path = write_brand(home, name, changes)
    click.echo(f"realm {name}'s brand is in {path}; documents issued from now on use it")
