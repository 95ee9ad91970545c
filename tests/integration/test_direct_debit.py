"""Direct debit end to end through `jet`: a pain.008 valid against the XSD sepaxml ships,
collected once; a camt.053 written in the standard's structure matched to invoices,
imported twice with nothing recorded twice; a returned debit reversing its payment; the
bad statements refused with nothing stored."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import xmlschema
from click.testing import CliRunner
from lxml import etree
from sqlalchemy import func, select

from jet.account_views import balance_detail
from jet.accounts import close_account
from jet.cli import main
from jet.direct_debit import SCHEMA_FILE
from jet.drivers.camt053 import Booked, statement
from jet.store.db import session
from jet.store.models import Collection, LedgerEntry, StatementLine
from tests.ledger_fixtures import issue
from tests.sepa_fixtures import ANNA_IBAN, CREDITOR_IBAN, ME, eurowave

JAN, FEB = date(2026, 1, 1), date(2026, 2, 1)
PAIN = "{urn:iso:std:iso:20022:tech:xsd:pain.008.001.08}"


def jet(*args: str, ok: bool = True) -> str:
    done = CliRunner().invoke(main, list(args))
    assert (done.exit_code == 0) == ok, done.output
    return done.output


@pytest.fixture
def db(settings):
    with session(settings.db_url) as s:
        eurowave(s)
        issue(s, "anna", JAN, "47.48")  # EUROWAVE-000001
        issue(s, "ben", JAN, "20.00")  # EUROWAVE-000002
        issue(s, "carl", JAN, "33.33")  # EUROWAVE-000003, no mandate
    return settings.db_url


def debits(path: Path) -> list[tuple[str, str, str, str]]:
    """(sequence type, mandate id, amount, remittance) of each debit in a pain.008."""
    root = etree.parse(str(path))
    found = []
    for info in root.iter(f"{PAIN}PmtInf"):
        sequence = info.findtext(f"{PAIN}PmtTpInf/{PAIN}SeqTp")
        for tx in info.iter(f"{PAIN}DrctDbtTxInf"):
            found.append(
                (
                    sequence,
                    tx.findtext(f"{PAIN}DrctDbtTx/{PAIN}MndtRltdInf/{PAIN}MndtId"),
                    tx.findtext(f"{PAIN}InstdAmt"),
                    tx.findtext(f"{PAIN}RmtInf/{PAIN}Ustrd"),
                )
            )
    return sorted(found)


def end_to_end(s, account: str) -> str:
    return s.scalar(
        select(Collection.end_to_end_id)
        .where(Collection.account_id == account)
        .order_by(Collection.id.desc())
    )


def counts(db: str) -> tuple[int, int, int]:
    with session(db) as s:
        return tuple(
            s.scalar(select(func.count()).select_from(t))
            for t in (LedgerEntry, StatementLine, Collection)
        )


def test_a_pain008_valid_against_its_xsd_collected_once(db, tmp_path) -> None:
    assert "nothing to collect" in jet("collect", "sepa", "eurowave", "--date", "2026-01-14")
    out = tmp_path / "jan.xml"
    shown = jet("collect", "sepa", "eurowave", "--date", "2026-01-20", "--out", str(out))
    assert "2 debits, EUR 67.48" in shown

    # Valid against sepaxml's shipped XSD, checked here by two validators of our own.
    xmlschema.XMLSchema(str(SCHEMA_FILE)).validate(str(out))
    assert etree.XMLSchema(etree.parse(str(SCHEMA_FILE))).validate(etree.parse(str(out)))
    assert debits(out) == [
        ("FRST", "EW-MANDATE-0001", "47.48", "Invoice EUROWAVE-000001"),
        ("FRST", "EW-MANDATE-0002", "20.00", "Invoice EUROWAVE-000002"),
    ]  # carl has no mandate; dora is billed to anna
    with session(db) as s:
        pending = s.scalars(select(Collection.status)).all()
    assert pending == ["pending", "pending"]

    before = counts(db)
    assert "nothing to collect" in jet("collect", "sepa", "eurowave", "--date", "2026-01-20")
    assert "nothing to collect" in jet("collect", "sepa", "eurowave", "--date", "2026-01-25")
    assert counts(db) == before

    with session(db) as s:
        issue(s, "anna", FEB, "39.90")
    feb = tmp_path / "feb.xml"
    jet("collect", "sepa", "eurowave", "--date", "2026-02-20", "--out", str(feb))
    assert debits(feb) == [("RCUR", "EW-MANDATE-0001", "39.90", "Invoice EUROWAVE-000004")]


def test_a_statement_matched_imported_twice_and_a_return_reversing(db, tmp_path) -> None:
    jet("collect", "sepa", "eurowave", "--date", "2026-01-20", "--out", str(tmp_path / "p.xml"))
    with session(db) as s:
        anna_e2e = end_to_end(s, "anna")
    camt = tmp_path / "camt053.xml"
    camt.write_bytes(
        statement(
            CREDITOR_IBAN,
            [
                Booked("E1", "47.48", end_to_end_id=anna_e2e, name="Anna Arndt", iban=ANNA_IBAN),
                # ben paid by transfer naming his invoice; his collection is still pending
                Booked("E2", "20.00", reference="Rechnung EUROWAVE-000002 danke", name="Ben"),
                Booked("E3", "33.33", name="C. Cramer", iban="DE75512108001245126199"),
                Booked("E4", "99.99", reference="donation", name="Somebody"),
                Booked("E5", "4.50", credit=False, reference="account fee"),
            ],
        )
    )
    shown = json.loads(jet("import", "bank-statement", str(camt), "--json"))
    assert shown == {"realm": "eurowave", "paid": 3, "unmatched": 1, "ignored": 1}
    with session(db) as s:
        for account in ("anna", "ben", "carl"):
            assert balance_detail(s, account)["balance"] == "0.00", account
        methods = dict(
            s.execute(
                select(LedgerEntry.account_id, LedgerEntry.method).where(
                    LedgerEntry.kind == "payment"
                )
            ).all()
        )
        assert methods == {"anna": "sepa", "ben": "bank", "carl": "bank"}
        assert (
            s.scalar(select(Collection.status).where(Collection.end_to_end_id == anna_e2e))
            == "paid"
        )
    unmatched = jet("payment", "unmatched")
    assert "99.99" in unmatched and "donation" in unmatched and "4.50" not in unmatched

    before = counts(db)
    again = json.loads(jet("import", "bank-statement", str(camt), "--json"))
    assert again == {"realm": "eurowave", "already imported": 5}
    assert counts(db) == before

    returned = tmp_path / "camt053-returns.xml"
    returned.write_bytes(
        statement(
            CREDITOR_IBAN,
            [
                Booked(
                    "R1",
                    "47.48",
                    credit=False,
                    end_to_end_id=anna_e2e,
                    return_code="AM04",
                    day=date(2026, 1, 23),
                )
            ],
            ident="STMT-2026-01-23",
            version="02",
        )
    )
    assert "1 returned" in jet("import", "bank-statement", str(returned))
    with session(db) as s:
        detail = balance_detail(s, "anna")
        assert detail["balance"] == "47.48"
        assert [d["number"] for d in detail["open"]] == ["EUROWAVE-000001"]
        reversal = s.scalar(select(LedgerEntry).where(LedgerEntry.kind == "reversal"))
        assert reversal.reason == "AM04 insufficient funds" and reversal.amount == Decimal("47.48")
        collection = s.scalar(select(Collection).where(Collection.end_to_end_id == anna_e2e))
        assert (collection.status, collection.return_reason) == (
            "returned",
            "AM04 insufficient funds",
        )
    before = counts(db)
    jet("import", "bank-statement", str(returned))
    assert counts(db) == before  # the return is not reversed twice

    # The reopened invoice is collected again, as a first debit: the only earlier one came back.
    again = tmp_path / "again.xml"
    jet("collect", "sepa", "eurowave", "--date", "2026-01-30", "--out", str(again))
    assert debits(again) == [("FRST", "EW-MANDATE-0001", "47.48", "Invoice EUROWAVE-000001")]

    # a person knows the donation is anna's: it becomes her payment, once
    [line] = json.loads(jet("payment", "unmatched", "--json"))
    assert "of EUR 99.99 from anna" in jet("payment", "assign", str(line["line"]), "anna")
    assert json.loads(jet("payment", "unmatched", "--json")) == []
    with session(db) as s:
        shown = balance_detail(s, "anna")  # it pays her reopened 47.48 first
        assert (shown["open"], shown["credit"]) == ([], "52.51")
    refused = CliRunner().invoke(main, ["payment", "assign", str(line["line"]), "anna"])
    assert refused.exit_code == 1 and "no unmatched statement line" in refused.output
    again = json.loads(jet("import", "bank-statement", str(camt), "--json"))
    assert again == {"realm": "eurowave", "already imported": 5}


def test_a_csv_statement_of_a_bank_without_camt(db, tmp_path) -> None:
    path = tmp_path / "statement.csv"
    path.write_text(
        "account_iban;date;amount;currency;bank_reference;reference;counterparty_iban\n"
        f"{CREDITOR_IBAN};20.01.2026;47,48;EUR;B-1;;{ANNA_IBAN}\n"
        f"{CREDITOR_IBAN};20.01.2026;20,00;EUR;B-2;EUROWAVE-000002;\n"
        f"{CREDITOR_IBAN};21.01.2026;-1,20;EUR;B-3;fee;\n"
    )
    shown = jet("import", "bank-statement", str(path), "--profile", "eu")
    assert "2 paid" in shown and "1 ignored" in shown
    before = counts(db)
    assert "3 already imported" in jet("import", "bank-statement", str(path), "--profile", "eu")
    assert counts(db) == before


BROKEN = [
    (
        lambda good: good.replace(CREDITOR_IBAN, "DE02100100109307118603"),
        "a statement for a different account holder's IBAN: DE02100100109307118603",
    ),
    (lambda good: good[: len(good) // 2], "the XML is broken at line 9"),
    (lambda good: good.replace('<Amt Ccy="EUR">20.00</Amt>', "", 1), "Ntry has no Amt"),
    (lambda good: good.replace("20.00", "twenty", 1), "Amt 'twenty'"),
    (
        lambda good: good.replace(
            "<Dt>2026-01-20</Dt></BookgDt>", "<Dt>20/01/2026</Dt></BookgDt>", 1
        ),
        "BookgDt '20/01/2026' is not a date",
    ),
    (lambda good: good.replace("camt.053.001.08", "camt.054.001.08"), "not a camt.053 statement"),
    (
        lambda good: good.replace("CRDT</CdtDbtInd><Sts>", "CRED</CdtDbtInd><Sts>", 1),
        "CdtDbtInd is 'CRED'",
    ),
]


@pytest.mark.parametrize(("breaking", "message"), BROKEN)
def test_bad_statements_are_refused_and_store_nothing(db, tmp_path, breaking, message) -> None:
    good = statement(
        CREDITOR_IBAN,
        [Booked("E1", "47.48", reference="EUROWAVE-000001"), Booked("E2", "20.00")],
    ).decode()
    path = tmp_path / "bad.xml"
    path.write_text(breaking(good))
    before = counts(db)
    out = jet("import", "bank-statement", str(path), ok=False)
    assert message in out
    assert "line " in out or "IBAN" in out or "camt.053" in out
    assert counts(db) == before


def test_what_cannot_be_placed_waits_for_a_person(db, tmp_path) -> None:
    """A credit for a closed account, and the return of a collection whose payment was
    refunded meanwhile, are kept unmatched with a note; nothing else changes."""
    jet("collect", "sepa", "eurowave", "--date", "2026-01-20", "--out", str(tmp_path / "p.xml"))
    with session(db) as s:
        ben_e2e = end_to_end(s, "ben")
        close_account(s, ME, "carl", date(2026, 1, 15))
    first = tmp_path / "s1.xml"
    first.write_bytes(
        statement(
            CREDITOR_IBAN,
            [
                Booked("E1", "20.00", end_to_end_id=ben_e2e),
                Booked("E2", "33.33", reference="EUROWAVE-000003"),  # carl's, closed
            ],
        )
    )
    assert json.loads(jet("import", "bank-statement", str(first), "--json")) == {
        "realm": "eurowave", "paid": 1, "unmatched": 1
    }  # fmt: skip
    with session(db) as s:
        payment = s.scalar(select(LedgerEntry.id).where(LedgerEntry.kind == "payment"))
    jet("payment", "refund", str(payment), "--reason", "paid twice")
    second = tmp_path / "s2.xml"
    second.write_bytes(
        statement(
            CREDITOR_IBAN,
            [Booked("R1", "20.00", credit=False, end_to_end_id=ben_e2e, return_code="MD06")],
            ident="STMT-2026-01-25",
        )
    )
    before = counts(db)
    assert "1 unmatched" in jet("import", "bank-statement", str(second))
    assert counts(db)[0] == before[0]  # no reversal
    listed = json.loads(jet("payment", "unmatched", "--json"))
    assert [u["amount"] for u in listed] == ["33.33", "-20.00"]
    assert "matches carl, which is closed" in listed[0]["note"]
    assert "MD06 refund requested by the debtor" in listed[1]["note"]
    assert "refunded or reversed in full already" in listed[1]["note"]
    with session(db) as s:
        assert (
            s.scalar(select(Collection.status).where(Collection.end_to_end_id == ben_e2e)) == "paid"
        )
