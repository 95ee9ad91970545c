"""Mandates and the realm's SEPA creditor settings: IBAN, BIC and creditor id checked,
only billing accounts of a euro realm with a sepa block, one active mandate each, each
change with its audit row and event; bad input refused with nothing stored."""

from __future__ import annotations

import json
from datetime import date

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from jet.catalog import CatalogError, load_catalog_file, parse_catalog
from jet.cli import main
from jet.mandates import MandateError, add_mandate, revoke_mandate
from jet.store.db import session
from jet.store.models import AuditEntry, Event, Mandate
from tests.ledger_fixtures import CATALOGS, acme
from tests.sepa_fixtures import ME, eurowave


@pytest.fixture
def db(settings):
    with session(settings.db_url) as s:
        eurowave(s)
        acme(s)
    return settings.db_url


def test_a_mandate_is_normalised_audited_and_announced(db) -> None:
    with session(db) as s:
        m = add_mandate(
            s,
            ME,
            "carl",
            "de75 5121 0800 1245 1261 99",
            "EW-3",
            date(2026, 1, 5),
            bic="ingddeffxxx",
        )
        assert (m.iban, m.bic, m.debtor_name) == (
            "DE75512108001245126199",
            "INGDDEFFXXX",
            "Carl Cramer",
        )
        assert (
            s.scalar(select(AuditEntry.action).where(AuditEntry.entity_id == "EW-3"))
            == "mandate.added"
        )
        revoke_mandate(s, ME, "EW-3", date(2026, 3, 1))
        topics = s.scalars(select(Event.topic).where(Event.account_id == "carl")).all()
        assert topics[-2:] == ["mandate.added", "mandate.revoked"]
        # revoked, so carl may sign a new one
        add_mandate(s, ME, "carl", "DE75512108001245126199", "EW-4", date(2026, 3, 2))


@pytest.mark.parametrize(
    ("account", "iban", "reference", "message"),
    [
        (
            "carl",
            "DE75512108001245126198",
            "EW-9",
            "IBAN 'DE75512108001245126198' is not valid: invalid checksum digits",
        ),
        ("carl", "XX75512108001245126199", "EW-9", "unknown country-code 'XX'"),
        ("dora", "DE75512108001245126199", "EW-9", "dora is billed to anna"),
        ("anna", "DE75512108001245126199", "EW-9", "anna has mandate EW-MANDATE-0001 already"),
        (
            "carl",
            "DE75512108001245126199",
            "EW-MANDATE-0002",
            "mandate id EW-MANDATE-0002 is taken",
        ),
        ("carl", "DE75512108001245126199", "EW_9!", "mandate id 'EW_9!' is not valid"),
        (
            "bob",
            "DE75512108001245126199",
            "EW-9",
            "realm acme does not collect by SEPA direct debit",
        ),
        ("nobody", "DE75512108001245126199", "EW-9", "no account 'nobody'"),
    ],
)
def test_bad_mandates_are_refused_and_store_nothing(db, account, iban, reference, message) -> None:
    with session(db) as s:
        before = s.scalar(select(func.count()).select_from(Mandate))
    done = CliRunner().invoke(
        main,
        [
            "mandate",
            "add",
            account,
            "--iban",
            iban,
            "--mandate-id",
            reference,
            "--signed",
            "2026-01-05",
        ],
    )
    assert done.exit_code == 1 and message in done.output, done.output
    with session(db) as s:
        assert s.scalar(select(func.count()).select_from(Mandate)) == before


def test_the_mandate_commands(db) -> None:
    run = CliRunner().invoke
    added = run(
        main,
        [
            "mandate",
            "add",
            "carl",
            "--iban",
            "DE75512108001245126199",
            "--mandate-id",
            "EW-7",
            "--signed",
            "2026-01-05",
        ],
    )
    assert added.exit_code == 0 and "DE75512108001245126199" in added.output
    assert run(main, ["mandate", "revoke", "EW-7", "--date", "2026-02-01"]).exit_code == 0
    again = run(main, ["mandate", "revoke", "EW-7"])
    assert again.exit_code == 1 and "revoked on 2026-02-01 already" in again.output
    listed = json.loads(run(main, ["mandate", "list", "carl", "--json"]).output)
    assert [(m["mandate"], m["revoked_on"]) for m in listed] == [("EW-7", "2026-02-01")]
    assert len(json.loads(run(main, ["mandate", "list", "--json"]).output)) == 3
    with session(db) as s, pytest.raises(MandateError, match="in the future"):
        add_mandate(s, ME, "carl", "DE75512108001245126199", "EW-8", date(2999, 1, 1))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"currency": "AUD"}, "SEPA direct debit collects euros; the realm's currency is AUD"),
        (
            {"sepa": {"creditor_iban": "DE89370400440532013001"}},
            "IBAN 'DE89370400440532013001' is not valid",
        ),
        ({"sepa": {"creditor_bic": "COBA"}}, "BIC 'COBA' is not valid"),
        ({"sepa": {"creditor_id": "DE99ZZZ09999999999"}}, "its check digits are wrong"),
        ({"sepa": {"creditor_id": "ZZZ"}}, "expected a country code, 2 check digits"),
    ],
)
def test_the_realms_sepa_block_is_checked(change, message) -> None:
    document = load_catalog_file(CATALOGS / "eurowave.yaml").model_dump(mode="json")
    raw = document["realm"]
    sepa = raw["sepa"] | change.pop("sepa", {})
    raw |= {"sepa": sepa, **change}
    with pytest.raises(CatalogError) as refused:
        parse_catalog(document, "eurowave.yaml")
    assert message in str(refused.value) and "sepa" in str(refused.value)


@pytest.mark.parametrize(
    ("realm", "message"),
    [
        ("acme", "realm acme does not collect by SEPA direct debit on 2026-01-20"),
        ("nowhere", "there is no realm 'nowhere': load its catalog"),
    ],
)
def test_collecting_needs_a_sepa_realm(db, realm, message) -> None:
    done = CliRunner().invoke(main, ["collect", "sepa", realm, "--date", "2026-01-20"])
    assert done.exit_code == 1 and message in done.output, done.output
