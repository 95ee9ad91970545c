"""The camt.053 reader under malformed input (hypothesis): a damaged statement is read or
refused with a StatementError naming where, never a crash, and a refused import stores
nothing. Also both camt.053 versions' shapes and the CSV profiles."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from jet.bank_statements import StatementError, read_camt053, read_csv
from jet.drivers.camt053 import Booked, statement
from jet.statement_import import import_statements
from jet.store.db import session
from jet.store.models import LedgerEntry, StatementLine
from tests.ledger_fixtures import issue
from tests.sepa_fixtures import CREDITOR_IBAN, ME, eurowave

ENTRIES = [
    Booked("E1", "47.48", reference="EUROWAVE-000001", name="Anna", iban="DE02120300000000202051"),
    Booked("E2", "9.10", credit=False, end_to_end_id="JETX", return_code="MD06"),
]
GOOD = statement(CREDITOR_IBAN, ENTRIES)


@pytest.mark.parametrize("version", ["02", "08"])
def test_both_versions_read_alike(version) -> None:
    (read,) = read_camt053(statement(CREDITOR_IBAN, ENTRIES, version=version))
    credit, debit = read.lines
    assert read.iban == CREDITOR_IBAN and read.id == "STMT-2026-01-20"
    assert (credit.key, credit.amount, credit.credit, credit.reference, credit.counterparty) == (
        "STMT-2026-01-20/E1",
        Decimal("47.48"),
        True,
        "EUROWAVE-000001",
        "Anna",
    )
    assert credit.counterparty_iban == "DE02120300000000202051" and credit.end_to_end_id is None
    assert (debit.credit, debit.end_to_end_id, debit.return_reason) == (
        False,
        "JETX",
        "MD06 refund requested by the debtor",
    )


def test_csv_profiles() -> None:
    text = "account_iban,date,amount,currency,bank_reference\n"
    text += f"{CREDITOR_IBAN},2026-01-20,-3.5,EUR,X1\n"
    (line,) = read_csv(text.encode(), "jet", "s.csv").lines
    assert (line.key, line.amount, line.credit, line.booked_on) == (
        f"csv:{CREDITOR_IBAN}/X1",
        Decimal("3.5"),
        False,
        date(2026, 1, 20),
    )
    with pytest.raises(
        StatementError, match="s.csv line 2: date '2026-01-20' does not match %d.%m.%Y"
    ):
        read_csv(text.replace(",", ";").encode(), "eu", "s.csv")
    with pytest.raises(StatementError, match="no column bank_reference"):
        read_csv(b"account_iban,date,amount,currency\n", "jet", "s.csv")
    with pytest.raises(StatementError, match="unknown CSV profile 'bank'"):
        read_csv(text.encode(), "bank", "s.csv")


damage = st.one_of(
    st.tuples(st.just("cut"), st.integers(0, len(GOOD)), st.integers(1, 200)),
    st.tuples(st.just("insert"), st.integers(0, len(GOOD)), st.binary(min_size=1, max_size=20)),
    st.tuples(
        st.just("text"),
        st.sampled_from(["47.48", "2026-01-20", "CRDT", "EUR", "BOOK", "E1"]),
        st.text(max_size=12),
    ),
)


def damaged(how) -> bytes:
    kind, where, what = how
    if kind == "cut":
        return GOOD[:where] + GOOD[where + what :]
    if kind == "insert":
        return GOOD[:where] + what + GOOD[where:]
    return GOOD.replace(where.encode(), what.encode("utf-8"), 1)


@given(damage)
def test_a_damaged_statement_is_read_or_refused_never_a_crash(how) -> None:
    try:
        statements = read_camt053(damaged(how))
    except StatementError as err:
        assert str(err).startswith(("line ", "not a camt.053 statement"))
        return
    for line in (line for s in statements for line in s.lines):
        assert line.amount >= 0 and line.key.startswith(statements[0].id)


@hypothesis_settings(
    max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None
)
@given(damage)
def test_a_refused_import_stores_nothing(settings, how) -> None:
    with session(settings.db_url) as s:
        if s.get(LedgerEntry, 1) is None:
            eurowave(s)
            issue(s, "anna", date(2026, 1, 1), "47.48")
    counted = (
        select(func.count()).select_from(LedgerEntry),
        select(func.count()).select_from(StatementLine),
    )
    with session(settings.db_url) as s:
        before = [s.scalar(q) for q in counted]
    try:
        with session(settings.db_url) as s:
            import_statements(s, ME, read_camt053(damaged(how)))
    except StatementError:
        with session(settings.db_url) as s:
            assert [s.scalar(q) for q in counted] == before
    except ValueError as err:  # refused by the import (another IBAN): nothing stored either
        assert "IBAN" in str(err)
        with session(settings.db_url) as s:
            assert [s.scalar(q) for q in counted] == before
