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


def _log_to_stderr() -> None:
    """What the servers log, timestamped on stderr (a service manager keeps it)."""
    import logging

    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(message)s"
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)


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
    """Data from outside Jet: external line items, upstream providers' usage files."""


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


@import_.command("usage")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--profile",
    "profile_name",
    required=True,
    help="How FILE reads: a profile name ($JET_HOME/profiles/, then examples/profiles/) "
    "or a profile's .yaml path.",
)
def import_usage(file: Path, profile_name: str) -> None:
    """Land the usage records of FILE, an upstream provider's CSV file.

    Rows that fail validation go to $JET_HOME/quarantine/ with their line and reasons;
    the rest land. Exits 0 when rows landed (even with some quarantined) or the file was
    already imported; 1 when the profile or the file cannot be read, or no row could
    be landed."""
    from datetime import datetime

    from ingest.csv.profiles import ProfileError, load_profile
    from ingest.csv.usage import UsageFileError
    from ingest.csv.usage import import_usage as run
    from jet.store.db import session

    settings = _settings()
    try:
        profile = load_profile(profile_name, settings.profiles)
        with session(settings.db_url) as s:
            result = run(
                file,
                profile,
                raw_root=settings.raw,
                quarantine_dir=settings.quarantine,
                session=s,
            )
    except (ProfileError, UsageFileError) as err:
        _fail(str(err))
    if result.landed_at is not None:
        when = datetime.fromisoformat(result.landed_at).strftime("%Y-%m-%d %H:%M UTC")
        click.echo(
            f"already imported on {when} as batch {result.batch_id} ({result.landed} rows "
            f"landed); nothing changed"
        )
        return
    if not result.landed and not result.rejected:
        click.echo(f"{file} holds no usage rows; nothing to import")
        return
    if result.landed:
        click.echo(f"{_rows(result.landed)} landed from {file} as batch {result.batch_id}")
    if result.rejected:
        shown = 5
        lines = [f"{_rows(len(result.rejected))} quarantined in {result.quarantine}:"]
        lines += [f"  line {r.line}: {r.reasons}" for r in result.rejected[:shown]]
        if len(result.rejected) > shown:
            lines.append(f"  ... and {len(result.rejected) - shown} more in that file")
        click.secho("\n".join(lines), fg="yellow")
    if not result.landed:
        _fail(
            f"nothing landed from {file}: every row was quarantined, and the file is not "
            "recorded as imported; fix the profile or add the accounts, then import it again"
        )


def _rows(n: int) -> str:
    return f"{n} row" if n == 1 else f"{n} rows"


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
    """Run the billing cycle for every bill date from --from to --to (one Dagster run).

    Invoices whose data fails a blocking data contract are held, with the reasons and
    what to do (`jet quality status`); the rest are issued, and it exits 1."""
    from jet.orchestration import JobFailed, run_job

    try:
        run_job(_settings(), "billing_cycle", first.date(), last.date())
    except JobFailed as err:
        _fail(str(err))
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
    from jet.orchestration import JobFailed, run_job

    day = as_of.date() if as_of else date.today()
    try:
        run_job(_settings(), "rating", day, day)
    except JobFailed as err:
        _fail(str(err))
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
def quality() -> None:
    """The data contracts every billing run checks, and the invoices they hold."""


@quality.command("status")
def quality_status() -> None:
    """The latest result of every check: passed, failed or waived, the rows that failed
    and when, the invoices it holds; then the waivers."""
    from jet.quality.gate import waivers
    from jet.quality.report import status
    from jet.quality.results import latest
    from jet.store.db import session

    settings = _settings()
    with session(settings.db_url) as s:
        click.echo(status(latest(s), waivers(s), settings.quality_docs))


@quality.command("waive")
@click.argument("check")
@click.option(
    "--date",
    "day",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="The bill date to issue anyway (default: every one up to today that CHECK holds).",
)
@click.option("--reason", required=True, help="Why the invoices may go out: kept with the waiver.")
@click.option("--by", default=None, help="Who decides (default: the logged-in user).")
def quality_waive(check: str, day, reason: str, by: str | None) -> None:
    """Let the invoices that CHECK holds go out at the next `jet bill` of their dates.

    CHECK is as `jet quality status` names it, e.g. raw_radius.known_account."""
    import getpass

    from jet.quality.gate import QualityError, waive
    from jet.store.db import session

    settings = _settings()
    try:
        with session(settings.db_url) as s:
            new, existing = waive(
                s, check, reason, by or getpass.getuser(), day.date() if day else None
            )
    except QualityError as err:
        _fail(str(err))
    for w in existing:
        click.echo(f"{check} was waived for {w.bill_date} already, by {w.waived_by}: {w.reason}")
    if new:
        dates = ", ".join(str(d) for d in new)
        click.echo(f"waived {check} for {dates}; bill them again to issue their invoices")


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
@click.option(
    "--coa-port",
    default=3799,
    show_default=True,
    type=int,
    help="The UDP port the NAS takes Disconnect and CoA requests on.",
)
def nas_add(address: str, secret: str, realm: str, name: str | None, coa_port: int) -> None:
    """Accept RADIUS from the NAS at ADDRESS (the IPv4 address it sends from)."""
    from jet.nas import NasError, add_nas_client
    from jet.store.db import session

    settings = _settings()
    try:
        with session(settings.db_url) as s:
            client = add_nas_client(s, address, secret, realm, name, coa_port)
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
        click.echo(
            f"{c.address:<15}  {c.realm_id:<16}  {c.name or '-':<24}  added {added}  "
            f"CoA port {c.coa_port}"
        )


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
    _dispatch_now(settings, account_id)


@account.command("plan")
@click.argument("account_id", metavar="ACCOUNT")
@click.argument("plan")
@click.option(
    "--from",
    "day",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="The day the new plan starts (default today, UTC).",
)
def account_plan(account_id: str, plan: str, day) -> None:
    """Move ACCOUNT to PLAN: its subscription ends and the new one starts on the same day,
    and the NAS gets a CoA-Request with the new plan's reply attributes that day."""
    from datetime import UTC, datetime

    from jet.accounts import AccountError, change_plan
    from jet.store.db import session

    settings = _settings()
    start = day.date() if day else datetime.now(UTC).date()
    try:
        with session(settings.db_url) as s:
            change_plan(s, account_id, plan, start)
    except AccountError as err:
        _fail(str(err))
    click.echo(f"{account_id} is on {plan} from {start}")
    if start > datetime.now(UTC).date():
        click.echo(f"its session gets a CoA-Request on {start}, from `jet radius serve`")
    else:
        _dispatch_now(settings, account_id)


def _dispatch_now(settings: Settings, account_id: str) -> None:
    """Send the Disconnect or CoA the change just queued; a running `jet radius serve`
    retries what gets no answer."""
    from jet.session_control import dispatch

    for outcome in dispatch(settings, account_id):
        click.secho(outcome.text, fg="yellow" if outcome.failed else None, err=outcome.failed)


@main.group()
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
    from jet.remote_realms import RemoteRealmError, add_remote_realm
    from jet.store.db import session

    settings = _settings()
    try:
        with session(settings.db_url) as s:
            remote = add_remote_realm(
                s, name, server, secret, acct_port=acct_port, timeout=timeout, retries=retries
            )
    except RemoteRealmError as err:
        _fail(str(err))
    click.echo(
        f"realm {remote.realm} is remote: logins go to {remote.address}:{remote.auth_port}"
        + (f", accounting is copied to port {remote.acct_port}" if remote.acct_port else "")
        + f"; {_RADIUS_RELOAD}"
    )


@realm_remote.command("list")
def realm_remote_list() -> None:
    """Print the remote realms (secrets are not shown)."""
    from jet.remote_realms import remote_realms
    from jet.store.db import session

    with session(_settings().db_url) as s:
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
    from jet.remote_realms import RemoteRealmError, remove_remote_realm
    from jet.store.db import session

    settings = _settings()
    try:
        with session(settings.db_url) as s:
            remote = remove_remote_realm(s, name)
    except RemoteRealmError as err:
        _fail(str(err))
    click.echo(f"realm {remote.realm} is no longer remote; {_RADIUS_RELOAD}")


@main.group()
def radius() -> None:
    """The RADIUS server (authentication, accounting landed), and Disconnect and CoA to NAS."""


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
    default=0.0,
    show_default=True,
    type=click.FloatRange(0),
    help="Wait this long from a batch's first request before landing it (0: land as soon "
    "as the batch before it has landed; more: fewer, larger files, slower answers).",
)
@click.option(
    "--stats-every",
    default=60.0,
    show_default=True,
    type=click.FloatRange(0.1),
    help="Seconds between the counters in the log.",
)
@click.option(
    "--dispatch-every",
    default=5.0,
    show_default=True,
    type=click.FloatRange(0.1),
    help="Seconds between sends of the Disconnect and CoA requests that are due.",
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
    dispatch_every: float,
) -> None:
    """Answer Access-Requests (PAP, CHAP) from the store, or proxy them to the home
    server of a remote realm, and land RADIUS accounting (copying remote realms' to their
    home servers), answering each Accounting-Request once it is on disk; send the
    Disconnect and CoA requests that account changes queued (and retry them).

    Logs to stderr. SIGTERM or Ctrl-C lands and answers what is pending, then stops;
    SIGHUP reloads the NAS clients, the accounts and the remote realms."""
    import asyncio
    import threading

    from ingest.landing import LandingError
    from ingest.radius.server import ServerError, serve
    from jet.nas import client_secrets
    from jet.network_access import load_view
    from jet.session_control import dispatch_forever
    from jet.store.db import upgrade

    _log_to_stderr()
    settings = _settings()
    upgrade(settings.db_url)  # before the dispatcher's thread and the server share the store
    stop_dispatching = threading.Event()
    threading.Thread(
        target=dispatch_forever,
        args=(settings, dispatch_every, stop_dispatching),
        name="radius-dispatch",
        daemon=True,
    ).start()
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
    finally:
        stop_dispatching.set()


@radius.command("disconnect")
@click.argument("user")
def radius_disconnect(user: str) -> None:
    """Send a Disconnect-Request (RFC 5176) for USER's open session to the NAS that holds
    it, as the landed accounting shows. USER is an account, or account@realm.

    Exits 0 on Disconnect-ACK, or when USER has no open session (nothing is sent);
    1 on Disconnect-NAK, no answer, or a session on a NAS that is not a client."""
    from jet.session_control import disconnect

    outcome = disconnect(_settings(), user.rpartition("@")[0] or user)
    if outcome.failed:
        _fail(outcome.text)
    click.echo(outcome.text)


@radius.command("dispatch")
def radius_dispatch() -> None:
    """Send the Disconnect and CoA requests that account changes queued and that are due
    (a running `jet radius serve` does this every few seconds).

    Exits 1 if any got a NAK or no answer (those without an answer are tried again)."""
    from jet.session_control import dispatch

    outcomes = dispatch(_settings())
    for outcome in outcomes:
        click.echo(outcome.text)
    if not outcomes:
        click.echo("nothing to send")
    if any(outcome.failed for outcome in outcomes):
        sys.exit(1)


@main.group()
def ip() -> None:
    """Static IP assignments: the networks whose flows an account pays for."""


@ip.command("assign")
@click.argument("account")
@click.argument("network")
def ip_assign(account: str, network: str) -> None:
    """Give ACCOUNT the NETWORK (192.0.2.8/29, 2001:db8::/48 or one address)."""
    from jet.addresses import AddressError, assign
    from jet.store.db import session

    try:
        with session(_settings().db_url) as s:
            assigned = assign(s, account, network).network
    except AddressError as err:
        _fail(str(err))
    click.echo(f"assigned {assigned} to {account}; flows are attributed from the next rating")


@ip.command("unassign")
@click.argument("network")
def ip_unassign(network: str) -> None:
    """Take NETWORK away from its account."""
    from jet.addresses import AddressError, unassign
    from jet.store.db import session

    try:
        with session(_settings().db_url) as s:
            removed = unassign(s, network)
            click.echo(f"unassigned {removed.network} from {removed.account_id}")
    except AddressError as err:
        _fail(str(err))


@ip.command("list")
@click.argument("account", required=False)
def ip_list(account: str | None) -> None:
    """Print the assignments, of ACCOUNT or of every account."""
    from jet.addresses import assignments
    from jet.store.db import session

    with session(_settings().db_url) as s:
        rows = [(a.account_id, a.network) for a in assignments(s, account)]
    if not rows:
        click.echo("no IP assignments; add one with `jet ip assign ACCOUNT NETWORK`")
    for account_id, network in rows:
        click.echo(f"{account_id:<24}  {network}")


@main.group()
def netflow() -> None:
    """The NetFlow v5/v9/IPFIX collector: routers' flow records landed for billing."""


@netflow.command("serve")
@click.option("--host", default="0.0.0.0", show_default=True, help="Address (IPv4 or IPv6).")
@click.option(
    "--port",
    default=2055,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="UDP port; 0 picks a free one (logged at start).",
)
@click.option(
    "--batch-flows",
    default=100_000,
    show_default=True,
    type=click.IntRange(1),
    help="Land a batch once it holds this many flows.",
)
@click.option(
    "--batch-seconds",
    default=1.0,
    show_default=True,
    type=click.FloatRange(0.01),
    help="Land a batch once its first flow has waited this long.",
)
@click.option(
    "--stats-every",
    default=60.0,
    show_default=True,
    type=click.FloatRange(0.1),
    help="Seconds between the counters in the log.",
)
def netflow_serve(
    host: str, port: int, batch_flows: int, batch_seconds: float, stats_every: float
) -> None:
    """Collect NetFlow v5, v9 and IPFIX from any exporter and land the flows.

    Logs to stderr. SIGTERM or Ctrl-C lands what is buffered, then stops."""

    from ingest.netflow.collector import serve

    _log_to_stderr()
    try:
        serve(
            _settings().raw,
            host,
            port,
            batch_flows=batch_flows,
            batch_seconds=batch_seconds,
            stats_every=stats_every,
        )
    except OSError as err:
        _fail(f"cannot listen on UDP {host}:{port}: {err.strerror or err}")


if __name__ == "__main__":
    main()
