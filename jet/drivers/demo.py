"""`jet demo`: a believable deployment from nothing, billed end to end through Dagster."""

from __future__ import annotations

import time
from datetime import date, timedelta
from pathlib import Path

from rich.table import Table
from sqlalchemy import func, select

from jet.config import Settings
from jet.drivers.console import console
from jet.drivers.demo_data import generate
from jet.drivers.demo_mail import email_invoices
from jet.drivers.demo_money import collect_money, prepare_money
from jet.drivers.jobs import run_job
from jet.store.db import session
from jet.store.models import Invoice, Realm, Subscription
from jet.warehouse import marts

# The demo's usage runs from August to October 2026; its last bill date is 1 November.
LAST_BILL_DATE = date(2026, 11, 1)


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
    with console.status("refreshing the marts with the issued invoices and payments"):
        run_job(settings, "rating", LAST_BILL_DATE, LAST_BILL_DATE)
    _print_summary(settings)
    console.print(f"Invoices e-mailed: {mailed:,} ({_shown(maildir)})")
    _print_money(settings)
    _print_documents(settings, first)
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
    console.print("Dagster's UI:     make dagster   (then open http://127.0.0.1:3000)")


def _print_documents(settings: Settings, first: date) -> None:
    """The papers an ISP's office hands on, made as `jet invoice print`, `export` and
    `journal` make them: the paper run of the last bill date, the accountants' export and
    the general-ledger journal of every bill date, and where the statements are."""
    from reports.gl_journal import export_journal
    from reports.invoice_export import export_invoices
    from reports.print_run import print_run

    folder = settings.root / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    table = Table(title="Documents", title_justify="left")
    table.add_column("what")
    table.add_column("file")
    table.add_column("holds", justify="right")
    printed = print_run(settings, LAST_BILL_DATE)
    if printed is not None:
        table.add_row(f"paper run {LAST_BILL_DATE}", _shown(printed[0]), f"{printed[1]:,} invoices")
    for fmt in ("xlsx", "parquet"):
        out = folder / f"invoice-lines_{first}_{LAST_BILL_DATE}.{fmt}"
        rows = export_invoices(settings, first, LAST_BILL_DATE, fmt, out)
        table.add_row(f"invoice lines ({fmt})", _shown(out), f"{len(rows):,} lines")
    out = folder / f"gl-journal_{first}_{LAST_BILL_DATE}.csv"
    rows = export_journal(settings, first, LAST_BILL_DATE, out)
    table.add_row("general-ledger journal", _shown(out), f"{len(rows):,} postings")
    statements = sorted(settings.pdf_dir.glob("*/statements/*.pdf"))
    if statements:
        table.add_row(
            "account statements",
            _shown(statements[0].parent.parent.parent) + "/*/statements",
            f"{len(statements):,} PDFs",
        )
    console.print(table)


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
        "Dunning:   .venv/bin/jet dunning status --as-of 2026-11-30 (its reminders wait in "
        "the outbox for a mail server: set JET_SMTP_HOST, then .venv/bin/jet events dispatch)"
    )
