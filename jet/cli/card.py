"""`jet card`: cards stored at the realm's gateway for billing accounts, and top-ups
charged to them, through the core's one door for each (`jet.cards`, `jet.card_charges`)."""

from __future__ import annotations

import click

from jet.cli.common import EXIT_CODES, READ_EXIT_CODES, echo_json, fail, load_settings


@click.group(epilog=EXIT_CODES)
def card() -> None:
    """Stored cards: invoices are charged to them when issued, top-ups on request."""


@card.command("add", epilog=EXIT_CODES)
@click.argument("account")
@click.option("--number", required=True, help="The card number (spaces allowed).")
@click.option("--expiry", required=True, help="MM/YY as printed on the card.")
@click.option("--cvc", default=None, help="The 3 or 4 digits on the back (never kept).")
def card_add(account: str, number: str, expiry: str, cvc) -> None:
    """Store a card for ACCOUNT at its realm's gateway; it becomes the card charged."""
    from jet.audit import Actor
    from jet.cards import add_card
    from jet.store.db import session

    with session(load_settings().db_url) as s:
        row = add_card(s, Actor.here(), account, number, expiry, cvc)
    click.echo(f"card {row.id}: {row.brand} ending {row.last4} for {account}")


@card.command("list", epilog=READ_EXIT_CODES)
@click.argument("account")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def card_list(account: str, as_json: bool) -> None:
    """ACCOUNT's stored cards (the one charged first) and its gateway charges."""
    from jet.card_charges import charges
    from jet.cards import cards, shown
    from jet.store.db import session

    with session(load_settings().db_url) as s:
        listed = {
            "cards": [shown(c) for c in cards(s, account)],
            "charges": [
                {"id": c.id, "at": c.at.isoformat(), "kind": c.kind, "attempt": c.attempt,
                 "amount": str(c.amount), "currency": c.currency, "outcome": c.outcome,
                 "reason": c.reason, "reference": c.reference}
                for c in charges(s, account)
            ],
        }  # fmt: skip
    if as_json:
        echo_json(listed)
        return
    for c in listed["cards"]:
        click.echo(f"card {c['id']}: {c['brand']} ending {c['last4']}, expires {c['expiry']}")
    for c in listed["charges"]:
        why = f" ({c['reason']})" if c["reason"] else ""
        click.echo(
            f"{c['at'][:16]}  {c['kind']:<7} {c['currency']} {c['amount']:>10}  "
            f"{c['outcome']}{why}  {c['reference']}"
        )


@card.command("remove", epilog=EXIT_CODES)
@click.argument("account")
@click.argument("card_id", type=int)
def card_remove(account: str, card_id: int) -> None:
    """Stop charging ACCOUNT's card CARD_ID (`jet card list` shows it)."""
    from jet.audit import Actor
    from jet.cards import remove_card
    from jet.store.db import session

    with session(load_settings().db_url) as s:
        row = remove_card(s, Actor.here(), account, card_id)
    click.echo(f"removed card {row.id} ({row.brand} ending {row.last4}) of {account}")


@card.command("charge", epilog=EXIT_CODES)
@click.argument("account")
@click.argument("amount")
@click.option("--key", default=None, help="Charge once only: the same key again does nothing.")
def card_charge(account: str, amount: str, key) -> None:
    """Top up prepaid ACCOUNT by AMOUNT charged to its card."""
    from jet.audit import Actor
    from jet.card_charges import top_up
    from jet.store.db import session

    with session(load_settings().db_url) as s:
        charge = top_up(s, Actor.here(), account, amount, key)
    if charge.outcome != "charged":  # the declined attempt is kept
        fail(f"the card was declined ({charge.reason}): nothing was topped up")
    click.echo(f"topped up {account} by {charge.currency} {charge.amount} ({charge.reference})")
