"""`jet`: the command line of Jet's operators and analysts."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

import click

from jet.config import Settings


def _settings() -> Settings:
    settings = Settings()
    settings.export()
    return settings


def _fail(message: str) -> None:
    click.secho(message, fg="red", err=True)
    sys.exit(1)


@click.group()
def main() -> None:
    """Jet: billing for internet service providers and wi-fi hotspot operators."""


@main.group()
def db() -> None:
    """The operational store."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every database migration not yet applied."""
    from jet.store.db import upgrade

    settings = _settings()
    upgrade(settings.db_url)
    click.echo(f"store is up to date: {settings.db_url}")


@main.group()
def catalog() -> None:
    """Realm catalogs: products, plans and prices."""


@catalog.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def catalog_load(file: Path) -> None:
    """Validate FILE and store it as a new catalog version of its realm."""
    from jet.catalog import CatalogError, load_catalog_file
    from jet.realms import store_catalog
    from jet.store.db import session

    settings = _settings()
    try:
        parsed = load_catalog_file(file)
        with session(settings.db_url) as s:
            version, created = store_catalog(s, parsed, str(file))
    except CatalogError as err:
        _fail(str(err))
    verb = "stored" if created else "already stored"
    click.echo(
        f"{verb}: catalog of realm {parsed.realm.id} from {version.effective_from} "
        f"({len(parsed.products)} products, {len(parsed.plans)} plans)"
    )


@main.group("import")
def import_() -> None:
    """Data from outside Jet: external line items."""


@import_.command("line-items")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_line_items(file: Path) -> None:
    """Add the charges and credits in the CSV FILE to their accounts' next invoices.

    Columns: account,date,description,amount,taxable. A file with any bad row is
    refused whole; importing the same file again adds nothing."""
    from ingest.csv.line_items import LineItemsError
    from ingest.csv.line_items import import_line_items as run
    from jet.store.db import session

    settings = _settings()
    try:
        with session(settings.db_url) as s:
            result = run(s, file)
    except LineItemsError as err:
        _fail(str(err))
    if result.already_imported:
        click.echo(f"already imported: {file}")
    else:
        click.echo(f"imported {result.imported} line items from {file}")


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print invoices as JSON (billing-rules.md).")
def simulate(file: Path, as_json: bool) -> None:
    """Bill the scenario FILE up to its `until` date, in a throw-away home."""
    from jet.catalog import CatalogError
    from jet.simulate import simulate as run

    try:
        invoices = run(file)
    except CatalogError as err:
        _fail(str(err))
    if as_json:
        click.echo(json.dumps({"invoices": invoices}, indent=2))
        return
    from jet.console import print_invoices

    print_invoices(invoices)


@main.command()
@click.option("--from", "first", type=click.DateTime(["%Y-%m-%d"]), required=True)
@click.option("--to", "last", type=click.DateTime(["%Y-%m-%d"]), required=True)
def bill(first, last) -> None:
    """Run the billing cycle for every bill date from --from to --to (one Dagster run)."""
    from jet.orchestration import run_job

    run_job(_settings(), "billing_cycle", first.date(), last.date())
    click.echo(f"billing cycle {first.date()}..{last.date()} done")


@main.command()
@click.option(
    "--as-of",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="Rate bill dates up to this day (default today).",
)
def rate(as_of) -> None:
    """Refresh usage and draft invoice marts without issuing anything."""
    from jet.orchestration import run_job

    day = as_of.date() if as_of else date.today()
    run_job(_settings(), "rating", day, day)
    click.echo(f"marts rated up to {day}: {_settings().marts}")


@main.command()
@click.option("--accounts", default=2000, show_default=True, help="How many accounts to create.")
def demo(accounts: int) -> None:
    """Build a believable deployment from nothing and run its billing cycles."""
    from jet.demo import run_demo

    run_demo(_settings(), accounts=accounts)


@main.command()
@click.argument("query")
def sql(query: str) -> None:
    """Run QUERY over the published marts (fct_invoices, fct_invoice_lines, dim_accounts, ...)."""
    import duckdb

    from jet.warehouse import marts

    try:
        relation = marts(_settings()).sql(query)
    except duckdb.Error as err:
        _fail(f"query failed: {err}")
    if relation is not None:
        relation.show(max_rows=50)


@main.group()
def invoice() -> None:
    """Draft and issued invoices."""


@invoice.command("preview")
@click.argument("account")
@click.option(
    "--date",
    "day",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="Preview the first bill date on or after this day (default today).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the draft as JSON.")
def invoice_preview(account: str, day, as_json: bool) -> None:
    """Print ACCOUNT's next invoice as it stands now; nothing is issued or published."""
    from jet.preview import PreviewError, preview

    when = day.date() if day else date.today()
    try:
        draft = preview(_settings(), account, when)
    except PreviewError as err:
        _fail(str(err))
    if draft is None:
        click.echo(f"{account} would get no invoice at its first bill date on or after {when}")
    elif as_json:
        click.echo(json.dumps(draft, indent=2))
    else:
        from jet.console import print_invoices

        print_invoices([draft])


@invoice.command("credit")
@click.argument("number")
@click.option("--reason", required=True, help="Why: printed on the credit note.")
@click.option(
    "--line",
    "lines",
    type=int,
    multiple=True,
    help="Credit only this line (1-based, as printed); repeat for more.",
)
def invoice_credit(number: str, reason: str, lines: tuple[int, ...]) -> None:
    """Issue a credit note for invoice NUMBER, whole or for some of its lines."""
    from jet.invoicing import CreditError, credit_invoice, render_pdfs

    settings = _settings()
    try:
        note = credit_invoice(settings, number, reason, list(lines) or None)
    except CreditError as err:
        _fail(str(err))
    render_pdfs(settings)
    click.echo(f"issued credit note {note.number} for {number}: {note.currency} {note.total}")


@main.group()
def nas() -> None:
    """NAS clients: the routers and hotspots allowed to send RADIUS to Jet."""


@nas.command("add")
@click.argument("address")
@click.option("--secret", required=True, help="The RADIUS secret configured on the NAS.")
@click.option("--realm", required=True, help="The realm whose customers the NAS serves.")
@click.option("--name", default=None, help="A name to know it by, e.g. bras-akl-1.")
def nas_add(address: str, secret: str, realm: str, name: str | None) -> None:
    """Accept RADIUS from the NAS at ADDRESS (the IPv4 address it sends from)."""
    from jet.nas import NasError, add_nas_client
    from jet.store.db import session

    settings = _settings()
    try:
        with session(settings.db_url) as s:
            client = add_nas_client(s, address, secret, realm, name)
    except NasError as err:
        _fail(str(err))
    click.echo(
        f"added NAS {client.address} ({client.name or 'unnamed'}) for realm {client.realm_id}; "
        "a running `jet radius serve` takes it on SIGHUP"
    )


@nas.command("list")
def nas_list() -> None:
    """Print the NAS clients (secrets are not shown)."""
    from jet.nas import nas_clients
    from jet.store.db import session

    with session(_settings().db_url) as s:
        clients = nas_clients(s)
    if not clients:
        click.echo("no NAS clients; add one with `jet nas add ADDRESS --secret S --realm R`")
    for c in clients:
        added = c.created_at.strftime("%Y-%m-%d %H:%M")
        click.echo(f"{c.address:<15}  {c.realm_id:<16}  {c.name or '-':<24}  added {added}")


@nas.command("remove")
@click.argument("address")
def nas_remove(address: str) -> None:
    """Stop accepting RADIUS from the NAS at ADDRESS."""
    from jet.nas import NasError, remove_nas_client
    from jet.store.db import session

    settings = _settings()
    try:
        with session(settings.db_url) as s:
            client = remove_nas_client(s, address)
    except NasError as err:
        _fail(str(err))
    click.echo(f"removed NAS {client.address} (realm {client.realm_id})")


_RADIUS_RELOAD = "a running `jet radius serve` takes it within --auth-refresh seconds or on SIGHUP"


@main.group()
def account() -> None:
    """Accounts: RADIUS passwords, status, expiry, prepaid balance and static address."""


@account.command("password")
@click.argument("account_id", metavar="ACCOUNT")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin's first line.")
@click.option("--remove", is_flag=True, help="Remove the password: the account cannot log in.")
def account_password(account_id: str, password_stdin: bool, remove: bool) -> None:
    """Set the password ACCOUNT logs in with through RADIUS (PAP or CHAP).

    Asks for it twice unless --password-stdin is given. The store keeps it in clear:
    see docs/decisions.md, "RADIUS"."""
    from jet.accounts import AccountError, set_radius_password
    from jet.store.db import session

    if remove and password_stdin:
        _fail("give --remove or --password-stdin, not both")
    if remove:
        password = None
    elif password_stdin:
        password = sys.stdin.readline().removesuffix("\n").removesuffix("\r")
    else:
        password = click.prompt("RADIUS password", hide_input=True, confirmation_prompt=True)
    settings = _settings()
    try:
        with session(settings.db_url) as s:
            set_radius_password(s, account_id, password)
    except AccountError as err:
        _fail(str(err))
    done = "removed the password of" if password is None else "set the password of"
    click.echo(f"{done} {account_id}; {_RADIUS_RELOAD}")


@account.command("set")
@click.argument("account_id", metavar="ACCOUNT")
@click.option(
    "--status",
    type=click.Choice(["active", "suspended", "closed"]),
    default=None,
    help="Only active accounts may log in.",
)
@click.option(
    "--expires", default=None, help="YYYY-MM-DD: access ends at 00:00 UTC of it ('never')."
)
@click.option("--framed-ip", default=None, help="A static IPv4 address for its sessions ('none').")
@click.option("--prepaid/--postpaid", default=None, help="Whether it pays ahead from a balance.")
@click.option("--balance", default=None, help="The prepaid balance left, e.g. 20.00.")
def account_set(
    account_id: str,
    status: str | None,
    expires: str | None,
    framed_ip: str | None,
    prepaid: bool | None,
    balance: str | None,
) -> None:
    """Change what decides whether ACCOUNT may log in through RADIUS."""
    from jet.accounts import AccountError, describe_access, update_account
    from jet.store.db import session

    settings = _settings()
    try:
        with session(settings.db_url) as s:
            changed = update_account(
                s,
                account_id,
                status=status,
                expires=expires,
                framed_ip=framed_ip,
                prepaid=prepaid,
                balance=balance,
            )
            summary = describe_access(changed)
    except AccountError as err:
        _fail(str(err))
    click.echo(f"{summary}; {_RADIUS_RELOAD}")


@main.group()
def radius() -> None:
    """The RADIUS server: authentication for the NAS clients, and their accounting landed."""


@radius.command("serve")
@click.option("--host", default="0.0.0.0", show_default=True, help="Address to listen on.")
@click.option(
    "--acct-port",
    default=1813,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="UDP port for accounting; 0 picks a free one (logged at start).",
)
@click.option(
    "--auth-port",
    default=1812,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="UDP port for authentication; 0 picks a free one (logged at start).",
)
@click.option(
    "--auth-refresh",
    default=30.0,
    show_default=True,
    type=click.FloatRange(0.1),
    help="Seconds between reloads of the accounts authentication answers from.",
)
@click.option(
    "--require-message-authenticator",
    is_flag=True,
    help="Drop Access-Requests without a Message-Authenticator (once every NAS sends one).",
)
@click.option(
    "--batch-rows",
    default=2000,
    show_default=True,
    type=click.IntRange(1),
    help="Land a batch once it has this many requests.",
)
@click.option(
    "--batch-ms",
    default=20.0,
    show_default=True,
    type=click.FloatRange(0),
    help="Land a batch once its oldest request has waited this long.",
)
@click.option(
    "--stats-every",
    default=60.0,
    show_default=True,
    type=click.FloatRange(0.1),
    help="Seconds between the counters in the log.",
)
def radius_serve(
    host: str,
    acct_port: int,
    auth_port: int,
    auth_refresh: float,
    require_message_authenticator: bool,
    batch_rows: int,
    batch_ms: float,
    stats_every: float,
) -> None:
    """Answer Access-Requests (PAP, CHAP) from the store, and land RADIUS accounting,
    answering each Accounting-Request once it is on disk.

    Logs to stderr. SIGTERM or Ctrl-C lands and answers what is pending, then stops;
    SIGHUP reloads the NAS clients and the accounts."""
    import asyncio
    import logging

    from ingest.landing import LandingError
    from ingest.radius.server import ServerError, serve
    from jet.nas import client_secrets
    from jet.network_access import load_view

    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(message)s"
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    settings = _settings()
    try:
        asyncio.run(
            serve(
                settings.raw,
                lambda: client_secrets(settings.db_url),
                host,
                acct_port,
                batch_rows=batch_rows,
                batch_delay=batch_ms / 1000,
                stats_every=stats_every,
                load_view=lambda: load_view(settings.db_url),
                auth_port=auth_port,
                refresh_every=auth_refresh,
                require_message_authenticator=require_message_authenticator,
            )
        )
    except (ServerError, LandingError) as err:
        _fail(str(err))


if __name__ == "__main__":
    main()
