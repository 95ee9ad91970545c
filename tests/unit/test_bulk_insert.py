"""`jet.store.bulk.insert_rows` stores what SQLAlchemy's own executemany stores, value for
value: timestamps, dates, JSON (None included), decimals, booleans, NULLs and the
defaults of columns left out."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import insert

from jet.store.bulk import insert_rows
from jet.store.db import session
from jet.store.models import Account, AuditEntry, Event, Realm, Subscription

NOW = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)


def _rows() -> dict:
    accounts = [
        {"id": f"a{i}", "realm_id": "acme", "name": f"A {i}", "parent_id": None if i < 2 else "a0",
         "status": "active", "email": None, "created_at": NOW, "expires_at": date(2027, 1, i + 1),
         "prepaid": i % 2 == 0,
         "kind": "person", "delivery": "email", "notes": "é ünïcode"}
        for i in range(4)
    ]  # fmt: skip
    audits = [
        {"at": NOW, "actor": "me", "channel": "import", "action": "account.created",
         "entity": "account", "entity_id": f"a{i}", "account_id": f"a{i}", "before": None,
         "after": {"name": f"A {i}", "n": i, "ok": True}}
        for i in range(4)
    ]  # fmt: skip
    events = [
        {"topic": "account.created", "account_id": f"a{i}", "payload": {"account": f"a{i}"},
         "created_at": NOW, "due_at": None if i else NOW, "key": None}
        for i in range(4)
    ]  # fmt: skip
    defaulted = [  # prepaid left out: its default is filled in
        {k: v for k, v in row.items() if k != "prepaid"} | {"id": f"b{i}"}
        for i, row in enumerate(accounts)
    ]
    return {Account: accounts, AuditEntry: audits, Event: events, "defaulted": defaulted}


def _realm(s) -> None:
    s.add(Realm(id="acme", name="Acme", currency="AUD", minor_units=2, cycle_day=1,
                tax_rate=Decimal("0.1"), cycle="fixed_date", invoice_prefix="A",
                invoice_format="{n}", last_invoice_number=0))  # fmt: skip
    s.flush()


def _dump(path) -> dict:
    with sqlite3.connect(path) as con:
        return {t: con.execute(f"select * from {t} order by 1").fetchall()
                for t in ("accounts", "audit_log", "events")}  # fmt: skip


def test_insert_rows_stores_what_sqlalchemy_stores(tmp_path) -> None:
    for name, write in (
        ("orm", lambda s, model, rows: s.execute(insert(model.__table__), rows)),
        ("bulk", lambda s, model, rows: insert_rows(s, model.__table__, rows)),
    ):
        with session(f"sqlite:///{tmp_path / name}.db") as s:
            _realm(s)
            for model, rows in _rows().items():
                write(s, Account if model == "defaulted" else model, rows)
    assert _dump(tmp_path / "bulk.db") == _dump(tmp_path / "orm.db")


def test_returning_gives_each_row_its_id(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr("jet.store.bulk._VARIABLES", 40)  # 10 rows a statement
    subs = [
        {"account_id": f"a{i % 3}", "plan_id": "home", "start_date": date(2026, 1, 1 + i % 7),
         "end_date": None if i % 2 else date(2026, 3, 1)}
        for i in range(45)
    ]  # fmt: skip
    with session(f"sqlite:///{tmp_path / 'j.db'}") as s:
        _realm(s)
        insert_rows(s, Account.__table__, [
            {"id": f"a{i}", "realm_id": "acme", "name": "A", "status": "active",
             "created_at": NOW} for i in range(3)
        ])  # fmt: skip
        ids = insert_rows(s, Subscription.__table__, subs, returning="id")
        assert len(set(ids)) == len(subs)
        for sub_id, sub in zip(ids, subs, strict=True):
            got = s.get_one(Subscription, sub_id)
            assert (got.account_id, got.start_date, got.end_date) == (
                sub["account_id"], sub["start_date"], sub["end_date"],
            )  # fmt: skip
