"""Property test of the ledger (jet.ledger) and its published marts.

Hypothesis draws a sequence of invoices, credit notes, payments (to the oldest or a named
invoice, some with bad amounts or for an account billed to another), refunds,
reversals and write-offs over two billing accounts, and applies each through the core's
own functions in one store. After every step: no entry or allocation changed (rows
are only added), a refused step stored nothing, each balance is the sum of its entries
and what the steps asked for, allocations never exceed a credit or a debit, and no
account holds unused credit and an open debit at once. At the end of each example the
store is snapshotted, the ledger marts are built by dbt (with their data tests) and
published, and the balances mart gives the store's balance on every day, the entries
mart each entry's settled and open amounts.

A dbt run costs seconds, so an example is many steps and one dbt run, and hypothesis's
shrinking (a dbt run per try) is off: a failure prints the whole sequence.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, Phase, event, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import select

from jet.accounts import add_accounts
from jet.audit import Actor
from jet.config import Settings
from jet.ledger import LedgerError, balance, open_entries, record_payment, take_back, write_off
from jet.snapshot import write_snapshot
from jet.store.db import session
from jet.store.models import Allocation, AuditEntry, Event, LedgerEntry
from jet.warehouse import marts, run_dbt
from tests.ledger_fixtures import acme, issue

pytestmark = pytest.mark.integration

ME = Actor("property@acme.example", "cli")
ACCOUNTS = ("bob", "dan")  # billing accounts; carol is billed to bob
START = date(2026, 1, 1)
LEDGER_MARTS = (
    "build --indirect-selection cautious --select "
    "+fct_ledger_entries +fct_account_balances +fct_invoices +dim_accounts"
)
STORES = itertools.count()
EXAMPLES = hsettings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)

cents = st.integers(1, 30_000)
days = st.integers(0, 120)
pick = st.integers(0, 10_000)  # an index into what exists, modulo its length
BAD_AMOUNTS = ("1.005", "-5.00", "0", "ten")
PAY = st.tuples(
    st.just("pay"),
    st.sampled_from((*ACCOUNTS, *ACCOUNTS, "carol")),  # carol is refused: billed to bob
    cents,
    st.integers(0, 9),  # 0: a bad amount instead (BAD_AMOUNTS)
    days,
    st.one_of(st.none(), pick),  # pay the oldest invoices, or a named one first
)
STEP = st.one_of(
    st.tuples(st.just("invoice"), st.sampled_from(ACCOUNTS), days, st.integers(0, 30_000)),
    PAY,
    PAY,
    st.tuples(st.just("credit"), pick, cents, days),
    st.tuples(st.sampled_from(["refund", "reversal"]), pick, st.one_of(st.none(), cents), days),
    st.tuples(st.just("write_off"), pick, days),
)


@dataclass
class Model:
    """What the steps asked for: each account's expected balance, and what exists to
    credit, pay, take back and write off."""

    balances: dict[str, Decimal] = field(
        default_factory=lambda: dict.fromkeys(ACCOUNTS, Decimal(0))
    )
    invoices: list = field(default_factory=list)  # (number, account, total, day)
    credited: set[str] = field(default_factory=set)
    payments: list[int] = field(default_factory=list)


def money(value: int) -> str:
    return f"{Decimal(value) / 100:.2f}"


def apply(s, model: Model, step: tuple) -> None:
    """One step through the core; LedgerError when the core refuses it."""
    kind, *args = step
    if kind == "invoice":
        account, day, total = args
        if any(i[1] == account and i[3] == START + timedelta(day) for i in model.invoices):
            return  # one invoice per account and bill date, as the issue step issues
        invoice = issue(s, account, START + timedelta(day), money(total))
        model.invoices.append((invoice.number, account, invoice.total, invoice.bill_date))
        model.balances[account] += invoice.total
    elif kind == "credit":
        candidates = [i for i in model.invoices if i[0] not in model.credited]
        if not candidates:
            return
        number, account, total, day = candidates[args[0] % len(candidates)]
        part = min(Decimal(money(args[1])), total)
        if part <= 0:
            return
        issue(s, account, day + timedelta(args[2]), str(-part), credits=number)
        model.credited.add(number)
        model.balances[account] -= part
    elif kind == "pay":
        account, amount, good, day, named = args
        amount = money(amount) if good else BAD_AMOUNTS[amount % len(BAD_AMOUNTS)]
        invoice = None
        if named is not None:  # its own invoices; now and then another's, which is refused
            mine = [i for i in model.invoices if i[1] == account or named % 7 == 0]
            invoice = mine[named % len(mine)][0] if mine else None
        entry = record_payment(
            s, ME, account, amount, "bank", day=START + timedelta(day), invoice=invoice
        )
        model.payments.append(entry.id)
        model.balances[account] += entry.amount
    elif kind in ("refund", "reversal"):
        if not model.payments:
            return
        payment, amount, day = args
        entry = take_back(
            s, ME, model.payments[payment % len(model.payments)], kind, "property test",
            amount=None if amount is None else money(amount), day=START + timedelta(day),
        )  # fmt: skip
        model.balances[entry.account_id] += entry.amount
    elif kind == "write_off":
        if not model.invoices:
            return
        number, account, *_ = model.invoices[args[0] % len(model.invoices)]
        entry = write_off(s, ME, number, "property test", START + timedelta(args[1]))
        model.balances[account] += entry.amount


def rows(s) -> dict[str, dict[int, tuple]]:
    """Every ledger entry and allocation, audit entry and event, as stored, by id."""
    return {
        table.name: {row[0]: tuple(row) for row in s.execute(select(table))}
        for table in (
            LedgerEntry.__table__,
            Allocation.__table__,
            AuditEntry.__table__,
            Event.__table__,
        )  # fmt: skip
    }


def settled(s) -> dict[int, Decimal]:
    """What of each entry is settled: paid of a debit, used of a credit."""
    out: dict[int, Decimal] = {}
    for credit, debit, amount in s.execute(
        select(Allocation.credit_id, Allocation.debit_id, Allocation.amount)
    ):
        out[credit] = out.get(credit, Decimal(0)) + amount
        out[debit] = out.get(debit, Decimal(0)) + amount
    return out


def check_store(s, model: Model, before: dict, refused: bool) -> None:
    after = rows(s)
    for table, old in before.items():
        changed = [i for i, row in old.items() if after[table].get(i) != row]
        assert not changed, f"{table} rows changed or went: {changed}"
        if refused:
            assert after[table].keys() == old.keys(), f"a refused step added {table} rows"
    entries = list(after["ledger_entries"].values())
    amounts = {row[0]: row[5] for row in entries}  # id, account, realm, currency, kind, amount
    for entry_id, used in settled(s).items():
        assert Decimal(0) <= used <= abs(amounts[entry_id]), f"entry {entry_id} over-allocated"
    for account in ACCOUNTS:
        owed = balance(s, account)
        assert owed == sum((r[5] for r in entries if r[1] == account), Decimal(0))
        assert owed == model.balances[account]
        credits, debits = open_entries(s, account)
        assert not (credits and debits), f"{account} holds credit and an open debit"
        assert owed == sum((d.left for d in debits), Decimal(0)) - sum(
            (c.left for c in credits), Decimal(0)
        )


def check_marts(settings: Settings) -> None:
    """Snapshot, build and publish the ledger marts; they must say what the store says."""
    with session(settings.db_url) as s:
        write_snapshot(s, settings.ops_snapshot)
        last = max((e.entry_date for e in s.scalars(select(LedgerEntry))), default=START)
        used = settled(s)
        stored = {e.id: e.amount for e in s.scalars(select(LedgerEntry))}
        documents = {e.invoice.number: e.id for e in s.scalars(select(LedgerEntry)) if e.invoice}
        days_ = [START + timedelta(n) for n in range(-1, (last - START).days + 2)]
        expected = {(a, d): balance(s, a, on=d) for a in ACCOUNTS for d in days_}
    run_dbt(settings, LEDGER_MARTS)
    con = marts(settings)
    for (account, day), owed in expected.items():
        got = con.execute(
            "select closing_balance from fct_account_balances where account_id = ? "
            "and balance_date <= ? and (next_change_date is null or next_change_date > ?)",
            [account, day, day],
        ).fetchall()
        assert (got[0][0] if got else Decimal(0)) == owed, (account, day)
    published = con.execute(
        "select entry_id, amount, allocated, open_amount from fct_ledger_entries"
    ).fetchall()
    assert {r[0] for r in published} == stored.keys()
    for entry_id, amount, allocated, open_amount in published:
        assert amount == stored[entry_id]
        assert allocated == used.get(entry_id, Decimal(0))
        assert open_amount == amount - (1 if amount >= 0 else -1) * allocated
    invoices = con.execute("select invoice_number, amount_paid, amount_due from fct_invoices")
    for number, paid, due in invoices.fetchall():
        entry_id = documents[number]
        amount = stored[entry_id]
        assert due == amount - (1 if amount >= 0 else -1) * used.get(entry_id, Decimal(0))
        assert paid == amount - due
    con.close()


@EXAMPLES
@given(steps=st.lists(STEP, min_size=10, max_size=50))
def test_the_ledger_and_its_marts_hold_for_any_sequence(settings: Settings, steps) -> None:
    # a store per example (jet.store.db migrates each URL once), one home: dbt's parse of
    # the project is reused
    settings = Settings(
        home=settings.home, database_url=f"sqlite:///{settings.root}/store-{next(STORES)}.db"
    )
    with session(settings.db_url) as s:
        acme(s)
        add_accounts(s, "acme", [{"id": "dan", "name": "Dan"}])
    model = Model()
    for step in steps:
        with session(settings.db_url) as s:
            before = rows(s)
            try:
                apply(s, model, step)
                refused = False
            except LedgerError:
                refused = True
            s.flush()
            event(f"{step[0]} {'refused' if refused else 'applied'}")
            check_store(s, model, before, refused)
    check_marts(settings)
