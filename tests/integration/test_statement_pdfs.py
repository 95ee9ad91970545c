"""A statement of each demo realm (acme AUD, skyfi NZD, eurowave EUR) from a store the
real billing run billed with the demo catalogs, then paid, refunded, reversed and
written off through the core: `pdftotext` finds every field, and a picture of each page
(`pdftoppm`) is kept for review under the run's pytest folder."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from jet.accounts import add_accounts, subscribe
from jet.audit import Actor
from jet.catalog import load_catalog_file
from jet.cli import main
from jet.config import Settings
from jet.invoicing import issue_invoices
from jet.ledger import balance, record_payment, take_back, write_off
from jet.realms import store_catalog
from jet.store.db import session
from jet.store.models import Invoice
from jet.warehouse import rate
from tests.invoice_documents import pdf_pages
from tests.ledger_fixtures import CATALOGS

ME = Actor("staff@example.net", "cli")
FEB, MAR = date(2026, 2, 1), date(2026, 3, 1)
# realm, its name and currency, a plan, the account, its name and address
REALMS = {
    "acme": ("Acme Broadband", "AUD", "home", "ann", "Ann Archer", "1 Main St, Sydney NSW 2000"),
    "skyfi": ("SkyFi Hotspots", "NZD", "unlimited", "ben", "Ben Bell", "4 Marine Parade, Napier"),
    "eurowave": ("EuroWave GmbH", "EUR", "fibre", "cleo", "Cleo Krüger",
                 "Hauptstraße 5, 10115 Berlin"),
}  # fmt: skip

pytestmark = pytest.mark.skipif(
    not (shutil.which("pdftotext") and shutil.which("pdftoppm")), reason="needs poppler-utils"
)


def numbers(s, account: str) -> list[tuple[str, Decimal]]:
    found = select(Invoice.number, Invoice.total).where(Invoice.account_id == account)
    return [tuple(row) for row in s.execute(found.order_by(Invoice.bill_date))]


@pytest.fixture(scope="module")
def billed(tmp_path_factory) -> dict:
    """The store after February's and March's billing runs, with March's money moves:
    acme owes, skyfi is in credit after an overpayment and a part refund, eurowave's
    direct debit is returned and the rest of its invoice written off."""
    home = tmp_path_factory.mktemp("statements")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JET_HOME", str(home / "home"))
        mp.delenv("JET_DATABASE_URL", raising=False)
        settings = Settings()
        settings.export()
        with session(settings.db_url) as s:
            for realm, (_, _, plan, login, name, address) in REALMS.items():
                store_catalog(s, load_catalog_file(CATALOGS / f"{realm}.yaml"), f"{realm}.yaml")
                add_accounts(s, realm, [{"id": login, "name": name, "address": address}])
                subscribe(s, login, plan, FEB)
        rate(settings, MAR.isoformat(), "run")
        assert issue_invoices(settings, FEB, MAR).issued == 6
        # Each realm's March entries as the statement must print them: (day, reference,
        # description, signed amount).
        rows: dict[str, list[tuple[date, str, str, Decimal]]] = {}
        with session(settings.db_url) as s:
            invoices = {login: numbers(s, login) for _, _, _, login, _, _ in REALMS.values()}
            for realm, (_, _, _, login, _, _) in REALMS.items():
                number, total = invoices[login][-1]
                rows[realm] = [(MAR, number, "Invoice", total)]

            ann_feb, ann_mar = invoices["ann"]
            record_payment(s, ME, "ann", ann_feb[1], "bank", day=date(2026, 2, 20))
            paid = record_payment(s, ME, "ann", "50.00", "card", day=date(2026, 3, 12),
                                  reference="GW-7731", invoice=ann_mar[0])  # fmt: skip
            card = f"Payment by card of {ann_mar[0]}, ref GW-7731"
            rows["acme"].append((date(2026, 3, 12), f"Receipt {paid.id}", card, Decimal("-50")))

            over = record_payment(s, ME, "ben", "200.00", "cash", day=date(2026, 3, 3))
            take_back(s, ME, over.id, "refund", "moved to Auckland", amount="20.00",
                      day=date(2026, 3, 18))  # fmt: skip
            rows["skyfi"] += [
                (date(2026, 3, 3), f"Receipt {over.id}", "Payment by cash", Decimal("-200.00")),
                (date(2026, 3, 18), f"Receipt {over.id}",
                 "Refund of the payment: moved to Auckland", Decimal("20.00")),
            ]  # fmt: skip

            cleo_feb = invoices["cleo"][0]
            debit = record_payment(s, ME, "cleo", "47.48", "sepa", day=date(2026, 3, 2),
                                   reference="MNDT-CLEO-1")  # fmt: skip
            take_back(s, ME, debit.id, "reversal", "AM04 insufficient funds", day=date(2026, 3, 9))
            write_off(s, ME, cleo_feb[0], "goodwill", day=date(2026, 3, 30))
            rows["eurowave"] += [
                (date(2026, 3, 2), f"Receipt {debit.id}", "Payment by sepa, ref MNDT-CLEO-1",
                 Decimal("-47.48")),
                (date(2026, 3, 9), f"Receipt {debit.id}",
                 "Reversal of the payment: AM04 insufficient funds", Decimal("47.48")),
                (date(2026, 3, 30), cleo_feb[0], "Write-off: goodwill", -cleo_feb[1]),
            ]  # fmt: skip
        yield {"settings": settings, "rows": rows, "review": home / "review"}


def words(text: str) -> str:
    return re.sub(r"[ \t]+", " ", text)


@pytest.mark.parametrize("realm", list(REALMS))
def test_a_statement_of_each_demo_realm_prints_every_field(billed, realm, capsys) -> None:
    settings = billed["settings"]
    name, currency, _, login, account_name, address = REALMS[realm]
    out = CliRunner().invoke(main, ["account", "statement", login, "--month", "2026-03"])
    assert out.exit_code == 0, out.output
    path = Path(out.output.strip())
    assert path == settings.pdf_dir / realm / "statements" / f"{login}-2026-03.pdf"

    # What it must print: the balance before March, then the entries made above.
    with session(settings.db_url) as s:
        opening = balance(s, login, on=date(2026, 2, 28))
        closing = balance(s, login, on=date(2026, 3, 31))
    money = "{:.2f}".format
    lines = words("\n".join(pdf_pages(path.read_bytes(), path.parent))).splitlines()
    text = "\n".join(lines)
    debits = sum((amount for *_, amount in billed["rows"][realm] if amount > 0), Decimal(0))
    credits = -sum((amount for *_, amount in billed["rows"][realm] if amount < 0), Decimal(0))
    assert opening + debits - credits == closing
    due = f"Amount due {currency} {money(closing)}" if closing > 0 else None
    expected = [
        name,
        "Statement",
        "2026-03-01 to 2026-03-31",
        f"Account {account_name}",
        f"Account id {login}",
        f"Address {address}",
        f"Realm {name} ({realm})",
        "Month 2026-03",
        f"Currency {currency}",
        f"Opening balance 2026-03-01 {money(opening)}",
        f"Debits {money(debits)}",
        f"Credits {money(credits)}",
        f"Closing balance 2026-03-31 {money(closing)}",
        due or f"In credit {currency} {money(-closing)}",
        "Date Reference Description Debit Credit Balance",
        f"2026-03-01 Opening balance {money(opening)}",
        f"2026-03-31 Closing balance {money(closing)}",
        f"{name} - statement {login} 2026-03",
    ]
    missing = [field for field in expected if field not in text]
    assert due or "Amount due" not in text
    # Each entry: its day, reference, amount (in the debit or the credit column) and the
    # balance after it on one line; its description there or wrapped around it.
    running = opening
    for day, reference, description, amount in billed["rows"][realm]:
        running += amount
        row = re.compile(rf"^{day} {re.escape(reference)} .*{money(abs(amount))} {money(running)}$")
        at = [i for i, line in enumerate(lines) if row.match(line.strip())]
        around = " ".join(lines[at[0] - 2 : at[0] + 3]).split() if len(at) == 1 else []
        if not all(word in around for word in description.split()) or not around:
            missing.append(f"{day} {reference} {description} {amount} {running}")
    assert not missing, f"not in the statement: {missing}\n{text}"

    # The same ledger renders the same bytes; a picture of it is kept for review.
    again = CliRunner().invoke(
        main, ["account", "statement", login, "--month", "2026-03", "--out", str(path) + ".again"]
    )
    assert Path(out.output.strip()).read_bytes() == Path(again.output.strip()).read_bytes()
    review = billed["review"]
    review.mkdir(exist_ok=True)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "80", str(path), str(review / f"{realm}-{login}-2026-03")],
        check=True,
    )
    with capsys.disabled():
        print(f"\nstatement picture for review: {review / f'{realm}-{login}-2026-03'}-1.png")
