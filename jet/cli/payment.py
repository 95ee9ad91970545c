"""`jet payment`: money received, refunded and written off, through the core's one door
for each (`jet.ledger`), as the CLI's actor, with its audit entry and event."""

from __future__ import annotations

from pathlib import Path

import click

from jet.cli.common import DAY, EXIT_CODES, READ_EXIT_CODES, echo_json, load_settings


@click.group(epilog=EXIT_CODES)
def payment() -> None:
    """Payments, refunds and write-offs in the accounts' ledgers."""


@payment.command("record", epilog=EXIT_CODES)
@click.argument("account")
@click.argument("amount")
@click.option(
    "--method",
    type=click.Choice(["cash", "cheque", "bank", "card", "sepa"]),
    required=True,
    help="How the money came.",
)
@click.option("--reference", default=None, help="The bank's or receipt's reference.")
@click.option("--date", "day", type=DAY, default=None, help="The day it arrived (default today).")
@click.option("--invoice", default=None, help="Pay this invoice number first.")
def payment_record(account: str, amount: str, method: str, reference, day, invoice) -> None:
    """Record AMOUNT received from ACCOUNT (its billing account). It pays --invoice
    first, then the oldest open invoices; what is left is credit for the next one."""
    from jet.account_views import balance_detail
    from jet.audit import Actor
    from jet.ledger import record_payment
    from jet.store.db import session

    settings = load_settings()
    with session(settings.db_url) as s:
        entry = record_payment(
            s, Actor.here(), account, amount, method,
            reference=reference, day=day and day.date(), invoice=invoice,
        )  # fmt: skip
        shown = balance_detail(s, account)
    click.echo(
        f"payment {entry.id}: {entry.currency} {-entry.amount} from {account} by {method}; "
        f"balance {shown['balance']} ({len(shown['open'])} open invoices)"
    )
    click.echo(f"receipt {_receipt(settings, entry.id)}")


@payment.command("receipt", epilog=READ_EXIT_CODES)
@click.argument("payment_id", type=int)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="Write the PDF here (default: under the PDF folder, kept once written).",
)
def payment_receipt(payment_id: int, out: Path | None) -> None:
    """Write the receipt PDF of payment PAYMENT_ID, as it was recorded: what it paid then
    and the credit it left. Prints the file's path."""
    if out is not None and not out.parent.is_dir():
        raise click.BadParameter(
            f"folder {out.parent} does not exist: create it or write elsewhere", param_hint="--out"
        )
    click.echo(_receipt(load_settings(), payment_id, out))


def _receipt(settings, payment_id: int, out: Path | None = None) -> Path:
    from jet.ledger_documents import receipt
    from jet.store.db import session
    from reports.receipt_pdf import render_receipt, write_receipt

    with session(settings.db_url) as s:
        doc = receipt(s, payment_id)
    if out is None:
        return write_receipt(doc, settings)
    out.write_bytes(render_receipt(doc))
    return out


@payment.command("topup", epilog=EXIT_CODES)
@click.argument("account")
@click.argument("amount")
@click.option(
    "--method",
    type=click.Choice(["cash", "cheque", "bank"]),
    required=True,
    help="How the money came.",
)
@click.option("--reference", default=None, help="The bank's or receipt's reference.")
@click.option("--date", "day", type=DAY, default=None, help="The day it arrived (default today).")
def payment_topup(account: str, amount: str, method: str, reference, day) -> None:
    """Add AMOUNT to prepaid ACCOUNT's credit, which rated usage runs down (docs/prepaid.md)."""
    from jet.audit import Actor
    from jet.prepaid import credit_left, top_up
    from jet.store.db import session

    settings = load_settings()
    with session(settings.db_url) as s:
        entry = top_up(
            s, Actor.here(), account, amount, method, reference=reference, day=day and day.date()
        )
        left = credit_left(s, [account])[account]
    click.echo(
        f"top-up {entry.id}: {entry.currency} {-entry.amount} to {account} by {method}; "
        f"{entry.currency} {left} left"
    )


@payment.command("refund", epilog=EXIT_CODES)
@click.argument("payment_id", type=int)
@click.option("--amount", default=None, help="Refund only this much (default all of it).")
@click.option("--reason", required=True, help="Why: kept in the ledger.")
@click.option("--date", "day", type=DAY, default=None, help="The day it was paid back.")
def payment_refund(payment_id: int, amount, reason: str, day) -> None:
    """Pay back all or --amount of payment PAYMENT_ID (a card payment through its
    gateway); what it paid is reopened as far as its unused part does not cover it."""
    from jet.audit import Actor
    from jet.card_charges import refund
    from jet.store.db import session

    settings = load_settings()
    with session(settings.db_url) as s:
        entry = refund(s, Actor.here(), payment_id, reason, amount=amount, day=day and day.date())
    click.echo(f"refund {entry.id}: {entry.currency} {entry.amount} of payment {payment_id}")


@payment.command("write-off", epilog=EXIT_CODES)
@click.argument("invoice")
@click.option("--reason", required=True, help="Why the debt is given up: kept in the ledger.")
def payment_write_off(invoice: str, reason: str) -> None:
    """Write off what is still due on INVOICE."""
    from jet.audit import Actor
    from jet.ledger import write_off
    from jet.store.db import session

    settings = load_settings()
    with session(settings.db_url) as s:
        entry = write_off(s, Actor.here(), invoice, reason)
    click.echo(f"wrote off {entry.currency} {-entry.amount} of {invoice}")


@payment.command("list", epilog=READ_EXIT_CODES)
@click.argument("account")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def payment_list(account: str, as_json: bool) -> None:
    """ACCOUNT's payments, refunds, reversals and write-offs, and its open invoices."""
    from jet.account_views import balance_detail, payments
    from jet.store.db import session

    settings = load_settings()
    with session(settings.db_url) as s:
        shown = {"payments": payments(s, account), **balance_detail(s, account)}
    if as_json:
        echo_json(shown)
        return
    for p in shown["payments"]:
        of = f" of payment {p['of_payment']}" if p["of_payment"] else ""
        by = f" by {p['method']}" if p["method"] else ""
        ref = f" ref {p['reference']}" if p["reference"] else ""
        why = f" ({p['reason']})" if p["reason"] else ""
        click.echo(
            f"{p['id']:>8}  {p['date']}  {p['kind']:<10} {p['amount']:>12}{by}{ref}{of}{why}"
        )
    _echo_open(shown)


def _echo_open(shown: dict) -> None:
    for d in shown["open"]:
        click.echo(
            f"open {d['number'] or d['kind']} of {d['date']}: {d['amount']}, "
            f"paid {d['paid']}, due {d['due']}"
        )
    click.echo(f"balance {shown['currency']} {shown['balance']} (credit {shown['credit']})")


def echo_balance(shown: dict) -> None:
    """`jet account balance`'s lines."""
    if shown["billed_to"] != shown["account"]:
        click.echo(f"{shown['account']} is billed to {shown['billed_to']}")
    _echo_open(shown)
