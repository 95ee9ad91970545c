"""`jet mandate`: SEPA direct-debit mandates of billing accounts, through the core's one
door for each change (`jet.mandates`), as the CLI's actor."""

from __future__ import annotations

import click

from jet.cli.common import DAY, EXIT_CODES, READ_EXIT_CODES, echo_json, load_settings


@click.group(epilog=EXIT_CODES)
def mandate() -> None:
    """Direct-debit mandates: who lets their realm collect from which bank account."""


@mandate.command("add", epilog=EXIT_CODES)
@click.argument("account")
@click.option("--iban", required=True, help="The debtor's IBAN (spaces allowed).")
@click.option("--mandate-id", "reference", required=True, help="The signed mandate's id.")
@click.option("--signed", "signed", type=DAY, required=True, help="The day it was signed.")
@click.option("--bic", default=None, help="The debtor's bank's BIC (optional in SEPA).")
@click.option("--name", default=None, help="The account holder (default the account's name).")
def mandate_add(account: str, iban: str, reference: str, signed, bic, name) -> None:
    """Record the mandate ACCOUNT (a billing account) signed: its invoices are collected
    from --iban by `jet collect sepa`."""
    from jet.audit import Actor
    from jet.mandates import add_mandate
    from jet.store.db import session

    with session(load_settings().db_url) as s:
        m = add_mandate(
            s, Actor.here(), account, iban, reference, signed.date(), bic=bic, debtor_name=name
        )
        click.echo(f"mandate {m.reference}: {account} from {m.iban}, signed {m.signed_on}")


@mandate.command("revoke", epilog=EXIT_CODES)
@click.argument("mandate_id")
@click.option("--date", "day", type=DAY, default=None, help="From this day (default today).")
def mandate_revoke(mandate_id: str, day) -> None:
    """End mandate MANDATE_ID: nothing more is collected under it."""
    from jet.audit import Actor
    from jet.mandates import revoke_mandate
    from jet.store.db import session

    with session(load_settings().db_url) as s:
        m = revoke_mandate(s, Actor.here(), mandate_id, day and day.date())
        click.echo(f"mandate {m.reference} of {m.account_id} revoked from {m.revoked_on}")


@mandate.command("list", epilog=READ_EXIT_CODES)
@click.argument("account", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def mandate_list(account: str | None, as_json: bool) -> None:
    """Every mandate, or ACCOUNT's."""
    from jet.mandates import mandates
    from jet.store.db import session

    with session(load_settings().db_url) as s:
        shown = mandates(s, account)
    if as_json:
        echo_json(shown)
        return
    for m in shown:
        state = f"revoked {m['revoked_on']}" if m["revoked_on"] else "active"
        click.echo(
            f"{m['mandate']:<35} {m['account']:<20} {m['iban']:<34} "
            f"signed {m['signed_on']}  {state}"
        )
