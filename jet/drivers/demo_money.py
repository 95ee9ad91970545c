"""The demo's money: how its customers pay, through the same core functions as everyone.

Before billing: EuroWave, a euro realm whose customers signed SEPA mandates; sandbox
cards stored for some Acme customers (three that will be declined); prepaid hotspot
logins at SkyFi topped up in cash. After billing: card charges on issue (the outbox's
card-gateway subscriber), bank transfers for most invoices (recorded as a batch, as a
statement import records them), EuroWave's direct debits collected into pain.008 files
and their bank statement imported (one returned debit, one transfer nobody can match),
and the dunning ladder run as of 30 November over what is left unpaid."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from datetime import date, timedelta

import numpy as np
from schwifty import IBAN
from sqlalchemy import select

from jet import card_charges, dunning
from jet.accounts import add_accounts, start_subscriptions, update_account
from jet.audit import Actor
from jet.bank_statements import read_camt053
from jet.cards import add_card
from jet.catalog import load_catalog_file
from jet.config import PROJECT_ROOT, Settings
from jet.deliveries import dispatch
from jet.direct_debit import collect, write
from jet.drivers.camt053 import Booked, statement
from jet.drivers.demo_addresses import eurowave_customers
from jet.ledger import open_entries
from jet.mandates import add_mandate
from jet.payment_batches import Received, record_payments
from jet.prepaid import top_up
from jet.realms import store_catalog
from jet.statement_import import import_statements
from jet.store.db import session
from jet.store.models import (
    Account,
    Collection,
    Invoice,
    PaymentCard,
    Realm,
    Subscription,
)

ME = Actor("demo", "demo")
CATALOG = PROJECT_ROOT / "examples" / "catalogs" / "eurowave.yaml"
EURO_ACCOUNTS, EURO_SEED = 40, 7  # customers in Berlin and Potsdam (jet.drivers.demo_addresses)
CARDS, DECLINING = 30, 3  # Acme customers paying by a stored card; of them, declined
PREPAID = 6  # SkyFi pay-as-you-go logins made prepaid
# The sandbox gateway takes any key; a real deployment sets these in its environment.
SANDBOX_KEYS = {"ACME_GATEWAY_KEY": "sk_test_jet_demo", "SKYFI_GATEWAY_KEY": "sk_test_jet_demo"}
DUNNING_AS_OF = date(2026, 11, 30)


def use_sandbox_keys() -> None:
    for name, key in SANDBOX_KEYS.items():
        os.environ.setdefault(name, key)


def prepare_money(settings: Settings, progress: Callable[[str], None]) -> None:
    """EuroWave with its mandates, stored cards and prepaid logins; once per store."""
    use_sandbox_keys()
    with session(settings.db_url) as s:
        if s.get(Realm, "eurowave") is not None:
            return
        progress("Adding EuroWave (EUR, SEPA mandates), stored cards and prepaid logins")
        store_catalog(s, load_catalog_file(CATALOG), CATALOG.name)
        euro = eurowave_customers(np.random.default_rng(EURO_SEED), EURO_ACCOUNTS)
        add_accounts(
            s, "eurowave", [{k: v for k, v in a.items() if k != "debtor"} for a in euro], ME
        )
        start_subscriptions(s, ME, [(a["id"], "fibre", date(2026, 8, 1), None) for a in euro])
        for i, a in enumerate(euro, start=1):
            iban = IBAN.generate("DE", bank_code="37040044", account_code=f"{4000 + i:010d}")
            add_mandate(s, ME, a["id"], str(iban), f"EW-{i:05d}", date(2026, 7, 20),
                        debtor_name=a["debtor"])  # fmt: skip
        payers = s.scalars(
            select(Account.id)
            .where(Account.realm_id == "acme", Account.parent_id.is_(None))
            .order_by(Account.id)
            .limit(CARDS)
        ).all()
        for n, account in enumerate(payers):
            number = "4000000000009995" if n < DECLINING else "4242424242424242"
            add_card(s, ME, account, number, "12/30", today=date(2026, 7, 25))
        prepaid = s.scalars(
            select(Account.id)
            .join(Subscription, Subscription.account_id == Account.id)
            .where(Subscription.plan_id == "pay-as-you-go")
            .order_by(Account.id)
            .limit(PREPAID)
        ).all()
        for account in prepaid:
            update_account(s, account, prepaid=True, actor=ME)
            top_up(s, ME, account, "20.00", "cash", day=date(2026, 7, 30))


def collect_money(settings: Settings, progress: Callable[[str], None]) -> dict[str, int]:
    """Charge the stored cards, record the transfers, collect EuroWave's direct debits
    and import their statement; what happened, counted."""
    use_sandbox_keys()
    counts: dict[str, int] = {}
    with session(settings.db_url) as s:
        carded = s.scalars(select(PaymentCard.account_id).distinct()).all()
    # Only the card holders' invoices: the others' `invoice.issued` events ask the card
    # subscriber for nothing, and wait for the next `jet events dispatch`.
    gateway = card_charges.subscriber()
    counts["card charges"] = sum(
        len(dispatch(settings, [gateway], account_id=account)) for account in carded
    )
    with session(settings.db_url) as s:
        counts["transfers"] = _transfers(s)
        counts.update(_direct_debits(settings, s))
        done = dunning.run(s, DUNNING_AS_OF)
    counts.update({f"dunning {what}": n for what, n in sorted(done.taken.items()) if n})
    return counts


def _pays(account: str, share: int) -> bool:
    """Whether `account` is among the `share` percent who pay (the same ones every run)."""
    return int(hashlib.sha256(account.encode()).hexdigest(), 16) % 100 < share


def _transfers(s) -> int:
    """Most Acme and SkyFi customers without a card pay each invoice by bank transfer ten
    days after its bill date; 8 in 100 stop paying after their first invoice and 4 in 100
    never pay: dunning's work."""
    carded = set(s.scalars(select(PaymentCard.account_id)))
    received = []
    for account in s.scalars(
        select(Account.id)
        .where(Account.realm_id.in_(("acme", "skyfi")), Account.parent_id.is_(None))
        .order_by(Account.id)
    ):
        if account in carded or not _pays(account, 96):
            continue
        _, debits = open_entries(s, account)
        invoices = [d for d in debits if d.entry.kind == "invoice"]
        if not _pays(account, 91):
            invoices = invoices[:1]
        received += [
            Received(account, d.left, d.entry.entry_date + timedelta(days=10), "bank",
                     key=f"demo-transfer:{d.entry.id}", target_id=d.entry.id)
            for d in invoices
        ]  # fmt: skip
    record_payments(s, ME, received)
    return len(received)


def _direct_debits(settings: Settings, s) -> dict[str, int]:
    """Collect EuroWave's invoices on each due date into a pain.008 file, then import the
    bank's statement: every collection credited but one returned for lack of funds
    (AM04), and a transfer whose sender wrote no reference."""
    folder = settings.root / "sepa"
    bills = s.scalars(
        select(Invoice.bill_date).where(Invoice.realm_id == "eurowave").distinct()
    ).all()
    files = 0
    for bill in sorted(bills):
        batch = collect(s, ME, "eurowave", bill + timedelta(days=14))
        if batch is not None:
            write(batch, folder / f"{batch.message_id}.xml")
            files += 1
    done = s.scalars(select(Collection).order_by(Collection.id)).all()
    sepa = load_catalog_file(CATALOG).realm.sepa
    booked = [
        Booked(f"EW-{c.id}", f"{c.amount:.2f}", day=c.collection_date,
               end_to_end_id=c.end_to_end_id)
        for c in done if c.status == "pending"
    ]  # fmt: skip
    if booked:
        last = booked[-1]
        booked += [
            Booked(f"EW-R{last.ref}", last.amount, credit=False, day=DUNNING_AS_OF,
                   end_to_end_id=last.end_to_end_id, return_code="AM04"),
            Booked("EW-X1", "47.48", day=DUNNING_AS_OF, name="M. Mustermann",
                   reference="Rechnung"),
        ]  # fmt: skip
        xml = statement(sepa.creditor_iban.replace(" ", ""), booked, "EW-STMT-2026-11-30")
        (folder / "EW-STMT-2026-11-30.xml").write_bytes(xml)
        outcome = import_statements(s, Actor("demo", "import"), read_camt053(xml))
        counts = {k: v for k, v in outcome.counts.items() if v}
    else:
        counts = {}
    return {"pain.008 files": files, **{f"statement lines {k}": v for k, v in counts.items()}}
