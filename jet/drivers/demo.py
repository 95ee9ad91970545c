"""`jet demo`: a believable deployment from nothing, billed end to end through Dagster."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

from rich.table import Table
from sqlalchemy import func, select

from jet.config import Settings
from jet.drivers import demo_documents as documents
from jet.drivers.console import console
from jet.drivers.demo_console import URL, DemoLogin, prepare_console
from jet.drivers.demo_data import generate
from jet.drivers.demo_hooks import provision
from jet.drivers.demo_mail import email_invoices, email_notices, email_reports
from jet.drivers.demo_money import DUNNING_AS_OF, collect_money, prepare_money
from jet.drivers.demo_portal import PASSWORD, DemoCustomer, prepare_portal
from jet.drivers.jobs import run_job
from jet.store.db import session
from jet.store.models import Invoice, InvoiceLine, Realm, Subscription
from jet.warehouse import marts

# The demo's usage runs from August to October 2026; its last bill date is 1 November;
# payments and dunning run to 30 November, so its last whole month is November.
LAST_BILL_DATE = date(2026, 11, 1)
STATEMENT_MONTH = date(2026, 11, 1)
REPORT_MONTH = date(2026, 10, 1)  # the month of the scheduled reports the demo e-mails
TODAY = DUNNING_AS_OF + timedelta(days=1)  # the demo's today, for what asks for one
USAGE_WARNING, REMINDER = "usage.threshold_crossed", "dunning.reminder"


def _month_ranges(first: date, last: date) -> list[tuple[date, date]]:
    """Bill-date ranges of one calendar month each; the last one ends at `last`."""
    ranges, start = [], first
    while start <= last:
        following = (start.replace(day=1) + timedelta(days=32)).replace(day=1)
        end = min(following - timedelta(days=1), last)
        if following == last:
            end = last  # fold the final boundary into the last month's run
        ranges.append((start, end))
        start = end + timedelta(days=1)
    return ranges


def _step(message: str) -> None:
    console.print(f"  [cyan]•[/] {message}")


def run_demo(settings: Settings, accounts: int = 2000) -> None:
    began = time.monotonic()
    console.rule("[bold]Jet demo")
    console.print(f"JET_HOME is {settings.root}")
    summary = generate(settings, accounts=accounts, progress=_step)
    prepare_money(settings, _step)
    rows = summary["rows"]
    console.print(
        f"  [green]✓[/] {sum(summary['accounts'].values()):,} accounts, "
        f"{summary['subscriptions']:,} subscriptions; landed "
        + ", ".join(f"{n:,} {src}" for src, n in rows.items())
        + " rows"
    )

    with session(settings.db_url) as s:
        first = s.scalar(select(func.min(Subscription.start_date)))
    ranges = _month_ranges(first, LAST_BILL_DATE)
    for n, (start, end) in enumerate(ranges, start=1):
        tick = time.monotonic()
        with console.status(
            f"billing cycle {n}/{len(ranges)}: bill dates {start} to {end} "
            "(snapshot, dbt build, issue, PDFs)"
        ):
            run_job(settings, "billing_cycle", start, end)
        console.print(
            f"  [green]✓[/] billing cycle {n}/{len(ranges)}: {start} to {end} "
            f"in {time.monotonic() - tick:.0f} s"
        )
    tick = time.monotonic()
    with console.status("e-mailing the invoices to the demo's mail server"):
        mailed, maildir = email_invoices(settings)
    console.print(
        f"  [green]✓[/] {mailed:,} invoices e-mailed over SMTP in {time.monotonic() - tick:.0f} s"
    )
    with console.status("customers paying: cards, transfers, SEPA direct debits, dunning"):
        money = collect_money(settings, _step)
    console.print(
        "  [green]✓[/] money in: " + ", ".join(f"{n:,} {what}" for what, n in money.items())
    )
    tick = time.monotonic()
    with (
        console.status("refreshing the marts with the invoices and payments; e-mailing notices"),
        ThreadPoolExecutor(1) as meanwhile,
    ):
        sending = meanwhile.submit(email_notices, settings)  # SMTP waits while dbt works
        run_job(settings, "rating", LAST_BILL_DATE, LAST_BILL_DATE)
        notices = sending.result()
    console.print(
        f"  [green]✓[/] marts refreshed; {notices[USAGE_WARNING]:,} usage warnings and "
        f"{notices[REMINDER]:,} dunning reminders e-mailed, in {time.monotonic() - tick:.0f} s"
    )
    tick = time.monotonic()
    with console.status("writing statements, the paper run and the exports"):
        samples = documents.samples(settings, LAST_BILL_DATE, STATEMENT_MONTH, TODAY)
        paper = documents.paper_run(settings, LAST_BILL_DATE)
        exports = documents.exports(settings, ranges[0][0], DUNNING_AS_OF)
    console.print(
        f"  [green]✓[/] statements, paper run and exports in {time.monotonic() - tick:.0f} s"
    )
    tick = time.monotonic()
    with console.status(f"the {REPORT_MONTH:%B} reports: report models, scheduled e-mails"):
        reports = email_reports(settings, REPORT_MONTH)
    console.print(
        f"  [green]✓[/] {reports} scheduled report e-mails for {REPORT_MONTH:%Y-%m} "
        f"(the finance pack, as PDF) in {time.monotonic() - tick:.0f} s"
    )
    tick = time.monotonic()
    with console.status("provisioning: Acme's hooks to its CRM's database and mail"):
        provisioned = provision(settings)
    console.print(
        f"  [green]✓[/] hooks: {provisioned['hook:acme:crm-mirror']:,} account changes "
        f"mirrored to Acme's CRM, {provisioned['hook:acme:suspended']:,} suspension notices "
        f"e-mailed, in {time.monotonic() - tick:.0f} s"
    )
    logins = prepare_console(settings)
    customers = prepare_portal(settings)
    _print_summary(settings)
    console.print(
        f"Invoices e-mailed: {mailed:,}; usage warnings e-mailed: {notices[USAGE_WARNING]:,}; "
        f"dunning reminders e-mailed: {notices[REMINDER]:,} (all in {_shown(maildir)})"
    )
    _print_documents(settings, samples, paper, exports)
    _print_money(settings)
    console.print(
        f"Provisioning: {_shown(settings.root / 'hooks' / 'acme.yaml')} "
        f"(.venv/bin/jet hooks list); Acme's CRM table in "
        f"{_shown(settings.root / 'provisioning' / 'crm.db')}"
    )
    _print_console(logins)
    _print_portal(customers)
    console.print(f"done in {time.monotonic() - began:.0f} s")


def _shown(path: Path) -> str:
    """`path` relative to the working directory where it is under it (var/demo-mail)."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _print_summary(settings: Settings) -> None:
    with session(settings.db_url) as s:
        rows = s.execute(
            select(
                Realm.name,
                Invoice.currency,
                func.count(),
                func.min(Invoice.number),
                func.max(Invoice.number),
            )
            .join(Realm, Realm.id == Invoice.realm_id)
            .group_by(Realm.name, Invoice.currency)
        ).all()
        totals = {
            name: sum(
                (
                    t
                    for (t,) in s.execute(
                        select(Invoice.total)
                        .join(Realm, Realm.id == Invoice.realm_id)
                        .where(Realm.name == name)
                    )
                ),
                start=0,
            )
            for name, *_ in rows
        }
        explained = _a_usage_line(s)
    table = Table(title="Issued invoices", title_justify="left")
    for column in ("realm", "invoices", "numbers", "total"):
        table.add_column(column, justify="right" if column in ("invoices", "total") else "left")
    for name, currency, count, low, high in rows:
        table.add_row(name, f"{count:,}", f"{low} … {high}", f"{currency} {totals[name]:,.2f}")
    console.print(table)
    console.print(f"PDF invoices:  {settings.pdf_dir}")
    console.print(f"Marts (Parquet): {settings.marts}")
    console.print(
        'Query the marts:  .venv/bin/jet sql "select realm_id, count(*), sum(total) '
        'from fct_invoices group by all"'
    )
    console.print(
        "Reports:          .venv/bin/jet report list; "
        ".venv/bin/jet report run finance --format pdf --out finance"
    )
    if explained:
        console.print(
            f"Lineage:          .venv/bin/jet invoice explain {explained[0]} --line "
            f"{explained[1]}; make docs (dbt's site with its lineage graph)"
        )
    console.print("Dagster's UI:     make dagster   (then open http://127.0.0.1:3000)")


def _a_usage_line(s) -> tuple[str, int] | None:
    """The first issued usage line with usage, as (invoice number, position printed)."""
    line = s.scalars(
        select(InvoiceLine)
        .where(InvoiceLine.kind == "usage", InvoiceLine.quantity > 0)
        .order_by(InvoiceLine.id)
        .limit(1)
    ).first()
    if line is None:
        return None
    before = s.scalar(
        select(func.count())
        .select_from(InvoiceLine)
        .where(InvoiceLine.invoice_id == line.invoice_id, InvoiceLine.id <= line.id)
    )
    return line.invoice.number, before


def _print_console(logins: tuple[DemoLogin, ...]) -> None:
    table = Table(title=f"Staff console: make console, then open {URL}", title_justify="left")
    for column in ("e-mail", "password", "role", "realms"):
        table.add_column(column)
    for login in logins:
        realms = "all" if login.realms is None else ", ".join(login.realms)
        table.add_row(login.email, login.password, login.role, realms)
    console.print(table)
    console.print("The certificate is self-signed (JET_HOME/console): accept it once.")


def _print_portal(customers: list[DemoCustomer]) -> None:
    table = Table(
        title=f"Customer portal: make portal; every login's password is {PASSWORD}",
        title_justify="left",
    )
    for column in ("login", "realm", "what", "open"):
        table.add_column(column)
    for c in customers:
        table.add_row(c.login, c.realm, c.what, c.url)
    console.print(table)


def _print_documents(
    settings: Settings,
    samples: list[documents.Sample],
    paper: documents.PaperRun | None,
    exports: tuple[documents.Export, documents.Export],
) -> None:
    """Where to look: a customer's invoice and statement per realm, the paper run, the
    exports; each path as the working directory sees it, and what it holds."""
    table = Table(title="Documents", title_justify="left", box=None, show_header=False)
    table.add_column("what", style="bold")
    table.add_column("file", overflow="fold")
    for sample in samples:
        when = LAST_BILL_DATE if sample.what == "invoice" else f"{STATEMENT_MONTH:%Y-%m}"
        table.add_row(
            sample.realm if sample.what == "invoice" else "",
            f"[cyan]{_shown(sample.path)}[/]\n"
            f"{sample.what} {when} of {sample.name} ({sample.account})",
        )
    if paper is not None:
        table.add_row(
            "paper run",
            f"[cyan]{_shown(paper.path)}[/]\n{paper.invoices:,} invoices, {paper.pages:,} "
            f"pages (jet invoice print --date {LAST_BILL_DATE})",
        )
    lines, journal = exports
    table.add_row(
        "export",
        f"[cyan]{_shown(lines.path)}[/]\n{lines.rows:,} lines of {lines.documents:,} "
        "invoices and credit notes (jet invoice export)",
    )
    table.add_row(
        "journal",
        f"[cyan]{_shown(journal.path)}[/]\n{journal.rows:,} rows, {journal.documents:,} "
        "journal entries (jet invoice journal)",
    )
    console.print(table)
    if paper is None:
        console.print(f"Paper run: no paper invoices on {LAST_BILL_DATE}")
    if samples:
        console.print(
            f"Statements: .venv/bin/jet account statement {samples[-1].account} --month "
            f"{STATEMENT_MONTH:%Y-%m}; those the billing runs wrote (asset statement_pdfs) "
            f"are in {_shown(settings.pdf_dir)}/*/statements"
        )


_MONEY = """
    select realm_id, currency,
           count(distinct account_id) filter (where open_amount > 0 and kind = 'invoice'),
           sum(amount) filter (where kind in ('invoice', 'credit_note', 'usage')) as invoiced,
           -sum(amount) filter (where kind in ('payment', 'top_up')) as received,
           -sum(amount) filter (where kind = 'write_off') as written_off,
           sum(amount) as owed
    from fct_ledger_entries group by all order by realm_id
"""
_METHODS = """
    select realm_id,
           case when kind = 'payment' then method else concat_ws(' ', method, kind) end,
           count(*), -sum(amount)
    from fct_ledger_entries
    where kind in ('payment', 'top_up', 'refund', 'reversal') group by all order by 1, 2
"""


def _print_money(settings: Settings) -> None:
    """What the ledger mart says came in, and what is still owed."""
    con = marts(settings)
    money, methods = con.execute(_MONEY).fetchall(), con.execute(_METHODS).fetchall()
    con.close()
    table = Table(title="Money in (fct_ledger_entries)", title_justify="left")
    columns = ("realm", "invoiced", "received", "written off", "owed", "owing")
    for column in columns:
        table.add_column(column, justify="left" if column == "realm" else "right")
    for realm, currency, owing, *amounts in money:
        table.add_row(f"{realm} ({currency})", *(f"{a or 0:,.2f}" for a in amounts), f"{owing:,}")
    console.print(table)
    by_realm: dict[str, list[str]] = {}
    for realm, method, count, amount in methods:
        by_realm.setdefault(realm, []).append(f"{method} {count:,} ({abs(amount):,.2f})")
    for realm, ways in by_realm.items():
        console.print(f"  {realm}: " + ", ".join(ways))
    console.print(
        "Balances:  .venv/bin/jet account balance acme-00001   ·   "
        ".venv/bin/jet payment list euro-001   ·   .venv/bin/jet payment unmatched"
    )
    console.print(f"SEPA files: {settings.root / 'sepa'}")
    console.print(
        "Dunning:   .venv/bin/jet dunning status --as-of 2026-11-30 (its reminders went to "
        "the demo's mail server with the usage warnings: .venv/bin/jet events list)"
    )
