"""What invoice e-mails and usage warnings say: Jet's defaults, a realm's own templates,
and the errors a template's mistakes give."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from jet.catalog import Mail, load_catalog_file, parse_catalog
from jet.config import PROJECT_ROOT
from jet.errors import JetError
from reports.mail_templates import InvoiceMail, compose
from reports.notices import cycle_words, usage_warning

INVOICE = InvoiceMail(
    number="ACME-2026-000007",
    kind="invoice",
    realm="Acme Broadband",
    account="Ann Example",
    bill_date=date(2026, 10, 1),
    due_date=date(2026, 10, 15),
    currency="AUD",
    total=Decimal("75.90"),
)


def test_the_default_wording_names_the_invoice_its_amount_and_due_date() -> None:
    message = compose(None, INVOICE, "billing@acme.example")
    assert message.sender == "Acme Broadband <billing@acme.example>"
    assert message.subject == "Acme Broadband: invoice ACME-2026-000007 (AUD 75.90)"
    body = message.body
    assert body.startswith("Dear Ann Example,")
    assert "invoice ACME-2026-000007 of 2026-10-01 for AUD 75.90. It is due on 2026-10-15." in body
    assert body.rstrip().endswith("Acme Broadband")


def test_a_credit_note_has_no_due_date() -> None:
    note = InvoiceMail(**_fields(kind="credit_note", due_date=None))
    body = compose(None, note, "billing@acme.example").body
    assert "credit note ACME-2026-000007" in body and "due" not in body


def _fields(**changes) -> dict:
    return {name: getattr(INVOICE, name) for name in InvoiceMail.__slots__} | changes


def test_a_realms_templates_replace_the_defaults() -> None:
    mail = Mail.model_validate(
        {
            "from": "Acme Billing <invoices@acme.example>",
            "subject": "Your {{ realm }} bill {{ number }}",
            "body": "Hi {{ account }}, {{ amount }} by {{ due_date }}.\n",
        }
    )
    message = compose(mail, INVOICE, "billing@localhost")
    assert message.sender == "Acme Billing <invoices@acme.example>"
    assert message.subject == "Your Acme Broadband bill ACME-2026-000007"
    assert message.body == "Hi Ann Example, AUD 75.90 by 2026-10-15.\n"


def test_a_name_the_template_does_not_know_is_an_error_naming_what_it_may_use() -> None:
    with pytest.raises(JetError, match="'totl' is undefined.*may use account, amount"):
        compose(Mail(subject="{{ totl }}"), INVOICE, "billing@localhost")


def test_the_catalog_refuses_a_template_that_does_not_parse() -> None:
    data = load_catalog_file(PROJECT_ROOT / "examples/catalogs/acme.yaml").to_dict()
    data["realm"]["mail"] = {"subject": "Invoice {{ number"}
    with pytest.raises(JetError, match=r"realm\.mail\.subject: not a Jinja2 template"):
        parse_catalog(data, "acme")
    data["realm"]["mail"] = {"from": "Acme <a@acme.example>", "body": "{{ number }}"}
    catalog = parse_catalog(data, "acme")
    assert catalog.realm.mail.sender == "Acme <a@acme.example>"
    assert parse_catalog(catalog.to_dict(), "again") == catalog  # stored and read back


def test_usage_warnings_say_how_much_of_what_in_which_cycle() -> None:
    assert cycle_words(date(2026, 9, 1), date(2026, 10, 1)) == "1–30 Sep"
    assert cycle_words(date(2026, 9, 15), date(2026, 10, 15)) == "15 Sep–14 Oct"
    payload = {
        "threshold": 80,
        "used": "401.5",
        "included": "500",
        "period_start": "2026-09-01",
        "period_end": "2026-10-01",
    }
    message = usage_warning(payload, "Ann", "Acme Broadband", "GB")
    assert "You have used 80 % of the 500 GB included in your plan for 1–30 Sep" in (
        message.get_content()
    )
