"""`jet nas`: the NAS clients allowed to send RADIUS."""

from __future__ import annotations

import click

from jet.cli.common import load_settings


@click.group()
def nas() -> None:
    """NAS clients: the routers and hotspots allowed to send RADIUS to Jet."""


@nas.command("add")
@click.argument("address")
@click.option("--secret", required=True, help="The RADIUS secret configured on the NAS.")
@click.option("--realm", required=True, help="The realm whose customers the NAS serves.")
@click.option("--name", default=None, help="A name to know it by, e.g. bras-akl-1.")
@click.option(
    "--coa-port",
    default=3799,
    show_default=True,
    type=int,
    help="The UDP port the NAS takes Disconnect and CoA requests on.",
)
def nas_add(address: str, secret: str, realm: str, name: str | None, coa_port: int) -> None:
    """Accept RADIUS from the NAS at ADDRESS (the IPv4 address it sends from)."""
    from jet.nas import add_nas_client
    from jet.store.db import session

    settings = load_settings()
    with session(settings.db_url) as s:
        client = add_nas_client(s, address, secret, realm, name, coa_port)
    click.echo(
        f"added NAS {client.address} ({client.name or 'unnamed'}) for realm {client.realm_id}; "
        "a running `jet radius serve` takes it on SIGHUP"
    )


@nas.command("list")
def nas_list() -> None:
    """Print the NAS clients (secrets are not shown)."""
    from jet.nas import nas_clients
    from jet.store.db import session

    with session(load_settings().db_url) as s:
        clients = nas_clients(s)
    if not clients:
        click.echo("no NAS clients; add one with `jet nas add ADDRESS --secret S --realm R`")
    for c in clients:
        added = c.created_at.strftime("%Y-%m-%d %H:%M")
        click.echo(
            f"{c.address:<15}  {c.realm_id:<16}  {c.name or '-':<24}  added {added}  "
            f"CoA port {c.coa_port}"
        )


@nas.command("remove")
@click.argument("address")
def nas_remove(address: str) -> None:
    """Stop accepting RADIUS from the NAS at ADDRESS."""
    from jet.nas import remove_nas_client
    from jet.store.db import session

    settings = load_settings()
    with session(settings.db_url) as s:
        client = remove_nas_client(s, address)
    click.echo(f"removed NAS {client.address} (realm {client.realm_id})")
