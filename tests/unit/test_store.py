"""The operational store: Alembic migrations are the schema, money stays Decimal."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner

from jet.accounts import add_accounts
from jet.cli import main
from jet.store.db import engine, session, upgrade
from jet.store.models import Base, LedgerEntry, Realm


def test_migrations_match_the_models(settings):
    upgrade(settings.db_url)
    with engine(settings.db_url).connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_money_round_trips_exactly(settings):
    with session(settings.db_url) as s:
        s.add(
            Realm(
                id="r",
                name="R",
                currency="AUD",
                minor_units=2,
                tax_rate=Decimal("0.1"),
                cycle="fixed_date",
                cycle_day=1,
                invoice_prefix="R",
                invoice_format="{prefix}-{number}",
            )
        )
        s.flush()
        add_accounts(s, "r", [{"id": "a1", "name": "A"}])
        s.add(
            LedgerEntry(
                account_id="a1",
                realm_id="r",
                kind="payment",
                amount=Decimal("0.1") + Decimal("0.2"),
                currency="AUD",
                entry_date=datetime.now(UTC).date(),
                recorded_at=datetime.now(UTC),
                method="card",
            )
        )
    with session(settings.db_url) as s:
        amount = s.query(LedgerEntry.amount).scalar()
    assert amount == Decimal("0.3") and isinstance(amount, Decimal)


def test_db_upgrade_command(settings):
    result = CliRunner().invoke(main, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "up to date" in result.output


def test_catalog_load_refuses_a_bad_file_and_stores_nothing(settings, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "realm: {id: acme, name: Acme, currency: AUD, tax_rate: '0.10', cycle: fixed_date,"
        " cycle_day: 1}\neffective_from: 2026-01-01\n"
        "products:\n  access: {type: flat, price: 59.95, period: monthly}\n"
        "plans:\n  home: {products: [access, data]}\n"
    )
    result = CliRunner().invoke(main, ["catalog", "load", str(bad)])
    assert result.exit_code == 1
    assert str(bad) in result.output
    assert "products.access.price" in result.output and "plans.home" in result.output
    with session(settings.db_url) as s:
        assert s.query(Realm).count() == 0


def test_catalog_load_stores_a_version_once(settings):
    from jet.config import PROJECT_ROOT

    path = PROJECT_ROOT / "examples" / "catalogs" / "acme.yaml"
    first = CliRunner().invoke(main, ["catalog", "load", str(path)])
    again = CliRunner().invoke(main, ["catalog", "load", str(path)])
    assert first.exit_code == again.exit_code == 0
    assert first.output.startswith("stored") and again.output.startswith("already stored")
